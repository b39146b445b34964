"""The dispatcher's workbench in Chromium at 1366 × 768, walked as the grid centre would.

A report sent from the field appears in the queue within 2 s with no reload;
the case opens with its facts and history; the D key dispatches it to the
suggested team; two dispatchers on one case: the second reads who came
first ("已由 王调度 派遣"), never a silent overwrite; a duplicate is shown side
by side and merged. No console error, no request off this machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from browser import PageReport, assert_not_blank, cjk_renders
from playwright.sync_api import Browser, Page, expect
from walk import Site, signed_in

from gridsvc.core.layers import LayerKind
from gridsvc.services.setup import load_reference

DESK = {"width": 1366, "height": 768}


def point(site: Site, index: int) -> tuple[float, float]:
    """(lon, lat) well inside the demo's grid number ``index``."""
    grids = load_reference(site.engine).town.layers[LayerKind.GRIDS].frame
    p = grids.geometry.iloc[index].representative_point()
    return p.x, p.y


def report(site: Site, at: tuple[float, float], category: str = "CG04", text: str = "") -> dict:
    body = {
        "lon": at[0],
        "lat": at[1],
        "crs": "cgcs2000",
        "category": category,
        "description": text,
    }
    headers = {"Authorization": f"Bearer {site.keys['patrol']}"}
    response = httpx.post(f"{site.base}/api/v1/reports", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


@contextmanager
def desk(
    chromium: Browser, site: Site, report_: PageReport, who: str = "dispatcher"
) -> Iterator[Page]:
    """A signed-in workbench in a fresh browser (its own storage, like another PC)."""
    with signed_in(chromium, site, report_, "/dispatch", who, "#live.on", viewport=DESK) as (
        _,
        page,
    ):
        yield page


def row(page: Page, case: dict):
    return page.locator("#list").get_by_role("option").filter(has_text=case["number"])


@pytest.fixture
def problems(artifacts: Path) -> Iterator[PageReport]:
    found = PageReport(url="/dispatch", screenshot=artifacts / "dispatch.png")
    yield found
    assert found.problems == []


def test_a_new_report_appears_live_and_is_dispatched_by_key(
    chromium: Browser, site: Site, problems: PageReport, artifacts: Path
) -> None:
    with desk(chromium, site, problems) as page:
        assert cjk_renders(page, ".bar h1")
        case = report(site, point(site, 0), text="垃圾桶满溢")
        expect(row(page, case)).to_be_visible(timeout=2_000)  # no reload
        expect(page.locator("#fresh-note")).to_contain_text(f"新案件 {case['number']}")
        row(page, case).click()
        expect(page.locator("#case-title")).to_have_text(f"{case['number']} 垃圾暴露")
        expect(page.locator("#case-facts")).to_contain_text("垃圾桶满溢")
        page.screenshot(path=str(problems.screenshot))
        page.locator("body").press("d")
        expect(page.get_by_label("派遣至")).to_be_visible()
        page.get_by_role("button", name="确定").click()
        expect(page.locator("#case-message")).to_have_text(f"已派遣：{case['number']}")
        expect(page.locator("#case-status")).to_contain_text("已派遣")
        expect(page.locator("#case-history")).to_contain_text("派遣 · 王调度")
        expect(row(page, case)).to_contain_text("已派遣")
        page.screenshot(path=str(artifacts / "dispatch-dispatched.png"))
    assert_not_blank(problems.screenshot)
    with httpx.Client(base_url=site.base) as client:
        got = client.get(
            f"/api/v1/cases/{case['id']}",
            headers={"Authorization": f"Bearer {site.keys['dispatcher']}"},
        ).json()
    assert got["status"] == "dispatched" and got["assignee"] == case["assignee"]


def test_the_second_dispatcher_reads_who_came_first(
    chromium: Browser, site: Site, problems: PageReport, artifacts: Path
) -> None:
    case = report(site, point(site, 1))
    with desk(chromium, site, problems) as first, desk(chromium, site, problems) as second:
        for page in (first, second):
            row(page, case).click()
            expect(page.locator("#case-status")).to_contain_text("待派遣")
        # the second is writing why it cancels while the first dispatches
        second.get_by_role("button", name="作废 (X)").click()
        second.get_by_label("理由").fill("误报")
        first.locator("body").press("d")
        first.get_by_role("button", name="确定").click()
        expect(first.locator("#case-status")).to_contain_text("已派遣")
        expect(second.locator("#case-message")).to_have_text("此案件刚被他人更新")  # live
        second.get_by_role("button", name="确定").click()
        expect(second.locator("#case-message")).to_contain_text("已由 王调度 派遣")
        expect(second.locator("#case-status")).to_contain_text("已派遣")
        second.screenshot(path=str(artifacts / "dispatch-412.png"))
    # the 412 is answered in the console as a failed request, which is the point here
    problems.console_errors = [m for m in problems.console_errors if "412" not in m]


def test_a_duplicate_is_shown_side_by_side_and_merged(
    chromium: Browser, site: Site, problems: PageReport, artifacts: Path
) -> None:
    at = point(site, 2)
    older = report(site, at, "CG05", "楼道口堆放建筑垃圾")
    newer = report(site, at, "CG05", "楼道口有人堆了一堆砖")
    with desk(chromium, site, problems) as page:
        row(page, newer).click()
        pair = page.locator("#case-duplicates .pair")
        expect(pair).to_contain_text("楼道口堆放建筑垃圾")
        expect(pair).to_contain_text("楼道口有人堆了一堆砖")
        page.screenshot(path=str(artifacts / "dispatch-duplicate.png"))
        pair.get_by_role("button", name=f"将本案合并到 {older['number']}").click()
        expect(page.locator("#case-status")).to_contain_text("重复案件")
        expect(row(page, newer)).to_have_count(0)  # a duplicate leaves the open queue
        expect(row(page, older)).to_be_visible()


def test_keys_move_through_the_queue_and_filters_narrow_it(
    chromium: Browser, site: Site, problems: PageReport, artifacts: Path
) -> None:
    report(site, point(site, 3), "CG01")
    with desk(chromium, site, problems) as page:
        options = page.locator("#list").get_by_role("option")
        expect(options.first).to_be_visible()
        total = options.count()
        assert total >= 2
        page.locator("body").press("j")
        expect(options.nth(0)).to_have_attribute("aria-selected", "true")
        page.locator("body").press("j")
        expect(options.nth(1)).to_have_attribute("aria-selected", "true")
        page.locator("body").press("k")
        expect(options.nth(0)).to_have_attribute("aria-selected", "true")
        page.get_by_label("类别").select_option(label="乱设摊")
        expect(page.locator("#count")).not_to_have_text(f"共 {total} 件")
        for text in options.all_inner_texts():
            assert "乱设摊" in text
        page.get_by_role("tab", name="督办").click()
        expect(page.get_by_role("tab", name="督办")).to_have_attribute("aria-selected", "true")
        page.screenshot(path=str(artifacts / "dispatch-filtered.png"))


def test_a_patrol_key_is_not_let_in(chromium: Browser, site: Site, problems: PageReport) -> None:
    context = chromium.new_context(viewport=DESK)
    page = context.new_page()
    page.on("pageerror", lambda e: problems.page_errors.append(str(e)))
    page.goto(f"{site.base}/dispatch", wait_until="load")
    page.get_by_label("密钥").fill(site.keys["patrol"])
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#signin-message")).to_have_text("此密钥的角色不能使用本页面")
    assert page.evaluate("localStorage.getItem('gridsvc.key')") is None
    context.close()
