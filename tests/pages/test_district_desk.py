"""The workbench in a district (大联动), in Chromium: a town's centre refers a case up, the
district centre sees it and sends it back, and each sees only what is theirs.

The district is tests/api/district.py's: the demo cut into 甲镇 (T1) and 乙镇 (T2).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser import PageReport, assert_not_blank, serve_asgi
from playwright.sync_api import Browser, Page, expect
from walk import Site, signed_in

from gridsvc.api.app import create_app
from gridsvc.config import Settings
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key
from gridsvc.services.setup import load_demo
from gridsvc.store.engine import make_engine, upgrade
from tests.api.district import T1, T2, district_dir, point_in

DESK = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("district-pages")
    settings = Settings(
        database_url=f"sqlite:///{directory / 'g.db'}",
        demo_dir=district_dir(directory),
        attachments_dir=directory / "attachments",
        rate_per_minute=1_000_000,
    )
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    load_demo(engine, settings.demo_dir, history=False)
    keys = {
        "town": create_key(engine, Role.DISPATCHER, "甲镇调度", town=T1),
        "district": create_key(engine, Role.DISPATCHER, "区调度"),
    }
    with serve_asgi(create_app(settings)) as base:
        yield Site(base, engine, settings, keys)


@pytest.fixture
def problems(artifacts: Path) -> Iterator[PageReport]:
    found = PageReport(url="/dispatch", screenshot=artifacts / "district-refer.png")
    yield found
    assert found.problems == []


def _report(site: Site, unit: str, text: str) -> dict:
    lon, lat = point_in(unit)
    body = {"lon": lon, "lat": lat, "crs": "cgcs2000", "category": "CG04", "description": text}
    headers = {"Authorization": f"Bearer {site.keys['district']}"}
    response = httpx.post(f"{site.base}/api/v1/reports", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _row(page: Page, case: dict):  # type: ignore[no-untyped-def]
    return page.locator("#list").get_by_role("option").filter(has_text=case["number"])


def test_a_town_refers_up_and_the_district_sends_it_back(
    chromium: Browser, district: Site, problems: PageReport, artifacts: Path
) -> None:
    ours = _report(district, "310106113U1", "多部门交叉的占道经营")
    theirs = _report(district, "310106113U2", "乙镇的案件")
    assert (ours["town_code"], theirs["town_code"]) == (T1, T2)
    with signed_in(
        chromium, district, problems, "/dispatch", "town", "#live.on", viewport=DESK
    ) as (
        _,
        page,
    ):
        expect(_row(page, ours)).to_be_visible()
        expect(_row(page, theirs)).to_have_count(0)  # the other town's case is not listed
        _row(page, ours).click()
        page.get_by_role("button", name="提交区中心（大联动） (U)").click()
        page.get_by_label("理由").fill("涉及多个区级部门，请区中心协调")
        page.get_by_role("button", name="确定").click()
        expect(page.locator("#case-status")).to_contain_text("已提交区中心")
        expect(page.locator("#case-actions")).not_to_contain_text("派遣")  # the district's now
        expect(page.locator("#case-history")).to_contain_text("甲镇中心")
        expect(page.locator("#case-facts")).to_contain_text("示范区中心")  # who holds it
        expect(_row(page, ours)).to_contain_text("已提交区中心")
        page.screenshot(path=str(problems.screenshot))
    assert_not_blank(problems.screenshot)
    with signed_in(
        chromium, district, problems, "/dispatch", "district", "#live.on", viewport=DESK
    ) as (_, page):
        expect(_row(page, theirs)).to_be_visible()  # the district sees every town
        _row(page, ours).click()
        expect(page.locator("#case-status")).to_contain_text("已提交区中心")
        page.locator("body").press("b")
        page.get_by_label("理由").fill("属镇级事项，由甲镇派遣")
        page.get_by_role("button", name="确定").click()
        expect(page.locator("#case-status")).to_contain_text("已退回")
        expect(page.locator("#case-history")).to_contain_text("示范区中心")
        expect(page.locator("#case-facts")).to_contain_text("甲镇中心")
        expect(_row(page, ours)).to_contain_text("已退回")
        page.screenshot(path=str(artifacts / "district-sent-back.png"))
