"""The demo town 示范镇, checked as a user of data/README.md would check it."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

from gridsvc.cli import app
from gridsvc.core.crs import gcj02_to_wgs84

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"
GPKG = DEMO / "shifan.gpkg"
TOWN_CODE = "310106113"
WORK_CRS = "EPSG:4549"
POLYGON_LEVELS = ["jurisdiction", "units", "grids", "committees", "cells"]
NESTING = list(zip(POLYGON_LEVELS, POLYGON_LEVELS[1:], strict=False))
CODE_PATTERNS = {
    "jurisdiction": rf"{TOWN_CODE}",
    "units": rf"{TOWN_CODE}U\d",
    "grids": rf"{TOWN_CODE}G\d\d",
    "committees": rf"{TOWN_CODE}\d{{3}}",
    "cells": rf"{TOWN_CODE}\d{{7}}",
    "streets": rf"{TOWN_CODE}S\d{{4}}",
    "pois": rf"{TOWN_CODE}P\d\d",
}


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    return {str(name): gpd.read_file(GPKG, layer=name) for name, _ in pyogrio.list_layers(GPKG)}


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DEMO / name, dtype=str, keep_default_na=False)


def test_every_layer_is_cgcs2000(layers: dict[str, gpd.GeoDataFrame]) -> None:
    assert set(layers) == {*POLYGON_LEVELS, "streets", "pois"}
    for name, frame in layers.items():
        assert frame.crs.to_epsg() == 4490, name


@pytest.mark.parametrize("level", POLYGON_LEVELS)
def test_each_level_is_a_valid_coverage_of_polygons(
    layers: dict[str, gpd.GeoDataFrame], level: str
) -> None:
    frame = layers[level]
    assert set(frame.geom_type) == {"Polygon"}
    assert frame.is_valid.all()
    assert shapely.coverage_is_valid(frame.geometry.array)
    assert shapely.coverage_is_valid(frame.to_crs(WORK_CRS).geometry.array)


@pytest.mark.parametrize(("parent", "child"), NESTING)
def test_children_tile_each_parent_exactly(
    layers: dict[str, gpd.GeoDataFrame], parent: str, child: str
) -> None:
    parents = layers[parent].to_crs(WORK_CRS)
    children = layers[child].to_crs(WORK_CRS)
    assert set(children["parent_code"]) == set(parents["code"])
    for code, shape in zip(parents["code"], parents.geometry, strict=True):
        mine = children[children["parent_code"] == code].geometry.array
        union = shapely.union_all(mine)
        assert shapely.symmetric_difference(union, shape).area < 1.0, (parent, code)


def test_sizes(layers: dict[str, gpd.GeoDataFrame]) -> None:
    assert len(layers["jurisdiction"]) == 1
    assert len(layers["units"]) == 3
    assert len(layers["grids"]) == 14
    assert 18 <= len(layers["committees"]) <= 24
    assert 300 <= len(layers["streets"]) <= 600
    area_km2 = layers["jurisdiction"].to_crs(WORK_CRS).area.sum() / 1e6
    assert 7.0 <= area_km2 <= 9.0
    per_grid = layers["committees"].groupby("parent_code").size()
    assert set(per_grid) <= {1, 2}  # README: each grid holds 1 or 2 committees


@pytest.mark.parametrize("level", list(CODE_PATTERNS))
def test_codes_follow_the_pattern_and_are_unique(
    layers: dict[str, gpd.GeoDataFrame], level: str
) -> None:
    codes = layers[level]["code"]
    assert codes.is_unique
    bad = [c for c in codes if not re.fullmatch(CODE_PATTERNS[level], c)]
    assert not bad, bad[:5]


def test_committee_codes_are_twelve_digits_of_the_town(
    layers: dict[str, gpd.GeoDataFrame],
) -> None:
    for code in layers["committees"]["code"]:
        assert len(code) == 12 and code.isdigit() and code.startswith(TOWN_CODE)
    cells = layers["cells"]
    assert all(c.startswith(p) for c, p in zip(cells["code"], cells["parent_code"], strict=True))


def test_streets_and_pois_belong_to_grids(layers: dict[str, gpd.GeoDataFrame]) -> None:
    grids = layers["grids"].set_index("code")
    streets = layers["streets"]
    assert streets["parent_code"].isin(grids.index).all()
    assert (streets["team"] == grids.loc[streets["parent_code"], "team"].to_numpy()).all()
    assert set(streets["road_class"]) == {"arterial", "secondary", "local"}
    assert layers["pois"]["parent_code"].isin(grids.index).all()


def test_every_grid_has_one_team_of_teams_csv(layers: dict[str, gpd.GeoDataFrame]) -> None:
    teams = _csv("teams.csv")
    grids = layers["grids"]
    assert grids["team"].isin(teams["code"]).all()
    listed = {
        g: t for t, gs in zip(teams["code"], teams["grids"], strict=True) for g in gs.split(";")
    }
    assert listed == dict(zip(grids["code"], grids["team"], strict=True))


def test_responsibility_list() -> None:
    matters = _csv("responsibility_list.csv")
    departments = set(_csv("departments.csv")["code"])
    assert len(matters) >= 30 and matters["code"].is_unique
    assert matters["field"].nunique() == 10
    assert matters["primary_department"].isin(departments).all()
    cooperating = {d for ds in matters["cooperating_departments"] for d in ds.split(";") if d}
    assert cooperating <= departments
    assert set(matters["level"]) <= {"grid", "town", "county"}


def test_reports_refer_to_known_matters() -> None:
    reports = _csv("reports.csv")
    assert len(reports) >= 20_000
    assert reports["report_id"].is_unique
    assert reports["category"].isin(_csv("responsibility_list.csv")["code"]).all()
    assert set(reports["crs"]) == {"gcj02", "wgs84"}


@pytest.fixture(scope="module")
def matched_reports(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """``gridsvc match data/demo/reports.csv -o matched.csv``, read back (in Chinese, the
    default: the reason column is in the command's language)."""
    out = tmp_path_factory.mktemp("demo") / "matched.csv"
    args = ["--lang", "zh", "match", str(DEMO / "reports.csv"), "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return pd.read_csv(out, dtype=str, keep_default_na=False)


def test_gridsvc_match_places_the_reports(matched_reports: pd.DataFrame) -> None:
    table = matched_reports
    assert len(table) == len(_csv("reports.csv"))
    counts = table["status"].value_counts()
    assert counts["matched"] / len(table) >= 0.98
    assert 40 <= counts.get("invalid", 0) <= 60  # README: 48 rows have lon and lat swapped
    assert counts.get("outside", 0) >= 60  # README: 72 rows lie 120–600 m outside
    swapped = table[table["status"] == "invalid"]["reason"]
    assert swapped.str.contains("经纬度疑似颠倒").all()
    outside = table[table["status"] == "outside"]["reason"]
    assert outside.str.startswith("在辖区之外，距辖区边界").all()


def test_patrol_reports_land_in_the_patrols_grid(
    layers: dict[str, gpd.GeoDataFrame], matched_reports: pd.DataFrame
) -> None:
    """README: grid k's patrols are P(4k-3)..P(4k). Only points on a grid edge may differ."""
    patrol = matched_reports[
        (matched_reports["source"] == "patrol") & (matched_reports["status"] == "matched")
    ]
    k = patrol["grid_code"].str[-2:].astype(int)
    n = patrol["reporter"].str[1:].astype(int)
    other = patrol[(n < 4 * k - 3) | (n > 4 * k)]
    assert len(other) < 0.01 * len(patrol)
    x = other["lon"].astype(float).to_numpy(copy=True)
    y = other["lat"].astype(float).to_numpy(copy=True)
    gcj = (other["crs"] == "gcj02").to_numpy()
    x[gcj], y[gcj] = gcj02_to_wgs84(x[gcj], y[gcj])
    points = gpd.GeoSeries(gpd.points_from_xy(x, y), crs="EPSG:4490").to_crs(WORK_CRS)
    edges = layers["grids"].to_crs(WORK_CRS).boundary.union_all()
    assert (points.distance(edges) < 0.1).all()  # 6-decimal rounding moves a point ≤ 0.1 m


def test_report_steps_are_in_order() -> None:
    """reported ≤ dispatched ≤ accepted ≤ handled ≤ closed; a step not reached is empty,
    and so is every later one (the loader replays them in this order)."""
    reports = _csv("reports.csv")
    columns = ["reported_at", "dispatched_at", "accepted_at", "handled_at", "closed_at"]
    times = reports[columns].apply(lambda c: pd.to_datetime(c.replace("", None), utc=True))
    for before, after in zip(columns, columns[1:], strict=False):
        both = times[before].notna() & times[after].notna()
        assert (times.loc[both, before] <= times.loc[both, after]).all(), (before, after)
        assert not (times[before].isna() & times[after].notna()).any(), (before, after)


def test_holidays_cover_the_years_a_replayed_history_reaches() -> None:
    """The loader moves the history to end yesterday: 2027's deadlines need 2027's holidays."""
    years = {d[:4] for d in _csv("holidays.csv")["date"]}
    assert {"2025", "2026", "2027"} <= years


# ---- the demo district 示范区 (data/demo-district), what `make run` loads

DISTRICT = DEMO.parent / "demo-district"
TOWNS = {"310106113": "示范镇", "310106114": "示西镇", "310106115": "示南镇"}


@pytest.fixture(scope="module")
def district_layers() -> dict[str, gpd.GeoDataFrame]:
    path = DISTRICT / "shifan.gpkg"
    return {
        str(n): gpd.read_file(path, layer=n).to_crs(WORK_CRS) for n, _ in pyogrio.list_layers(path)
    }


def test_district_validates_without_a_blocking_problem() -> None:
    from gridsvc.town import load_town_file, validate_town

    problems = validate_town(load_town_file(DISTRICT / "shifan.gpkg").layers)
    assert [p.message for p in problems if p.blocking] == []
    assert problems == []  # not even an unmatched edge: one exact coverage


def test_towns_tile_the_district_and_every_grid_lies_in_one(
    district_layers: dict[str, gpd.GeoDataFrame],
) -> None:
    towns, district = district_layers["towns"], district_layers["jurisdiction"]
    assert dict(zip(towns["code"], towns["name"], strict=True)) == TOWNS
    assert set(towns["parent_code"]) == {"310106"} and list(district["code"]) == ["310106"]
    assert shapely.coverage_is_valid(towns.geometry.array)
    union = shapely.union_all(towns.geometry.array)
    assert shapely.symmetric_difference(union, district.geometry.iloc[0]).area < 1.0
    units = district_layers["units"].set_index("code")
    for code, grid in zip(
        district_layers["grids"]["code"], district_layers["grids"].geometry, strict=True
    ):
        town = units.loc[code[:9] + "U1", "parent_code"]
        assert code.startswith(town), code  # 310106114G03 lies in 310106114
        inside = [
            t
            for t, g in zip(towns["code"], towns.geometry, strict=True)
            if g.intersection(grid).area > 1.0
        ]
        assert inside == [town], code


def test_shifan_in_the_district_is_the_demo_town(
    layers: dict[str, gpd.GeoDataFrame], district_layers: dict[str, gpd.GeoDataFrame]
) -> None:
    """Same codes, geometry and teams as data/demo, so what tests know of 示范镇 holds."""
    for level in ("grids", "committees", "cells", "streets"):
        mine = district_layers[level][district_layers[level]["code"].str.startswith(TOWN_CODE)]
        town = layers[level].to_crs(WORK_CRS)
        assert list(mine["code"]) == list(town["code"]), level
        assert (
            mine.geometry.reset_index(drop=True).geom_equals_exact(town.geometry, 1e-6)
        ).all(), level
    teams = pd.read_csv(DISTRICT / "teams.csv", dtype=str)
    assert teams.head(6).equals(_csv("teams.csv")) and teams["code"].is_unique


def test_nothing_of_the_district_lies_east_of_shifan(
    district_layers: dict[str, gpd.GeoDataFrame],
) -> None:
    """The tenancy tests use points 5 m and 300 m east of 示范镇's easternmost vertex as outside."""
    shifan = district_layers["towns"].set_index("code").geometry[TOWN_CODE]
    x, y = max(shifan.exterior.coords)
    district = district_layers["jurisdiction"].geometry.iloc[0]
    for dx in (5.0, 300.0):
        assert not district.intersects(shapely.Point(x + dx, y))
    assert district.bounds[2] == pytest.approx(shifan.bounds[2])


@pytest.fixture(scope="module")
def district_evaluation(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The district loaded with its history; the year evaluated by town."""
    from datetime import date, timedelta

    from gridsvc.services.evaluation import EvaluationQuery, EvaluationService
    from gridsvc.services.setup import load_demo
    from gridsvc.store.engine import make_engine, upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('district') / 'gridsvc.db'}"
    upgrade(url)
    engine = make_engine(url)
    today = date.today()
    assert load_demo(engine, DISTRICT, say=lambda _: None, today=today)
    last = today - timedelta(days=1)
    query = EvaluationQuery.parse(
        str(last - timedelta(days=364)), str(last), by="town", min_cases=1
    )
    table = EvaluationService.from_database(engine).evaluate(query).table
    return table.set_index("key")


def test_every_town_has_a_year_of_cases(district_evaluation: pd.DataFrame) -> None:
    assert set(district_evaluation.index) == set(TOWNS)
    assert (district_evaluation["due"] >= 7000).all()


def test_the_towns_differ_so_a_leader_sees_something(district_evaluation: pd.DataFrame) -> None:
    """示西镇 is clearly worse on time, 示南镇 reworks much; 示范镇 does neither."""
    on_time, rework = district_evaluation["on_time_rate"], district_evaluation["rework_rate"]
    assert on_time["310106114"] < min(on_time["310106113"], on_time["310106115"]) - 0.05
    assert rework["310106115"] > 3 * max(rework["310106113"], rework["310106114"])
    assert on_time["310106113"] > 0.95 and rework["310106113"] < 0.08


def test_district_generation_is_deterministic(tmp_path: Path) -> None:
    """Twice into temp dirs: the same bytes (CSV) and the same features (GeoPackage), and
    the same as the committed data/demo-district."""
    import subprocess
    import sys

    root = DEMO.parent.parent
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        run = [sys.executable, str(root / "data" / "generate_demo.py"), "--only", "district"]
        done = subprocess.run([*run, "--district-out", str(out)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    sys.path.insert(0, str(root / "data"))
    try:
        from demogen.compare import differences
    finally:
        sys.path.remove(str(root / "data"))
    assert differences(outs[0], outs[1]) == []
    assert differences(outs[0], DISTRICT) == []
