"""The whole closed loop in browsers, with no curl: a patrol reports from a basement
(offline), the report goes by itself when the phone is back online; the dispatcher sees
it arrive and dispatches it; the department's handler accepts it and feeds back with a
photo; the dispatcher verifies and closes; the patrol sees it closed."""

from __future__ import annotations

from pathlib import Path

from browser import PageReport
from PIL import Image
from playwright.sync_api import Browser, expect
from walk import PHONE, Site, fill_report, go_offline, inside_a_grid, signed_in


def test_report_dispatch_handle_verify_close(
    chromium: Browser, site: Site, artifacts: Path, tmp_path: Path
) -> None:
    problems = PageReport(url="/", screenshot=artifacts / "loop-patrol-closed.png")
    before, after = tmp_path / "before.jpg", tmp_path / "after.jpg"
    Image.new("RGB", (2000, 1500), (80, 90, 60)).save(before, "JPEG")
    Image.new("RGB", (2000, 1500), (200, 200, 210)).save(after, "JPEG")
    lat, lon = inside_a_grid(site)
    phone = {
        "viewport": PHONE,
        "geolocation": {"latitude": lat, "longitude": lon, "accuracy": 12},
        "permissions": ["geolocation"],
        "is_mobile": True,
    }
    with (
        signed_in(chromium, site, problems, "/patrol", "patrol", "#panel-new", **phone) as (
            patrol_context,
            patrol,
        ),
        signed_in(
            chromium,
            site,
            problems,
            "/dispatch",
            "dispatcher",
            "#live.on",
            viewport={"width": 1366, "height": 768},
        ) as (_, desk),
    ):
        # the patrol in the basement
        fill_report(patrol, before)
        go_offline(patrol_context, True)
        patrol.get_by_role("button", name="提交上报").click()
        expect(patrol.locator("#outbox-count")).to_have_text("1 条待发送")
        go_offline(patrol_context, False)
        expect(patrol.locator("#outbox")).to_be_hidden(timeout=20_000)
        number = patrol.locator("#report-message").inner_text().split("案件 ")[-1].strip()

        # the grid centre: it appears, is opened and dispatched to the department
        row = desk.locator("#list").get_by_role("option").filter(has_text=number)
        expect(row).to_be_visible(timeout=5_000)
        row.click()
        expect(desk.locator("#case-photos img")).to_have_count(1, timeout=15_000)  # the patrol's photo
        desk.locator("body").press("d")
        desk.get_by_label("派遣至").select_option("D10")
        desk.get_by_role("button", name="确定").click()
        expect(desk.locator("#case-status")).to_contain_text("已派遣")

    # the department (a grid-level matter of D10's is dispatched to D10 here)
    with signed_in(
        chromium,
        site,
        problems,
        "/handle",
        "handler-D10",
        "#cases li",
        viewport={"width": 1024, "height": 768},
    ) as (_, handler):
        handler.locator("#cases li").filter(has_text=number).get_by_role("button").click()
        handler.get_by_role("button", name="受理").click()
        expect(handler.locator("#case-status")).to_contain_text("处置中")
        handler.get_by_role("button", name="处置反馈").click()
        handler.get_by_label("处置结果").fill("已清运")
        handler.get_by_label("处置后照片（最多 3 张）").set_input_files(str(after))
        handler.get_by_role("button", name="提交").first.click()
        expect(handler.locator("#case-status")).to_contain_text("已处置")
        handler.screenshot(path=str(artifacts / "loop-handled.png"), full_page=True)

    # back at the centre: verify and close
    with signed_in(
        chromium,
        site,
        problems,
        "/dispatch",
        "dispatcher",
        "#live.on",
        viewport={"width": 1366, "height": 768},
    ) as (_, desk):
        desk.locator("#list").get_by_role("option").filter(has_text=number).click()
        expect(desk.locator("#case-photos img")).to_have_count(2, timeout=15_000)  # before and after
        desk.locator("body").press("v")
        expect(desk.locator("#case-status")).to_contain_text("已核查")
        desk.locator("body").press("c")
        expect(desk.locator("#case-status")).to_contain_text("已结案")
        desk.screenshot(path=str(artifacts / "loop-closed.png"))

    # and the patrol sees it closed
    with signed_in(chromium, site, problems, "/patrol", "patrol", "#panel-new", **phone) as (
        _,
        patrol,
    ):
        patrol.get_by_role("tab", name="我的上报").click()
        mine = patrol.locator("#mine li.case").filter(has_text=number)
        expect(mine).to_contain_text("已结案")
        patrol.screenshot(path=str(problems.screenshot), full_page=True)
    assert problems.problems == []
