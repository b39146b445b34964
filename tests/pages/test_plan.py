"""The planner's page in Chromium: a messy draft's problems on the map, a real redraw's
impact (a grid merged into its neighbour moves the case inside it), publish and roll back
after confirmations that say what will move."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import httpx
import pytest
from browser import PageReport, assert_not_blank
from playwright.sync_api import Browser, BrowserContext, Page, expect
from walk import Site, watched

from gridsvc.config import DEMO_DIR

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def problems(artifacts: Path):
    found = PageReport(url="/plan", screenshot=artifacts / "plan-problems.png")
    yield found
    assert found.problems == []


def open_page(chromium: Browser, site: Site, problems: PageReport) -> tuple[BrowserContext, Page]:
    context = chromium.new_context(viewport={"width": 1366, "height": 900})
    page = watched(context, problems)
    page.goto(f"{site.base}/plan", wait_until="load")
    page.get_by_label("密钥").fill(site.keys["planner"])
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#versions li.published")).to_have_count(1)
    return context, page


def upload(page: Page, path: Path, label: str) -> None:
    page.get_by_text("上传调整后的图层").click()
    page.get_by_label("文件（GeoJSON、GeoPackage、Shapefile 压缩包）").set_input_files(str(path))
    page.get_by_label("说明").fill(label)
    page.get_by_role("button", name="上传并校验").click()
    expect(page.locator("#draft-title")).to_contain_text(label)


def merged_redraw(tmp_path: Path) -> tuple[Path, str, tuple[float, float]]:
    """The demo grids with one grid merged into a neighbour of the same unit; the file, the
    code that disappears and a point inside it (CGCS2000 lon, lat)."""
    grids = gpd.read_file(DEMO_DIR / "shifan.gpkg", layer="grids")
    metric = grids.to_crs(4549)
    for i, a in metric.iterrows():
        for j, b in metric.iterrows():
            same_unit = a["parent_code"] == b["parent_code"]
            if i < j and same_unit and a.geometry.intersection(b.geometry).length > 50:
                kept, gone = sorted([i, j], key=lambda k: grids.loc[k, "code"])
                point = grids.loc[gone].geometry.representative_point()
                out = grids.drop(index=gone).copy()
                out.loc[kept, "geometry"] = grids.loc[kept].geometry.union(grids.loc[gone].geometry)
                path = tmp_path / "grids_merged.geojson"
                out.to_file(path, driver="GeoJSON")
                return path, str(grids.loc[gone, "code"]), (point.x, point.y)
    raise AssertionError("no two neighbouring grids of one unit in the demo")


def test_a_messy_draft_shows_its_problems_and_cannot_be_published(
    chromium: Browser, site: Site, problems: PageReport
) -> None:
    context, page = open_page(chromium, site, problems)
    upload(page, DATA / "layer_grids_overlap.geojson", "重叠的草案")
    expect(page.locator("#blocking")).to_contain_text("个问题阻止发布")
    overlap = page.locator("#problems li.blocking button").filter(has_text="重叠")
    overlap.first.click()
    expect(page.locator('#map path[stroke="#c62828"]')).to_have_count(1)  # the overlap drawn
    expect(page.get_by_role("button", name="发布此草案")).to_be_disabled()
    page.screenshot(path=str(problems.screenshot))
    context.close()
    assert_not_blank(problems.screenshot)


def test_a_redraw_is_previewed_published_and_rolled_back(
    chromium: Browser, site: Site, problems: PageReport, artifacts: Path, tmp_path: Path
) -> None:
    path, gone, inside = merged_redraw(tmp_path)
    body = {"lon": inside[0], "lat": inside[1], "crs": "cgcs2000", "category": "CG01"}
    made = httpx.post(
        f"{site.base}/api/v1/reports",
        json=body,
        headers={"Authorization": f"Bearer {site.keys['patrol']}"},
    )
    assert made.status_code == 201 and made.json()["grid_code"] == gone
    context, page = open_page(chromium, site, problems)
    upload(page, path, "合并网格")
    expect(page.locator("#problems")).to_contain_text("未发现问题")
    expect(page.locator("#changes")).to_contain_text("删除 1")
    expect(page.locator("#moved")).to_contain_text(made.json()["number"])
    expect(page.locator("#moved-count")).to_contain_text("件在办案件将改派")
    page.screenshot(path=str(artifacts / "plan-impact.png"))
    page.get_by_role("button", name="发布此草案").click()
    expect(page.locator("#publish-text")).to_contain_text("1 个删除")
    page.get_by_role("button", name="确认发布").first.click()
    expect(page.locator("#message")).to_contain_text("已发布版本")
    expect(page.locator("#versions li.published")).to_contain_text("合并网格")
    moved = httpx.get(
        f"{site.base}/api/v1/cases/{made.json()['id']}",
        headers={"Authorization": f"Bearer {site.keys['dispatcher']}"},
    ).json()
    assert moved["grid_code"] != gone

    page.get_by_role("button", name="回退到上一版本").click()
    expect(page.locator("#rollback-text")).to_contain_text("确认回退")
    page.locator("#rollback-confirm").get_by_role("button", name="确认发布").click()
    expect(page.locator("#message")).to_contain_text("已回退")
    back = httpx.get(
        f"{site.base}/api/v1/cases/{made.json()['id']}",
        headers={"Authorization": f"Bearer {site.keys['dispatcher']}"},
    ).json()
    assert back["grid_code"] == gone
    page.screenshot(path=str(artifacts / "plan-rolled-back.png"))
    context.close()
