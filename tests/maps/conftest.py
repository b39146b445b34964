"""Fixtures for the map tests: a map with every plugin gridsvc uses, and headless Chromium.

Browser fixtures share one Chromium per session; a test that uses them is
marked `browser` automatically (deselect with `-m "not browser"`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import branca.colormap
import folium
import folium.plugins
import pytest
from browser import CHROMIUM, MapBrowser
from playwright.sync_api import Browser, sync_playwright

BROWSER_FIXTURES = {"chromium", "map_browser"}

GRID = {
    "type": "Feature",
    "id": "0",
    "properties": {"name": "第一网格"},
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [
                [121.440, 31.325],
                [121.460, 31.325],
                [121.460, 31.340],
                [121.440, 31.340],
                [121.440, 31.325],
            ]
        ],
    },
}


GRIDS = {"type": "FeatureCollection", "features": [GRID]}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's headless chromium, driven by Playwright; one per test session."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/ensure-browser.sh` (make test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture
def map_browser(chromium: Browser) -> MapBrowser:
    """Opens pages offline by default; see `browser.MapBrowser.open` and `.page`."""
    return MapBrowser(chromium)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory for screenshots; pytest keeps it for the last three runs."""
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def grids() -> dict:
    """One grid, 第一网格, as a FeatureCollection (a fresh copy: folium may annotate it)."""
    return copy.deepcopy(GRIDS)


@pytest.fixture
def every_plugin_map() -> folium.Map:
    """A tile-less map with every folium element and plugin gridsvc's maps use."""
    m = folium.Map(location=[31.333, 121.450], zoom_start=14, tiles=None)
    tooltip = folium.GeoJsonTooltip(["name"], labels=False)
    folium.GeoJson(copy.deepcopy(GRIDS), tooltip=tooltip).add_to(m)
    folium.Marker([31.333, 121.450], icon=folium.Icon()).add_to(m)  # glyphicon
    rotated = folium.Icon(prefix="fa", icon="house", angle=30)  # font-awesome, rotate css
    folium.Marker([31.330, 121.445], icon=rotated).add_to(m)
    folium.plugins.HeatMap([[31.333, 121.450, 1.0], [31.331, 121.452, 0.5]]).add_to(m)
    folium.plugins.Fullscreen().add_to(m)
    folium.plugins.MousePosition().add_to(m)
    folium.plugins.TimestampedGeoJson(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [121.45, 31.33]},
                    "properties": {"times": ["2024-01-01", "2024-01-02"]},
                }
            ],
        }
    ).add_to(m)
    folium.plugins.TimeSliderChoropleth(
        copy.deepcopy(GRIDS),
        styledict={"0": {"1704067200": {"color": "#d62728", "opacity": 1}}},
    ).add_to(m)
    cases = folium.FeatureGroup("案件").add_to(m)
    patrols = folium.FeatureGroup("巡查").add_to(m)
    folium.plugins.GroupedLayerControl({"图层": [cases, patrols]}, exclusive_groups=False).add_to(m)
    branca.colormap.LinearColormap(
        ["#2ca02c", "#d62728"], vmin=0, vmax=10, caption="案件数"
    ).add_to(m)
    branca.colormap.StepColormap(["#2ca02c", "#ff7f0e", "#d62728"], vmin=0, vmax=3).add_to(m)
    return m
