"""The hotspot map's counts grouped by the database equal the old per-point counting.

``MapService.hotspots`` read every case's row and counted them in pandas (9 s at
1 M cases, 90 s at 10 M); it now asks the database for counts per grid and
period, per category and per heat bin (``store.case_counts``). These tests put
cases of three towns, four categories and several months (some a few minutes
either side of a local midnight at a month's end, and outside every grid) in
each backend and check that the counts, and the map drawn from them, are the
ones ``CaseCounts.from_points`` gets from the same cases' rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box
from sqlalchemy import Engine

from gridsvc.core.hotspots import CaseCounts
from gridsvc.maps.areas import AreaData, AreaView
from gridsvc.maps.hotspots import HotspotOptions, hotspot_map
from gridsvc.services.maps import stored_counts
from gridsvc.store import case_counts
from gridsvc.store import cases as case_store
from gridsvc.store.engine import make_engine

TOWNS = ("T1", "T2", "T3")
CATEGORIES = ("CG01", "CG02", "CG03", "CG04")
STATUSES = ("reported", "dispatched", "closed", "cancelled")
SIZE = 0.01  # a grid is 0.01° square; 3 × 3 grids a town, towns side by side
ORIGIN = (121.40, 31.30)
START = datetime(2026, 3, 1, tzinfo=UTC)


def grid_frame() -> gpd.GeoDataFrame:
    codes, names, geoms = [], [], []
    for t, town in enumerate(TOWNS):
        for i in range(3):
            for j in range(3):
                x = ORIGIN[0] + (t * 3 + i) * SIZE
                y = ORIGIN[1] + j * SIZE
                codes.append(f"{town}G{i}{j}")
                names.append(f"{town} grid {i}{j}")
                geoms.append(box(x, y, x + SIZE, y + SIZE))
    return gpd.GeoDataFrame({"code": codes, "name": names}, geometry=geoms, crs=4490)


def case_rows(n: int = 700, seed: int = 5) -> list[dict[str, Any]]:
    """Cases in every town, category and status over seven months, and a few edge cases."""
    rng = np.random.default_rng(seed)
    grids = grid_frame()
    rows = []
    for k in range(n):
        g = int(rng.integers(len(grids))) if k % 3 else int(rng.integers(9))  # T1 busier
        minx, miny, _, _ = grids.geometry.iloc[g].bounds
        lon = minx + float(rng.uniform(0.0005, SIZE - 0.0005))
        lat = miny + float(rng.uniform(0.0005, SIZE - 0.0005))
        at = START + timedelta(days=float(rng.uniform(0, 210)))
        grid, town = str(grids["code"].iloc[g]), str(grids["code"].iloc[g])[:2]
        if k % 50 == 0:  # outside every grid: no grid code, still a case of its town
            lon, lat, grid = ORIGIN[0] - 0.05, ORIGIN[1] - 0.05, None
        if k % 40 == 1:  # 23:50 and 00:10 local (UTC+8) around 1 May: April, then May
            at = datetime(2026, 4, 30, 15, 50, tzinfo=UTC)
            at += timedelta(minutes=0 if k % 80 == 1 else 20)
        rows.append(_row(k + 1, lon, lat, at, grid, town, rng))
    return rows


def _row(
    i: int, lon: float, lat: float, at: datetime, grid: str | None, town: str, rng: Any
) -> dict[str, Any]:
    return {
        "id": i, "number": f"2026-{i:07d}", "status": STATUSES[int(rng.integers(4))],
        "status_since": at, "version": 1, "category": CATEGORIES[int(rng.integers(4))],
        "description": "", "severity": 1, "colour": "yellow", "source": "patrol",
        "reporter": "", "address": "", "created_at": at, "updated_at": at, "lon": lon,
        "lat": lat, "raw_lon": lon, "raw_lat": lat, "raw_crs": "CGCS2000",
        "geom_wkb": Point(lon, lat).wkb, "town_code": town, "grid_code": grid,
        "unit_code": f"{town}U1", "team": f"{town}-team", "level": "grid",
        "department": "D01", "cooperating": [], "reopen_count": 0, "layer_versions": {},
    }  # fmt: skip


@pytest.fixture(scope="module")
def engine(module_db_url: str) -> Iterator[Engine]:
    engine = make_engine(module_db_url)
    with engine.begin() as conn:
        case_store.insert_cases(conn, case_rows())
    yield engine
    engine.dispose()


def points(engine: Engine, filters: dict[str, Any]) -> pd.DataFrame:
    """The matching cases' rows, as the map read them before (``case_points``)."""
    with engine.connect() as conn:
        return pd.DataFrame(case_store.case_points(conn, filters))


def by_key(counts: CaseCounts) -> dict[tuple[str | None, str], int]:
    table = counts.grid_period
    return {
        (g, str(p)): int(n)
        for g, p, n in zip(table["grid_code"], table["period"], table["n"], strict=True)
    }


FILTERS: list[dict[str, Any]] = [
    {},
    {"town_code": "T2"},
    {"category": ["CG01", "CG03"]},
    {"open_only": True},
    {"status": ["closed"], "town_code": "T1"},
    {
        "created_from": datetime(2026, 4, 30, 16, tzinfo=UTC),  # 1 May, local midnight
        "created_to": datetime(2026, 7, 31, 16, tzinfo=UTC),
    },
]


@pytest.mark.parametrize("period", ["month", "week"])
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "all")
def test_the_database_counts_what_the_points_counted(
    engine: Engine, filters: dict[str, Any], period: str
) -> None:
    old = CaseCounts.from_points(points(engine, filters), period)
    with engine.connect() as conn:
        new = stored_counts(conn, filters, period, grid_frame().total_bounds)
    assert old.total > 0
    assert by_key(new) == by_key(old)
    assert new.categories == old.categories
    assert new.total == old.total
    assert int(new.heat_weight.sum()) == old.total  # every case in a heat bin, once
    assert len(new.heat_lon) < len(old.heat_lon)  # bins, not points
    assert np.average(new.heat_lon, weights=new.heat_weight) == pytest.approx(
        float(old.heat_lon.mean()), abs=1e-9
    )


def test_the_month_of_a_case_is_its_month_in_china_time(engine: Engine) -> None:
    with engine.connect() as conn:
        rows = case_counts.grid_period_counts(
            conn,
            {
                "created_from": datetime(2026, 4, 30, 15, 49, tzinfo=UTC),
                "created_to": datetime(2026, 4, 30, 16, 11, tzinfo=UTC),
            },
            "month",
        )
    months = {p for _, p, _ in rows}
    assert months == {"2026-04", "2026-05"}  # 23:50 local is April, 00:10 local is May


def test_a_town_scoped_map_counts_only_its_towns_cases(engine: Engine) -> None:
    with engine.connect() as conn:
        scoped = stored_counts(conn, {"town_code": "T2"}, "month", grid_frame().total_bounds)
        every = stored_counts(conn, {}, "month", grid_frame().total_bounds)
    t2 = points(engine, {"town_code": "T2"})
    assert 0 < scoped.total == len(t2) < every.total
    grids = {g for g, _ in by_key(scoped)}
    assert grids and all(g is None or g.startswith("T2") for g in grids)
    assert None in grids  # the town's case outside every grid is its own, not the others'
    inside = sum(n for (g, _), n in by_key(scoped).items() if g is not None)
    assert inside < scoped.total
    m = hotspot_map(grid_frame(), scoped, HotspotOptions())
    cols = next(c for c in m._children.values() if isinstance(c, AreaData)).payload
    other_towns = [code for code in grid_frame()["code"] if not code.startswith("T2")]
    assert '"cases":[' in cols
    for code in other_towns:
        assert code in cols  # every grid is drawn, with no case of another town
    counts = dict(zip(grid_frame()["code"], _cases_column(cols), strict=True))
    assert all(counts[c] == 0 for c in other_towns)
    assert sum(counts.values()) == inside


def _cases_column(payload: str) -> list[int]:
    import json

    return [int(v) for v in json.loads(payload)["cols"]["cases"]]


@pytest.mark.parametrize("period", ["month", "week"])
def test_the_map_from_the_database_s_counts_is_the_map_from_the_points(
    engine: Engine, period: str
) -> None:
    """Counts, rate, Gi* classes per grid and per period: every area view's payload alike."""
    options = HotspotOptions(period=period)
    grids = grid_frame()
    with engine.connect() as conn:
        counted = stored_counts(conn, {}, period, grids.total_bounds)
    new = hotspot_map(grids, counted, options)
    old = hotspot_map(grids, points(engine, {}), options)

    def payloads(m: Any) -> list[str]:
        return [c.payload for c in m._children.values() if isinstance(c, AreaData | AreaView)]

    assert len(payloads(new)) >= 6
    assert payloads(new) == payloads(old)


def test_above_the_heat_sample_the_heat_is_drawn_from_a_sample_and_says_so(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past HEAT_SAMPLE cases the heat reads about that many (TABLESAMPLE on PostgreSQL,
    every k-th id on SQLite); the counts per grid and category stay every case's."""
    from gridsvc.services import maps

    bounds = grid_frame().total_bounds
    with engine.connect() as conn:
        full = stored_counts(conn, {}, "month", bounds)
        monkeypatch.setattr(maps, "HEAT_SAMPLE", full.total // 2)
        sampled = stored_counts(conn, {}, "month", bounds)
        _, _, read = case_counts.point_bins(conn, {}, 0.001, 0.001, sampled.heat_share)
    assert full.heat_share == 1.0 and 0.4 < sampled.heat_share < 0.6
    assert 0 < sum(read) < full.total  # fewer cases read than there are
    assert by_key(sampled) == by_key(full) and sampled.categories == full.categories
    assert int(sampled.heat_weight.sum()) == pytest.approx(full.total, rel=0.02)
    m = hotspot_map(grid_frame(), sampled, HotspotOptions(lang="en"))
    assert f"(from a {100 * sampled.heat_share:.0f}% sample)" in m.get_root().render()
