"""The district benchmark's data stays consistent (so bench_district.py cannot silently rot).

At a tiny scale: the towns tile their districts and the districts the city, every grid
lies in its town, the service's loader accepts the territory (its own validation), and
every generated case's town_code is the town whose polygon holds its point, its grid the
grid that does, with events up to the status it stores.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import text

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import district_data as dd  # noqa: E402
from synthetic_city import Territory, build_territory  # noqa: E402

from gridsvc.store.engine import make_engine, upgrade  # noqa: E402


@pytest.fixture(scope="module")
def territory() -> Territory:
    return build_territory(grids=600, districts=3, towns_per_district=4, seed=3)


def _tiles(parts: gpd.GeoSeries, whole: shapely.Geometry) -> None:
    """``parts`` cover ``whole`` with no gap and no overlap (areas in degrees², exact here)."""
    union = shapely.union_all(parts.to_numpy())
    assert shapely.symmetric_difference(union, whole).area < 1e-9 * whole.area
    assert abs(parts.area.sum() - whole.area) < 1e-9 * whole.area


def test_levels_tile_each_other(territory: Territory) -> None:
    t = territory
    assert len(t.districts) == 3 and len(t.towns) == 12
    _tiles(t.districts.geometry, t.city.geometry.iloc[0])
    for d, district in enumerate(t.districts.geometry):
        _tiles(t.towns.geometry[t.towns["district"] == d], district)
    for k, town in enumerate(t.towns.geometry):
        _tiles(t.grids.geometry[t.grids["town"] == k], town)
    assert (t.towns["district"].to_numpy()[t.grids["town"]] == t.grids["district"]).all()


def test_cases_lie_in_their_town_and_grid(territory: Territory, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'city.db'}"
    upgrade(url)
    engine = make_engine(url)
    versions = dd.load_territory(engine, dd.territory_dir(tmp_path / "city", territory.layers()))
    assert {"jurisdiction", "towns", "units", "grids"} <= set(versions)
    maker = dd.CaseMaker(territory, versions)
    for chunk in maker.chunks(3_000, 1_000):
        dd.write_chunk(engine, chunk)
    dd.finish(engine)
    cases = dd.case_frame(engine)
    assert len(cases) == 3_000
    points = gpd.GeoDataFrame(cases, geometry=gpd.points_from_xy(cases.lon, cases.lat), crs=4490)
    layers = territory.layers()
    for level, column in (("towns", "town_code"), ("grids", "grid_code")):
        joined = gpd.sjoin(points, layers[level][["code", "geometry"]], predicate="within")
        assert len(joined) == len(cases)  # every point in exactly one polygon of the level
        assert (joined["code"] == joined[column]).all(), level
    with engine.connect() as conn:
        wrong = conn.execute(
            text(
                "SELECT count(*) FROM cases c WHERE c.status <> (SELECT e.to_status FROM "
                "case_events e WHERE e.case_id = c.id ORDER BY e.seq DESC LIMIT 1)"
            )
        ).scalar_one()
        statuses = dict(conn.execute(text("SELECT status, count(*) FROM cases GROUP BY 1")).all())
    assert wrong == 0
    assert statuses.get("closed", 0) > 2_000 and len(statuses) > 1  # the last weeks still open


def test_a_district_subset_keeps_its_cases_and_their_events(territory: Territory) -> None:
    maker = dd.CaseMaker(territory, {"grids": 1})
    chunk = next(maker.chunks(2_000, 2_000))
    mine = dd.subset(chunk, 1)
    assert 0 < len(mine.cases) < len(chunk.cases)
    ids = {c[0] for c in mine.cases}
    assert {e[1] for e in mine.events} == ids
    assert len(mine.events) == int(mine.case_event_counts.sum())
