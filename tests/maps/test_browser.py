"""Maps in headless Chromium: offline, no JavaScript errors, not blank, Chinese text drawn.

The last tests check the checks: each shows that a broken page (online
tiles, a script error, a missing file, a blank page, no CJK font) is caught.
"""

from __future__ import annotations

import os
from pathlib import Path

import branca.colormap
import folium
import folium.plugins
import pytest
from browser import CHROMIUM, MapBrowser, PageReport, assert_not_blank, cjk_renders, serve_asgi
from playwright.sync_api import Browser
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gridsvc.maps.assets import STATIC_DIR, copy_static, use_vendored_assets

LABEL = ".grid-label"

NO_CJK_FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{cache}</cachedir></fontconfig>
"""


def _grid_map(grids: dict) -> folium.Map:
    """One grid with a permanent Chinese label, a marker and a legend."""
    m = folium.Map(location=[31.3325, 121.450], zoom_start=14, tiles=None)
    tooltip = folium.GeoJsonTooltip(
        ["name"], labels=False, permanent=True, direction="center", class_name=LABEL[1:]
    )
    style = {"fillColor": "#2ca02c", "color": "#1f77b4", "weight": 3, "fillOpacity": 0.4}
    folium.GeoJson(grids, style_function=lambda _: style, tooltip=tooltip).add_to(m)
    folium.Marker([31.3325, 121.445]).add_to(m)
    folium.plugins.Fullscreen().add_to(m)
    branca.colormap.LinearColormap(
        ["#2ca02c", "#d62728"], vmin=0, vmax=10, caption="案件数"
    ).add_to(m)
    return m


def _write_offline(m: folium.Map, path: Path) -> str:
    use_vendored_assets(m, "static/")
    m.save(str(path))
    copy_static(path)
    return path.as_uri()


def test_grid_map_offline_in_chromium(
    map_browser: MapBrowser, screenshots: Path, tmp_path: Path, grids: dict
) -> None:
    url = _write_offline(_grid_map(grids), tmp_path / "grid.html")
    report = PageReport(url, screenshots / "grid_map.png")
    with map_browser.page(url, report) as page:
        page.screenshot(path=str(report.screenshot), full_page=True)
        assert cjk_renders(page, LABEL), "第一网格 is drawn as tofu: is fonts-noto-cjk installed?"
    assert report.problems == []
    assert_not_blank(report.screenshot)


def test_every_plugin_served_by_the_app_offline(
    map_browser: MapBrowser, screenshots: Path, every_plugin_map: folium.Map
) -> None:
    """Served like the app serves maps: the page, and STATIC_DIR mounted at /static."""
    html = use_vendored_assets(every_plugin_map, "/static/").render()
    app = Starlette(
        routes=[
            Route("/map", lambda _: HTMLResponse(html)),
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        ]
    )
    with serve_asgi(app) as base:
        report = map_browser.open(f"{base}/map", screenshots / "every_plugin.png")
    assert report.problems == []
    assert_not_blank(report.screenshot)


def test_online_tiles_are_caught_offline(
    map_browser: MapBrowser, screenshots: Path, tmp_path: Path
) -> None:
    m = folium.Map(location=[31.33, 121.45], zoom_start=14)  # OpenStreetMap tiles
    report = map_browser.open(_write_offline(m, tmp_path / "osm.html"), screenshots / "osm.png")
    assert report.external_requests
    assert all("tile.openstreetmap.org" in url for url in report.external_requests)
    assert report.missing_tiles


def test_script_errors_and_missing_files_are_caught(
    map_browser: MapBrowser, screenshots: Path, tmp_path: Path
) -> None:
    page = tmp_path / "broken.html"
    page.write_text(
        '<script src="missing.js"></script><script>throw new Error("boom")</script>'
        '<script>console.error("logged")</script>',
        encoding="utf-8",
    )
    report = map_browser.open(page.as_uri(), screenshots / "broken.png", wait_for_map=False)
    assert any("boom" in e for e in report.page_errors)
    assert any("logged" in e for e in report.console_errors)
    assert any("missing.js" in r for r in report.failed_requests)


def test_blank_page_is_caught(map_browser: MapBrowser, screenshots: Path, tmp_path: Path) -> None:
    page = tmp_path / "blank.html"
    page.write_text("<body style='background:#fff'></body>", encoding="utf-8")
    report = map_browser.open(page.as_uri(), screenshots / "blank.png", wait_for_map=False)
    with pytest.raises(AssertionError, match="looks blank"):
        assert_not_blank(report.screenshot)


def test_tofu_is_caught_without_a_cjk_font(chromium: Browser, tmp_path: Path, grids: dict) -> None:
    """The same label in a Chromium that sees only DejaVu fonts renders as tofu."""
    config = tmp_path / "fonts.conf"
    config.write_text(NO_CJK_FONTCONFIG.format(cache=tmp_path / "fc-cache"), encoding="utf-8")
    url = _write_offline(_grid_map(grids), tmp_path / "grid.html")
    no_cjk = chromium.browser_type.launch(
        executable_path=str(CHROMIUM), env={**os.environ, "FONTCONFIG_FILE": str(config)}
    )
    try:
        report = PageReport(url, tmp_path / "tofu.png")
        with MapBrowser(no_cjk).page(url, report) as page:
            assert not cjk_renders(page, LABEL)
    finally:
        no_cjk.close()
