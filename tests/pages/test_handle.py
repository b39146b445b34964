"""A department handler's page in Chromium: the department's cases with their countdown,
accept, feedback with a photo after, and a return with its reason."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from browser import PageReport, assert_not_blank
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect
from walk import Site, dispatched_case, watched


@pytest.fixture
def problems(artifacts: Path):
    found = PageReport(url="/handle", screenshot=artifacts / "handle.png")
    yield found
    assert found.problems == []


def open_page(chromium: Browser, site: Site, problems: PageReport) -> tuple[BrowserContext, Page]:
    context = chromium.new_context(viewport={"width": 1024, "height": 768})
    page = watched(context, problems)
    page.goto(f"{site.base}/handle", wait_until="load")
    page.get_by_label("密钥").fill(site.keys["handler"])
    page.get_by_role("button", name="登录").click()
    return context, page


def test_accept_and_feed_back_with_a_photo(
    chromium: Browser, site: Site, problems: PageReport, artifacts: Path, tmp_path: Path
) -> None:
    case = dispatched_case(site, "沿街违建雨棚")
    after = tmp_path / "after.jpg"
    Image.new("RGB", (2400, 1800), (120, 120, 200)).save(after, "JPEG")
    context, page = open_page(chromium, site, problems)
    item = page.locator("#cases li").filter(has_text=case["number"])
    expect(item).to_contain_text("已派遣")
    expect(item.locator(".countdown")).to_contain_text("剩余")
    expect(page.locator("#department")).to_have_text("综合行政执法队")
    page.screenshot(path=str(problems.screenshot), full_page=True)
    item.get_by_role("button").click()
    expect(page.locator("#case-facts")).to_contain_text("沿街违建雨棚")
    page.get_by_role("button", name="受理").click()
    expect(page.locator("#case-status")).to_contain_text("处置中")
    page.get_by_role("button", name="处置反馈").click()
    page.get_by_label("处置结果").fill("已拆除雨棚")
    page.get_by_label("处置后照片（最多 3 张）").set_input_files(str(after))
    expect(page.locator("#thumbs img")).to_have_count(1)
    page.get_by_role("button", name="提交").first.click()
    expect(page.locator("#case-status")).to_contain_text("已处置")
    expect(page.locator("#case-photos img")).to_have_count(1)
    expect(page.locator("#case-history")).to_contain_text("处置反馈 · 赵执法 · 已拆除雨棚")
    page.screenshot(path=str(artifacts / "handle-handled.png"), full_page=True)
    context.close()
    assert_not_blank(problems.screenshot)


def test_return_with_a_reason(chromium: Browser, site: Site, problems: PageReport) -> None:
    case = dispatched_case(site, "疑似群租")
    context, page = open_page(chromium, site, problems)
    page.locator("#cases li").filter(has_text=case["number"]).get_by_role("button").click()
    page.get_by_role("button", name="退回").click()
    page.get_by_label("退回理由（如：不属于本部门职责）").fill("属房管所职责")
    page.locator("#return-form").get_by_role("button", name="提交").click()
    expect(page.locator("#case-status")).to_contain_text("已退回")
    expect(page.locator("#case-actions button")).to_have_count(0)
    context.close()


def test_cases_dispatched_and_acted_on_by_others_show_without_a_refresh(
    chromium: Browser, site: Site, problems: PageReport, artifacts: Path
) -> None:
    """The handler keeps the page open: a case dispatched to the department appears in the
    list, and the open case tells that someone else just acted on it (the live queue)."""
    first = dispatched_case(site, "占道堆物")
    context, page = open_page(chromium, site, problems)
    page.locator("#cases li").filter(has_text=first["number"]).get_by_role("button").click()
    expect(page.locator("#case-status")).to_contain_text("已派遣")
    expect(page.locator("#live")).to_have_text("实时")
    with httpx.Client(base_url=site.base) as client:
        cancelled = client.post(
            f"/api/v1/cases/{first['id']}/cancel",
            json={"reason": "重复上报"},
            headers={
                "Authorization": f"Bearer {site.keys['dispatcher']}",
                "If-Match": f'"{first["etag"]}"',
            },
        )
        assert cancelled.status_code == 200, cancelled.text
    expect(page.locator("#case-message")).to_have_text("此案件刚有新的办理，已刷新")
    expect(page.locator("#case-status")).to_contain_text("已作废")
    page.get_by_role("button", name="← 返回列表").click()
    second = dispatched_case(site, "井盖缺失")  # the page is not reloaded: it must come by itself
    expect(page.locator("#cases li").filter(has_text=second["number"])).to_contain_text("已派遣")
    page.screenshot(path=str(artifacts / "handle-live.png"), full_page=True)
    context.close()


def test_a_photo_that_does_not_load_is_tried_again_and_then_offered_to_retry(
    chromium: Browser, site: Site, artifacts: Path, tmp_path: Path
) -> None:
    """A slow intranet or a busy server drops a photo's download: the page tries it again
    by itself; when it keeps failing the place says so, and 重试 loads it."""
    case = dispatched_case(site, "井盖缺失")
    photo = tmp_path / "before.jpg"
    Image.new("RGB", (400, 300), (30, 160, 90)).save(photo, "JPEG")
    with httpx.Client(base_url=site.base) as client:
        sent = client.post(
            f"/api/v1/cases/{case['id']}/attachments",
            files={"file": ("before.jpg", photo.read_bytes(), "image/jpeg")},
            headers={"Authorization": f"Bearer {site.keys['patrol']}"},
        )
        assert sent.status_code == 201, sent.text
    report = PageReport(url="/handle", screenshot=artifacts / "handle-photo-retry.png")
    context, page = open_page(chromium, site, report)
    failures = {"left": 2}

    def flaky(route) -> None:
        if failures["left"] > 0:
            failures["left"] -= 1
            route.fulfill(status=503, body="busy")
        else:
            route.fallback()

    page.route("**/attachments/*", flaky)
    item = page.locator("#cases li").filter(has_text=case["number"]).get_by_role("button")
    item.click()
    expect(page.locator("#case-photos img")).to_have_count(1)
    assert failures["left"] == 0  # two failed downloads, then the third showed it

    failures["left"] = 10**6  # now it keeps failing
    page.get_by_role("button", name="← 返回").click()
    item.click()  # the case opened again
    place = page.locator("#case-photos figure")
    expect(place).to_contain_text("照片未能加载")
    expect(place.locator("img")).to_have_count(0)
    page.screenshot(path=str(report.screenshot), full_page=True)
    failures["left"] = 0
    place.get_by_role("button", name="重试").click()
    expect(place.locator("img")).to_have_count(1)
    expect(place).not_to_contain_text("照片未能加载")
    context.close()
    assert report.page_errors == []
