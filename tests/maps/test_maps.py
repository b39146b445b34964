"""The coverage, hotspot and impact maps as a leader or planner would check them.

Built from the demo town's layers and cases placed by hand, rendered to
HTML, and read back: the labels, the counts in the tooltips, the layers
offered, the GCJ-02 shift on an AMap basemap, and no link leaving the machine.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from page_urls import external_urls
from test_areas import decode

from gridsvc.core.crs import wgs84_to_gcj02
from gridsvc.core.errors import InvalidInput
from gridsvc.core.layers import LayerKind
from gridsvc.maps.basemaps import Basemap, TileOptions, parse_basemap
from gridsvc.maps.coverage import CoverageOptions, coverage_map
from gridsvc.maps.hotspots import HotspotOptions, hotspot_map
from gridsvc.maps.impact import ImpactOptions, impact_map
from gridsvc.services.maps import render
from gridsvc.town import Town, load_town_file

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo" / "shifan.gpkg"


@pytest.fixture(scope="module")
def town() -> Town:
    return load_town_file(DEMO)


@pytest.fixture(scope="module")
def cases(town: Town) -> pd.DataFrame:
    """60 cases at the representative point of grid G03, 2 in each other grid, over two months."""
    grids = town.layers[LayerKind.GRIDS].frame
    rows = []
    for code, geom in zip(grids["code"], grids.geometry, strict=True):
        point = shapely.point_on_surface(geom)
        n = 60 if code.endswith("G03") else 2
        for k in range(n):
            month = "2026-04-10" if k % 2 else "2026-05-10"
            rows.append((point.x, point.y, code, "CG01" if k % 3 else "AQ01", month))
    frame = pd.DataFrame(rows, columns=["lon", "lat", "grid_code", "category", "created_at"])
    frame["created_at"] = pd.to_datetime(frame["created_at"]).dt.tz_localize("Asia/Shanghai")
    return frame


def unescaped(html: str) -> str:
    """The page with JSON's \\uXXXX escapes read back (folium escapes layer names so)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html)


def payloads(html: str, name: str) -> list[dict]:
    """The JSON payloads of our area elements (``var area_data_x = {...};``) in the page."""
    found = re.findall(r"var (" + name + r"_[0-9a-f]+) = (\{.*?\});\n", html)
    return [json.loads(body) for _, body in found]


def test_coverage_speaks_chinese_by_default_and_english_when_asked(town: Town) -> None:
    zh = render(coverage_map(town.layers, CoverageOptions()))
    assert "网格覆盖图" in zh and "第一责任网格" in zh and "责任工作站" in zh
    en = render(coverage_map(town.layers, CoverageOptions(lang="en")))
    assert "Grid coverage" in en and "Responsibility Grid 1" in en
    assert "网格覆盖图" not in en and "第一责任网格" not in en


def test_coverage_tooltips_carry_team_area_streets_and_open_cases(town: Town) -> None:
    options = CoverageOptions(team_names={"WS01": "汶水街区工作站"}, open_cases={"310106113G01": 7})
    html = render(coverage_map(town.layers, options))
    grids = next(p for p in payloads(html, "area_data") if "open" in p["cols"])
    cols = grids["cols"]
    first = cols["code"].index("310106113G01")
    assert cols["team"][first] == "汶水街区工作站"
    assert cols["open"][first] == 7
    frame = town.layers[LayerKind.GRIDS].projected()
    expected_km2 = frame.set_index("code").area["310106113G01"] / 1e6
    assert cols["km2"][first] == pytest.approx(expected_km2, abs=1e-3)
    assert 0 < cols["street_km"][first] < 50
    assert len(grids["lp"]) == len(frame)  # a label point per grid


def test_hotspot_tooltips_count_the_cases_of_each_grid(town: Town, cases: pd.DataFrame) -> None:
    grids = town.layers[LayerKind.GRIDS].frame
    html = render(hotspot_map(grids, cases, HotspotOptions()))
    data = payloads(html, "area_data")[0]
    expected = cases["grid_code"].value_counts()
    for code, count in zip(data["cols"]["code"], data["cols"]["cases"], strict=True):
        assert count == expected.get(code, 0)
    for layer in (
        "热点显著性 (Gi*, 网格)",
        "案件数",
        "每平方公里案件数",
        "热点随时间变化",
        "案件热力 (聚合)",
    ):
        assert layer in unescaped(html)
    assert "2026-04" in html and "2026-05" in html  # the time view's periods


def test_hotspot_heat_is_aggregated_not_one_point_per_case(town: Town, cases: pd.DataFrame) -> None:
    grids = town.layers[LayerKind.GRIDS].frame
    html = render(hotspot_map(grids, cases, HotspotOptions()))
    heat = re.search(r"L\.heatLayer\(\s*(\[\[.*?\]\])", html, re.S)
    assert heat is not None
    points = json.loads(heat.group(1))
    assert len(points) == cases["grid_code"].nunique()  # all cases of a grid share one point


def test_hotspot_map_with_no_cases_says_so(town: Town, cases: pd.DataFrame) -> None:
    grids = town.layers[LayerKind.GRIDS].frame
    html = render(hotspot_map(grids, cases.iloc[0:0], HotspotOptions()))
    assert "所选条件下没有案件" in unescaped(html)


def test_amap_basemap_shifts_every_overlay_to_gcj02(town: Town) -> None:
    grids = town.layers[LayerKind.GRIDS].frame
    options = CoverageOptions(basemap=Basemap.AMAP, tiles=TileOptions(offline=False))
    html = render(coverage_map(town.layers, options))
    data = next(p for p in payloads(html, "area_data") if "open" in p["cols"])
    ring = np.array(decode(data["f"][0][0][0]))  # (lat, lon) of the first grid's outer ring
    drawn = shapely.Polygon(ring[:, ::-1]).centroid
    original = grids.geometry.iloc[0].centroid
    gcj_lon, gcj_lat = wgs84_to_gcj02(np.array([original.x]), np.array([original.y]))
    metres = 111_000.0
    assert abs(drawn.x - gcj_lon[0]) * metres < 15 and abs(drawn.y - gcj_lat[0]) * metres < 15
    assert abs(drawn.x - original.x) * metres > 100  # it did move: GCJ-02 is ~500 m off here
    assert "autonavi.com" in html and "openstreetmap.org" not in html  # AMap alone in its frame


def test_offline_maps_refuse_internet_basemaps() -> None:
    offline = TileOptions(offline=True)
    for name in ("osm", "tianditu", "amap"):
        with pytest.raises(InvalidInput, match="offline"):
            parse_basemap(name, offline)
    assert parse_basemap("none", offline) is Basemap.NONE
    with pytest.raises(InvalidInput, match="GRIDSVC_TILE_URL"):
        parse_basemap("intranet", offline)
    with pytest.raises(InvalidInput, match="unknown basemap"):
        parse_basemap("google", offline)


def test_tianditu_needs_a_key_and_uses_it(town: Town) -> None:
    with pytest.raises(InvalidInput, match="GRIDSVC_TIANDITU_KEY"):
        parse_basemap("tianditu", TileOptions(offline=False))
    tiles = TileOptions(tianditu_key="abc123", offline=False)
    html = render(coverage_map(town.layers, CoverageOptions(basemap=Basemap.TIANDITU, tiles=tiles)))
    assert "tianditu.gov.cn/vec_w/wmts" in html and "tk=abc123" in html
    assert "天地图注记" in unescaped(html)


def test_offline_pages_reference_nothing_outside_the_machine(
    town: Town, cases: pd.DataFrame
) -> None:
    grids = town.layers[LayerKind.GRIDS]
    pages = [
        render(coverage_map(town.layers, CoverageOptions())),
        render(hotspot_map(grids.frame, cases, HotspotOptions())),
        render(impact_map(grids, grids, [], ImpactOptions())),
    ]
    for html in pages:
        assert external_urls(html) == []
        assert "/static/vendor/leaflet@1.9.3/dist/leaflet.js" in html


def test_impact_map_shows_old_and_new_grids_and_the_moved_cases(town: Town) -> None:
    grids = town.layers[LayerKind.GRIDS]
    moved = [
        {"number": f"C{i}", "lon": 121.455 + i * 1e-4, "lat": 31.33, "open": i % 2 == 0,
         "from": {"grid_code": "G1"}, "to": {"grid_code": "G2"}}
        for i in range(30)
    ]  # fmt: skip
    html = render(impact_map(grids, grids, moved, ImpactOptions(max_points=10)))
    assert "现行网格" in unescaped(html) and "调整后网格 (草案)" in unescaped(html)
    assert html.count("L.circleMarker(") == 10
    assert "显示 10 / 共 30" in unescaped(html)


def test_cell_views_count_cases_per_cell_and_rate_per_km2(town: Town, cases: pd.DataFrame) -> None:
    grids = town.layers[LayerKind.GRIDS].frame
    cells = town.layers[LayerKind.CELLS].frame
    tree = shapely.STRtree(cells.geometry.values)
    points = shapely.points(cases["lon"], cases["lat"])
    which = tree.query(points, predicate="within")
    with_cells = cases.copy()
    codes = np.full(len(cases), None, dtype=object)
    codes[which[0]] = cells["code"].to_numpy()[which[1]]
    with_cells["cell_code"] = codes
    html = render(hotspot_map(grids, with_cells, HotspotOptions(), cells=cells))
    cell_data = next(p for p in payloads(html, "area_data") if len(p["f"]) == len(cells))
    expected = pd.Series(codes).value_counts()
    got = dict(zip(cell_data["cols"]["code"], cell_data["cols"]["cases"], strict=True))
    assert {k: v for k, v in got.items() if v} == expected.to_dict()
    km2 = cells.to_crs(4549).set_index("code").area / 1e6
    busiest = expected.index[0]
    rate = dict(zip(cell_data["cols"]["code"], cell_data["cols"]["rate"], strict=True))[busiest]
    assert rate == pytest.approx(expected.iloc[0] / km2[busiest], abs=0.1)
    for layer in ("热点显著性 (Gi*, 单元网格)", "单元网格案件数", "单元网格每平方公里案件数"):
        assert layer in unescaped(html)
