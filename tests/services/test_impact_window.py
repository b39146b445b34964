"""The impact read by place (services.impact.rematch_window) against the straightforward
re-match of every case in the window: the same moves, the same counts, the same workload.

The cases are drawn to hit every path: stored places that agree with the layer, a stale
team or town, no grid at all, points outside every grid, cases outside the window, a
town's draft; on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from sqlalchemy import Engine

from gridsvc.core.layers import Layer, LayerKind
from gridsvc.services import impact
from gridsvc.services.impact import (
    IMPACT_WINDOW,
    Tally,
    case_columns,
    grid_workload,
    moved_cases,
    rematch_window,
    rematched_places,
)
from gridsvc.store import cases as case_store
from gridsvc.store import rematch as rematch_store
from gridsvc.store import schema as s
from gridsvc.store.engine import make_engine

X0, Y0, STEP = 121.0, 31.0, 0.002
SIDE = 6


def _grids() -> gpd.GeoDataFrame:
    rows = []
    for i in range(SIDE):
        for j in range(SIDE):
            box = shapely.box(
                X0 + i * STEP, Y0 + j * STEP, X0 + (i + 1) * STEP, Y0 + (j + 1) * STEP
            )
            rows.append(
                {"code": f"G{i}{j}", "name": f"网格{i}{j}", "team": f"T{i}", "geometry": box}
            )
    frame = gpd.GeoDataFrame(rows, crs="EPSG:4490")
    frame["parent_code"] = np.where(frame["code"].str[1].astype(int) < SIDE // 2, "W", "E")
    return frame


def _towns() -> Layer:
    half = X0 + SIDE // 2 * STEP
    frame = gpd.GeoDataFrame(
        {"code": ["W", "E"], "name": ["西镇", "东镇"], "parent_code": "D"},
        geometry=[
            shapely.box(X0, Y0, half, Y0 + SIDE * STEP),
            shapely.box(half, Y0, X0 + SIDE * STEP, Y0 + SIDE * STEP),
        ],
        crs="EPSG:4490",
    )
    return Layer(LayerKind.TOWNS, frame)


def _redrawn(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A team change, a merge, a grid removed, one split off, one redrawn with its own shape."""
    out = frame.copy().set_index("code")
    out.loc["G11", "team"] = "T-NEW"
    out.loc["G22", "geometry"] = shapely.union(
        out.loc["G22", "geometry"], out.loc["G23", "geometry"]
    )
    out = out.drop(index=["G23", "G55"])
    out.loc["G00", "geometry"] = shapely.box(X0 + STEP / 3, Y0, X0 + STEP, Y0 + STEP)
    # the same square written from another corner: changed to the index, the same points
    out.loc["G01", "geometry"] = shapely.Polygon(
        [(X0 + STEP, Y0 + STEP), (X0 + STEP, Y0 + 2 * STEP), (X0, Y0 + 2 * STEP), (X0, Y0 + STEP)]
    )
    out.loc["G99"] = {
        "name": "新网格",
        "team": "T-ADD",
        "parent_code": "W",
        "geometry": shapely.box(X0, Y0, X0 + STEP / 3, Y0 + STEP),
    }
    return gpd.GeoDataFrame(out.reset_index(), geometry="geometry", crs="EPSG:4490")


def _cases(rng: np.random.Generator, layer: gpd.GeoDataFrame, n: int) -> list[dict[str, Any]]:
    """Random cases placed by the layer, with some places stale, missing or outside."""
    now = datetime.now(UTC)
    x = rng.uniform(X0 - STEP / 2, X0 + (SIDE + 0.5) * STEP, n)
    y = rng.uniform(Y0 - STEP / 2, Y0 + (SIDE + 0.5) * STEP, n)
    points = shapely.points(x, y)
    tree = shapely.STRtree(layer.geometry.to_numpy())
    where = np.full(n, -1)
    pt, poly = tree.query(points, predicate="intersects")
    where[pt] = poly
    rows = []
    for k in range(n):
        grid = layer.iloc[where[k]] if where[k] >= 0 else None
        code = grid["code"] if grid is not None else None
        team = grid["team"] if grid is not None else None
        town = grid["parent_code"] if grid is not None else None
        roll = rng.random()
        if roll < 0.3 and code in ("G30", "G31"):
            team = "T-STALE"
        elif roll < 0.3 and code == "G40":
            town = "W"
        elif roll < 0.04:
            code = team = town = None
        status = ["dispatched", "closed", "reported", "cancelled"][int(rng.integers(4))]
        age = timedelta(days=int(rng.choice([5, 200])))
        rows.append(
            {
                "number": f"N{k:05d}",
                "status": status,
                "status_since": now - age,
                "category": "CG01",
                "severity": 1,
                "colour": "yellow",
                "created_at": now - age,
                "updated_at": now - age,
                "lon": float(x[k]),
                "lat": float(y[k]),
                "raw_lon": float(x[k]),
                "raw_lat": float(y[k]),
                "raw_crs": "cgcs2000",
                "geom_wkb": b"",
                "grid_code": code,
                "team": team,
                "town_code": town,
                "unit_code": None,
                "committee_code": None,
                "level": "grid",
                "department": "D01",
            }
        )
    return rows


@pytest.fixture
def redraw(migrated_db_url: str) -> tuple[Engine, dict[LayerKind, Layer], Layer]:
    from gridsvc.store import reference

    engine = make_engine(migrated_db_url)
    grids = _grids()
    active = {LayerKind.GRIDS: Layer(LayerKind.GRIDS, grids), LayerKind.TOWNS: _towns()}
    draft = Layer(LayerKind.GRIDS, _redrawn(grids))
    with engine.begin() as conn:
        for layer in active.values():
            reference.publish_layer(conn, layer, "test")
        conn.execute(s.cases.insert(), _cases(np.random.default_rng(7), grids, 1500))
    return engine, active, draft


def _straight(engine: Engine, kind: LayerKind, active: dict, draft: Layer, town: str | None):  # type: ignore[no-untyped-def]
    """Every case of the window read and re-matched (what Planning.impact did before)."""
    since = datetime.now(UTC) - IMPACT_WINDOW
    with engine.connect() as conn:
        cases = case_columns(case_store.cases_for_rematch(conn, since))
    if town is not None:
        rows = np.flatnonzero(cases["town_code"] == town)
        cases = {name: column[rows] for name, column in cases.items()}
    after = rematched_places(kind, active, draft, cases)
    return cases, after


def _both(engine: Engine, kind: LayerKind, active: dict, draft: Layer, town: str | None = None):  # type: ignore[no-untyped-def]
    cases, after = _straight(engine, kind, active, draft, town)
    since = datetime.now(UTC) - IMPACT_WINDOW
    with engine.connect() as conn:
        found = rematch_window(conn, kind, active, draft, since, town)
    assert found.checked == len(cases["id"])
    assert moved_cases(found.cases, found.after) == moved_cases(cases, after)
    old = active.get(LayerKind.GRIDS)
    assert grid_workload(old, draft, found.tally) == grid_workload(
        old, draft, Tally.of(cases, after)
    )
    return found, cases


@pytest.mark.parametrize("town", [None, "W", "E"])
def test_the_read_by_place_moves_and_counts_what_the_full_rematch_does(
    redraw, town, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    engine, active, draft = redraw
    monkeypatch.setattr(impact, "READ_ALL_SHARE", 1.0)  # never the full read
    found, cases = _both(engine, LayerKind.GRIDS, active, draft, town)
    assert 0 < len(found.cases["id"]) < len(cases["id"])  # some places were only counted
    assert moved_cases(found.cases, found.after)


def test_a_full_read_and_short_in_lists_give_the_same(redraw, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    engine, active, draft = redraw
    monkeypatch.setattr(impact, "READ_ALL_SHARE", 1.0)
    monkeypatch.setattr(rematch_store, "IN_CHUNK", 3)
    _both(engine, LayerKind.GRIDS, active, draft)
    monkeypatch.setattr(impact, "READ_ALL_SHARE", 0.0)
    found, cases = _both(engine, LayerKind.GRIDS, active, draft)
    assert len(found.cases["id"]) == len(cases["id"])


def test_an_unchanged_draft_reads_no_case_and_a_towns_redraw_the_same_as_in_full(redraw) -> None:  # type: ignore[no-untyped-def]
    engine, active, draft = redraw
    same = Layer(LayerKind.GRIDS, active[LayerKind.GRIDS].frame.copy())
    found, _ = _both(engine, LayerKind.GRIDS, {**active}, same)
    # only the stale places are read: those cases move to the layer's own team and town
    assert all(
        m["from"]["grid_code"] == m["to"]["grid_code"]
        for m in moved_cases(found.cases, found.after)
    )
    towns = active[LayerKind.TOWNS].frame.copy()
    towns.loc[0, "geometry"] = shapely.box(X0, Y0, X0 + 2 * STEP, Y0 + SIDE * STEP)
    towns.loc[1, "geometry"] = shapely.box(X0 + 2 * STEP, Y0, X0 + SIDE * STEP, Y0 + SIDE * STEP)
    _both(engine, LayerKind.TOWNS, active, Layer(LayerKind.TOWNS, towns))
    _both(engine, LayerKind.STREETS, active, draft)
