"""The real maps, served by the real app over the demo town with its year of cases, in Chromium.

Each page must load with no JavaScript error and no request leaving the
machine, draw something, and draw its Chinese labels with real glyphs. The
layers leaders click (time view, heat, cells) are switched on and used.
Set GRIDSVC_KEEP_SCREENSHOTS=DIR to keep the screenshots (the README's
come from maps/ this way).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from browser import MapBrowser, PageReport, assert_not_blank, cjk_renders, serve_asgi

from gridsvc.api.app import create_app
from gridsvc.config import DEMO_DIR, Settings
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key
from gridsvc.services.maps import Look, MapService, write
from gridsvc.services.planning import Planning
from gridsvc.services.setup import load_demo, load_reference
from gridsvc.store import reference
from gridsvc.store.engine import make_engine, upgrade


class Site:
    def __init__(self, base: str, settings: Settings, leader: str, planner: str) -> None:
        self.base, self.settings, self.leader, self.planner = base, settings, leader, planner


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("site")
    settings = Settings(
        database_url=f"sqlite:///{directory / 'g.db'}",
        attachments_dir=directory / "attachments",
        rate_per_minute=1_000_000,
    )
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    load_demo(engine, DEMO_DIR, history=True)
    leader = create_key(engine, Role.LEADER, "leader")
    planner = create_key(engine, Role.PLANNER, "planner")
    with serve_asgi(create_app(settings)) as base:
        yield Site(base, settings, leader, planner)


def keep(png: Path) -> None:
    target = os.environ.get("GRIDSVC_KEEP_SCREENSHOTS")
    if target:
        shutil.copy(png, Path(target) / png.name)


def test_coverage_page(site: Site, map_browser: MapBrowser, screenshots: Path) -> None:
    url = f"{site.base}/maps/coverage?api_key={site.leader}"
    report = PageReport(url, screenshots / "coverage.png")
    with map_browser.page(url, report) as page:
        assert page.locator(".gs-label").count() == 14  # a name on every grid
        assert cjk_renders(page, ".gs-label")
        legend = page.locator(".leaflet-control.gs-legend").filter(has_text="责任网格")
        assert "汶水街区工作站" in legend.inner_text()  # teams by name, not code
        page.screenshot(path=str(report.screenshot))
    assert report.problems == []
    assert_not_blank(report.screenshot)
    keep(report.screenshot)


def test_hotspot_page_with_every_layer_used(
    site: Site, map_browser: MapBrowser, screenshots: Path
) -> None:
    url = f"{site.base}/maps/hotspots?api_key={site.leader}"
    report = PageReport(url, screenshots / "hotspots.png")
    with map_browser.page(url, report) as page:
        legend = page.locator(".gs-legend").filter(has_text="热点 99% 置信")
        assert legend.count() >= 1  # the Gi* legend is up
        assert cjk_renders(page, ".gs-panel summary b")
        page.screenshot(path=str(report.screenshot))
        for name in ("热点随时间变化", "案件热力 (聚合)", "案件数"):
            page.locator(".leaflet-control-layers").get_by_text(name, exact=True).click()
        slider = page.locator(".gs-slider input")
        slider.evaluate("el => { el.value = 0; el.dispatchEvent(new Event('input')); }")
        period = page.locator(".gs-period").inner_text()
        assert len(period) == 7 and period[4] == "-"  # e.g. 2025-11: the first month shown
        page.wait_for_timeout(300)
        page.screenshot(path=str(screenshots / "hotspots_layers.png"))
    assert report.problems == []
    assert_not_blank(report.screenshot)
    assert_not_blank(screenshots / "hotspots_layers.png")
    keep(report.screenshot)


def test_english_hotspot_page(site: Site, map_browser: MapBrowser, screenshots: Path) -> None:
    url = f"{site.base}/maps/hotspots?api_key={site.leader}&lang=en&period=week&category=CG01"
    report = PageReport(url, screenshots / "hotspots_en.png")
    with map_browser.page(url, report) as page:
        assert "Case hotspots" in page.locator(".gs-title").inner_text()
        assert page.get_by_text("Hotspots over time", exact=True).count() == 1
        page.screenshot(path=str(report.screenshot))
    assert report.problems == []


def merged_draft(site: Site) -> int:
    """A redraw: grid G02 merged into G01, published as nothing yet (a draft)."""
    engine = make_engine(site.settings.database_url)
    with engine.connect() as conn:
        vid = reference.active_versions(conn)[LayerKind.GRIDS]
        grids = reference.load_layer(conn, LayerKind.GRIDS, vid).frame.copy()
    g1 = grids.index[grids["code"] == "310106113G01"][0]
    g2 = grids.index[grids["code"] == "310106113G02"][0]
    grids.loc[g1, "geometry"] = shapely.union(grids.loc[g1, "geometry"], grids.loc[g2, "geometry"])
    draft = Planning(engine).add_draft(Layer(LayerKind.GRIDS, grids.drop(index=g2)), "merge G02")
    return int(draft["id"])


def test_impact_page(site: Site, map_browser: MapBrowser, screenshots: Path) -> None:
    draft = merged_draft(site)
    url = f"{site.base}/maps/impact/grids/{draft}?api_key={site.planner}"
    report = PageReport(url, screenshots / "impact.png")
    with map_browser.page(url, report) as page:
        panel = page.locator(".gs-panel").inner_text()
        assert "改变归属的案件" in panel and "共 0" not in panel  # cases of G02 move
        page.screenshot(path=str(report.screenshot))
    assert report.problems == []
    assert_not_blank(report.screenshot)
    keep(report.screenshot)


def test_map_files_open_from_disk_offline(
    site: Site, map_browser: MapBrowser, screenshots: Path, tmp_path: Path
) -> None:
    engine = make_engine(site.settings.database_url)
    service = MapService(engine, load_reference(engine).matters)
    page = write(service.coverage(Look()), tmp_path / "maps" / "coverage.html")
    report = map_browser.open(page.as_uri(), screenshots / "coverage_file.png")
    assert report.problems == []
    assert_not_blank(report.screenshot)


def test_dashboard_page(site: Site, map_browser: MapBrowser, screenshots: Path) -> None:
    url = f"{site.base}/dashboard?api_key={site.leader}&from=2026-03-01&to=2026-03-31&by=team"
    report = PageReport(url, screenshots / "dashboard.png")
    map_browser.viewport = {"width": 1400, "height": 900}
    with map_browser.page(url, report, wait_for_map=False) as page:
        frame = page.frame_locator("iframe")
        frame.locator(".gs-title").wait_for()  # the hotspot map of the same period loaded
        assert "2026-03-01 – 2026-03-31" in frame.locator(".gs-title").inner_text()
        header = page.locator("thead th").all_inner_texts()
        assert "按期结案率" in header and "应结案数" in header
        body = page.locator("tbody tr")
        assert body.count() == 7  # six workstations and the whole town
        assert "合计" in body.last.inner_text()
        assert cjk_renders(page, "h1")
        page.screenshot(path=str(report.screenshot), full_page=True)
    assert report.problems == []
    assert_not_blank(report.screenshot)
    keep(report.screenshot)
