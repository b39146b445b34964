"""The patrol's phone app in Chromium, walked as a patrol would on a 360 × 640 phone.

Sign in with a key, let the GPS fix place the pin, search a category in
Chinese, add a photo, and submit while the phone is offline: the report waits
on the phone ("1 条待发送") and the server has nothing; back online, it is sent
by itself, once, with its photo, and shows under "my reports". A lost answer
(the server made the case, the phone never heard) is retried with the same
Idempotency-Key and still makes one case. No console error, no request off
this machine.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from browser import PageReport, assert_not_blank, cjk_renders
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from sqlalchemy import func, select
from walk import PHONE, Site, fill_report, go_offline, inside_a_grid, watched

from gridsvc.store import schema


def count(site: Site, table: str) -> int:
    with site.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(schema.metadata.tables[table])
            ).scalar_one()
        )


@contextmanager
def phone(
    chromium: Browser, site: Site, report: PageReport, service_workers: str = "allow"
) -> Iterator[tuple[BrowserContext, Page]]:
    """A phone-sized context with a GPS fix, recording every problem into ``report``."""
    lat, lon = inside_a_grid(site)
    context = chromium.new_context(
        viewport=PHONE,
        geolocation={"latitude": lat, "longitude": lon, "accuracy": 12},
        permissions=["geolocation"],
        is_mobile=True,
        has_touch=True,
        service_workers=service_workers,
    )

    page = watched(context, report)
    try:
        yield context, page
    finally:
        context.close()


def sign_in(page: Page, site: Site, key: str) -> None:
    page.goto(f"{site.base}/patrol", wait_until="load")
    page.get_by_label("密钥").fill(key)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("tab", name="新上报")).to_be_visible()


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A 3000 × 2000 camera-sized JPEG the app must shrink before sending."""
    path = tmp_path / "IMG_0001.jpg"
    image = Image.new("RGB", (3000, 2000), (90, 140, 60))
    for x in range(0, 3000, 100):
        image.paste((200, 40, 40), (x, 0, x + 50, 2000))
    image.save(path, "JPEG", quality=92)
    return path


def test_offline_report_is_kept_then_sent_once_with_its_photo(
    chromium: Browser, site: Site, photo: Path, artifacts: Path
) -> None:
    report = PageReport(url=f"{site.base}/patrol", screenshot=artifacts / "patrol-offline.png")
    cases_before = count(site, "cases")
    with phone(chromium, site, report) as (context, page):
        sign_in(page, site, site.keys["patrol"])
        assert cjk_renders(page, ".bar h1")
        fill_report(page, photo)
        go_offline(context, True)
        page.get_by_role("button", name="提交上报").click()
        expect(page.locator("#outbox-count")).to_have_text("1 条待发送")
        expect(page.locator("#net")).to_have_text("当前离线")
        page.screenshot(path=str(report.screenshot), full_page=True)
        assert count(site, "cases") == cases_before  # nothing reached the server

        page.reload(wait_until="load")  # the phone restarts the app in the basement
        expect(page.locator("#outbox-count")).to_have_text("1 条待发送")

        go_offline(context, False)
        expect(page.locator("#outbox")).to_be_hidden(timeout=20_000)
        expect(page.locator("#report-message")).to_contain_text("已发送")
        assert count(site, "cases") == cases_before + 1
        assert count(site, "attachments") == 1

        page.get_by_role("tab", name="我的上报").click()
        mine = page.locator("#mine li.case")
        expect(mine).to_have_count(1)
        expect(mine.first).to_contain_text("待派遣")
        page.screenshot(path=str(artifacts / "patrol-my-reports.png"), full_page=True)
    assert_not_blank(report.screenshot)
    assert report.problems == []


def test_photo_is_downscaled_on_the_phone(site: Site) -> None:
    """The stored photo of the test above is the shrunk one (long edge 1600 px), a JPEG."""
    stored = [p for p in Path(site.settings.attachments_dir).rglob("*") if p.is_file()]
    assert stored, "the offline test stores a photo first"
    with Image.open(io.BytesIO(stored[-1].read_bytes())) as image:
        assert image.format == "JPEG"
        assert max(image.size) == 1600


def test_a_lost_answer_is_retried_into_the_same_case(
    chromium: Browser, site: Site, photo: Path, artifacts: Path
) -> None:
    report = PageReport(url=f"{site.base}/patrol", screenshot=artifacts / "patrol-retry.png")
    cases_before = count(site, "cases")
    lost = []

    def lose_first_answer(route: Route) -> None:
        if route.request.method == "POST" and not lost:
            route.fetch()  # the server takes the report...
            lost.append(route.request.headers.get("idempotency-key"))
            route.abort("connectionreset")  # ...and the phone never hears back
        else:
            route.fallback()

    with phone(chromium, site, report, service_workers="block") as (context, page):
        sign_in(page, site, site.keys["patrol"])
        page.route("**/api/v1/reports", lose_first_answer)
        fill_report(page, photo)
        page.get_by_role("button", name="提交上报").click()
        expect(page.locator("#outbox-count")).to_have_text("1 条待发送")  # the answer was lost
        expect(page.locator("#outbox")).to_be_hidden(timeout=20_000)  # the retry got the case
        expect(page.locator("#report-message")).to_contain_text("已发送")
        page.screenshot(path=str(report.screenshot), full_page=True)
    assert lost and lost[0]
    assert count(site, "cases") == cases_before + 1
    report.console_errors = [m for m in report.console_errors if "ERR_CONNECTION_RESET" not in m]
    assert report.problems == []


def test_a_wrong_key_is_told_at_once_and_not_kept(
    chromium: Browser, site: Site, artifacts: Path
) -> None:
    report = PageReport(url=f"{site.base}/patrol", screenshot=artifacts / "patrol-bad-key.png")
    with phone(chromium, site, report) as (_, page):
        page.goto(f"{site.base}/patrol", wait_until="load")
        page.get_by_label("密钥").fill("gsk_not_a_key")
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("alert").first).to_have_text("密钥无效或已吊销")
        assert page.evaluate("localStorage.getItem('gridsvc.key')") is None
        page.screenshot(path=str(report.screenshot), full_page=True)
    report.console_errors = [m for m in report.console_errors if "401" not in m]
    assert report.problems == []


def test_english_on_request(chromium: Browser, site: Site, artifacts: Path) -> None:
    report = PageReport(url=f"{site.base}/patrol?lang=en", screenshot=artifacts / "patrol-en.png")
    with phone(chromium, site, report) as (_, page):
        page.goto(f"{site.base}/patrol?lang=en", wait_until="load")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        page.screenshot(path=str(report.screenshot), full_page=True)
    assert report.problems == []


def test_another_patrol_does_not_see_my_reports(chromium: Browser, site: Site) -> None:
    report = PageReport(url=f"{site.base}/patrol", screenshot=Path("/dev/null"))
    with phone(chromium, site, report) as (_, page):
        sign_in(page, site, site.keys["patrol2"])
        page.get_by_role("tab", name="我的上报").click()
        expect(page.locator("#mine")).to_contain_text("还没有上报")
    assert report.problems == []


def test_a_small_loop_matter_is_fixed_on_the_spot(
    chromium: Browser, site: Site, photo: Path, artifacts: Path
) -> None:
    """自行处置: the report and the fix with its photo after go together; the case waits for
    the centre's verification. A town matter with the box ticked is reported as usual."""
    report = PageReport(url=f"{site.base}/patrol", screenshot=artifacts / "patrol-fixed.png")
    with phone(chromium, site, report) as (_, page):
        sign_in(page, site, site.keys["patrol"])
        fill_report(page, photo)  # 垃圾暴露: a grid-level matter
        page.get_by_label("我已当场处置（自行处置，限网格级事项）").check()
        page.get_by_label("处置结果").fill("已清理")
        page.get_by_label("处置后照片（最多 3 张）").set_input_files(str(photo))
        expect(page.locator("#after-thumbs img")).to_have_count(1)
        page.screenshot(path=str(report.screenshot), full_page=True)
        page.get_by_role("button", name="提交上报").click()
        expect(page.locator("#report-message")).to_contain_text("已自行处置")
        number = page.locator("#report-message").inner_text().split("案件 ")[1].split("，")[0]

        page.get_by_label("问题类别", exact=True).fill("违章建筑")  # a town matter
        page.get_by_label("请选择问题类别").select_option(index=0)
        page.get_by_label("我已当场处置（自行处置，限网格级事项）").check()
        page.get_by_label("处置结果").fill("已劝阻")
        page.get_by_role("button", name="提交上报").click()
        expect(page.locator("#report-message")).to_contain_text("此类问题须由部门处置")
        town = page.locator("#report-message").inner_text().split("案件 ")[1]
    with site.engine.connect() as conn:
        rows = dict(
            conn.execute(
                select(schema.cases.c.number, schema.cases.c.status).where(
                    schema.cases.c.number.in_([number, town])
                )
            ).all()
        )
    assert rows == {number: "handled", town: "reported"}
    assert report.problems == []


def test_my_grid_and_its_open_cases_are_on_the_map(
    chromium: Browser, site: Site, artifacts: Path
) -> None:
    """A patrol bound to a grid sees its outline and the grid's open cases (a colleague's too),
    each a dot in its supervision colour, and a line saying how many there are."""
    from gridsvc.core.layers import LayerKind
    from gridsvc.core.workflow import Role
    from gridsvc.services.keys import create_key
    from gridsvc.services.setup import load_reference

    grids = load_reference(site.engine).town.layers[LayerKind.GRIDS].frame
    grid = grids.iloc[0]
    key = create_key(site.engine, Role.PATROL, "周网格", grid=str(grid["code"]))
    lat, lon = inside_a_grid(site)
    import httpx
    import shapely

    # somewhere else in the grid than the phone's fix, so the pin does not cover the dot
    away = grid.geometry.difference(shapely.Point(lon, lat).buffer(0.0008)).point_on_surface()
    body = {
        "lon": away.x,
        "lat": away.y,
        "crs": "cgcs2000",
        "category": "CG01",
        "description": "占道",
    }
    with httpx.Client(base_url=site.base) as client:
        made = client.post(
            "/api/v1/reports", json=body, headers={"Authorization": f"Bearer {site.keys['patrol']}"}
        )
        assert made.status_code == 201, made.text
        open_here = client.get(
            "/api/v1/me/grid", headers={"Authorization": f"Bearer {key}"}
        ).json()["features"][1:]
    report = PageReport(url=f"{site.base}/patrol", screenshot=artifacts / "patrol-my-grid.png")
    with phone(chromium, site, report) as (_, page):
        sign_in(page, site, key)
        expect(page.locator("#my-grid")).to_contain_text(
            f"我的网格 {grid['name']}：在办案件 {len(open_here)} 件"
        )
        dots = page.locator(".leaflet-mygrid-pane path.leaflet-interactive")
        expect(dots).to_have_count(len(open_here))
        dots.first.hover()
        expect(page.locator(".leaflet-tooltip")).to_contain_text(made.json()["number"][:4])
        page.screenshot(path=str(report.screenshot), full_page=True)
    assert report.problems == []
