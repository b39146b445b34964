"""What a redraw does to the cases: each case's place matched again under a draft.

The impact preview and the publish share these, so the preview is exactly what
publishing will do: the open and recent cases as columns, each one's place
(grid, unit, committee, team, town) under the draft, the moves, the features
added, removed and changed, and the per-grid workload before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from sqlalchemy import Connection

from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.matching import containing
from gridsvc.core.measures import street_km
from gridsvc.core.redraw import rematch, unchanged_map
from gridsvc.services.matching import cell
from gridsvc.store import cases as case_store
from gridsvc.store.rematch import cases_at, place_counts

IMPACT_WINDOW = timedelta(days=90)
MATCHED_KINDS = (LayerKind.GRIDS, LayerKind.UNITS, LayerKind.COMMITTEES)
LEVEL_FIELD = {
    LayerKind.GRIDS: "grid_code",
    LayerKind.UNITS: "unit_code",
    LayerKind.COMMITTEES: "committee_code",
}


PLACE = ("grid_code", "unit_code", "committee_code", "team", "town_code")
CASE_COLUMNS = ("id", "number", "status", "lon", "lat", *PLACE)


Columns = dict[str, np.ndarray]
Ints = NDArray[np.int64]


def case_columns(rows: list[tuple[Any, ...]]) -> Columns:
    """The cases as one array per column: object arrays keep None as None (pandas makes NaN)."""
    out = {  # one C-level pass per column: a Python transpose of a million rows takes seconds
        name: np.fromiter(map(itemgetter(k), rows), dtype=object, count=len(rows))
        for k, name in enumerate(CASE_COLUMNS)
    }
    for name in ("lon", "lat"):
        out[name] = out[name].astype(np.float64)
    return out


def places(cases: Columns) -> Columns:
    """A copy of each place column (grid, unit, committee, team)."""
    return {name: cases[name].copy() for name in PLACE}


def rematched_places(
    kind: LayerKind, active: dict[LayerKind, Layer], draft: Layer, cases: Columns
) -> Columns:
    """Each case's place (grid, unit, committee, team, town) under the draft, as columns.

    Only points in polygons the draft changes are matched again (core/redraw.py); a
    case keeps its place where the draft leaves no polygon over it (a report allowed
    just outside keeps its nearest grid). Whole columns at once: a district's
    million cases cost a few numpy passes, not a million dicts.
    """
    after = places(cases)
    if len(cases["id"]) == 0:
        return after
    if kind in MATCHED_KINDS:
        _rematch_level(kind, active, draft, cases, after)
    if kind in (LayerKind.GRIDS, LayerKind.TOWNS):
        _retown(kind, active, draft, after)
    return after


def _retown(kind: LayerKind, active: dict[LayerKind, Layer], draft: Layer, after: Columns) -> None:
    """A case's town is its grid's: a redraw of the grids or of the towns moves it to the
    town its (new) grid lies in. Nothing changes where there is no towns layer."""
    grids = draft if kind == LayerKind.GRIDS else active.get(LayerKind.GRIDS)
    towns = draft if kind == LayerKind.TOWNS else active.get(LayerKind.TOWNS)
    if grids is None or towns is None:
        return
    town_of_grid = containing(grids, towns)
    town_codes = towns.frame["code"].astype(str).to_numpy(dtype=object)
    grid_index = pd.Index(grids.frame["code"].astype(str)).get_indexer(
        [c or "" for c in after["grid_code"]]
    )
    hit = grid_index >= 0
    town = town_of_grid[grid_index[hit]]
    found = town >= 0
    rows = np.flatnonzero(hit)[found]
    after["town_code"][rows] = town_codes[town[found]]


def _kept_index(
    kind: LayerKind, active: dict[LayerKind, Layer], draft: Layer, codes: np.ndarray
) -> tuple[Ints, Ints]:
    """Each case's old polygon at level ``kind`` (from its stored code, -1: none) and, per
    old polygon, the identical draft polygon (``unchanged_map``; -1: changed or removed)."""
    old = active.get(kind)
    old_codes = (
        old.frame["code"].astype(str).to_numpy() if old is not None else np.array([], dtype=str)
    )
    old_geoms = old.frame.geometry.to_numpy() if old is not None else np.array([], dtype=object)
    same = unchanged_map(
        old_codes, old_geoms, draft.frame["code"].astype(str).to_numpy(), draft.frame.geometry
    )
    before = pd.Index(old_codes).get_indexer([c or "" for c in codes])
    return before, same


def _needs_points(
    kind: LayerKind, active: dict[LayerKind, Layer], draft: Layer, cases: Columns
) -> np.ndarray:
    """Which cases ``rematch`` places by their point: those whose old polygon at level
    ``kind`` is not in the draft as it was (changed, removed, or none at all)."""
    if kind not in MATCHED_KINDS:
        return np.zeros(len(cases["id"]), dtype=bool)
    before, same = _kept_index(kind, active, draft, cases[LEVEL_FIELD[kind]])
    if same.size == 0:
        return np.ones(len(before), dtype=bool)
    return (before < 0) | (same[before.clip(0)] < 0)


def _rematch_level(
    kind: LayerKind,
    active: dict[LayerKind, Layer],
    draft: Layer,
    cases: Columns,
    after: Columns,
) -> None:
    """The polygon level ``kind`` matched again where the draft changes it (in ``after``)."""
    field = LEVEL_FIELD[kind]
    new_codes = draft.frame["code"].astype(str).to_numpy()
    new_geoms = draft.frame.geometry.to_numpy()
    before, same = _kept_index(kind, active, draft, cases[field])
    lon, lat = cases["lon"], cases["lat"]
    index = rematch(before, lon, lat, same, new_codes, new_geoms)
    hit = index >= 0
    after[field][hit] = new_codes[index[hit]]
    if kind == LayerKind.GRIDS:
        teams = np.array([cell(t) for t in draft.frame["team"].to_numpy()], dtype=object)
        after["team"][hit] = [None if t is None else str(t) for t in teams[index[hit]]]


def _moves(cases: Columns, after: Columns) -> np.ndarray:
    """Which cases' place (any of grid, unit, committee, team, town) changes."""
    differs = np.zeros(len(cases["id"]), dtype=bool)
    for name in PLACE:
        differs |= cases[name] != after[name]
    return differs


def moved_cases(cases: Columns, after: Columns) -> list[dict[str, Any]]:
    """The cases whose place changes, each with where it was and where it goes."""
    was = places(cases)
    rows = np.flatnonzero(_moves(cases, after))
    ids, numbers, statuses = (cases[c][rows].tolist() for c in ("id", "number", "status"))
    lons, lats = (cases[c][rows].tolist() for c in ("lon", "lat"))
    before = {k: was[k][rows].tolist() for k in PLACE}
    now = {k: after[k][rows].tolist() for k in PLACE}
    return [
        {
            "id": ids[n],
            "number": numbers[n],
            "lon": lons[n],
            "lat": lats[n],
            "status": statuses[n],
            "open": statuses[n] not in case_store.OPEN_EXCLUDED,
            "from": {k: before[k][n] for k in PLACE},
            "to": {k: now[k][n] for k in PLACE},
        }
        for n in range(len(rows))
    ]


#: how far (metres) a vertex may move before a shape counts as changed
JITTER_M = 0.01


@dataclass(frozen=True)
class Zoned:
    """The active layer and the draft in the draft's Gauss-Krüger zone, projected once:
    the feature changes and the workload's areas both measure there (a city's 20,000
    grids take a quarter of a second to project)."""

    epsg: int
    old: gpd.GeoDataFrame | None
    new: gpd.GeoDataFrame

    @classmethod
    def of(cls, active: Layer | None, draft: Layer) -> Zoned:
        epsg = draft.work_epsg()
        old = active.projected(epsg) if active is not None else None
        return cls(epsg, old, draft.projected(epsg))

    def areas_km2(self) -> tuple[dict[str, float], dict[str, float]]:
        """Each feature's area in km² by code, before and after (as ``measures.area_km2``)."""
        return tuple(  # type: ignore[return-value]
            {}
            if frame is None
            else dict(
                zip(
                    frame["code"].astype(str),
                    (np.asarray(frame.geometry.area, dtype=np.float64) / 1e6).tolist(),
                    strict=True,
                )
            )
            for frame in (self.old, self.new)
        )


def feature_changes(
    active: Layer | None, draft: Layer, zoned: Zoned | None = None
) -> dict[str, Any]:
    """Features added, removed and changed by code, with area and perimeter changes (m²/m).

    Compared in bulk (shapely's vectorised ``equals`` over the codes both
    versions have, after ``equals_exact`` passed the shapes stored as they were):
    a district's 20,000 grids take a fraction of a second.
    A shape whose every vertex lies within ``JITTER_M`` of the old one (a
    file that went through another GIS and back, its coordinates rounded)
    has not changed: no planner moved a boundary by a millimetre.
    """
    zoned = zoned or Zoned.of(active, draft)
    new = zoned.new.set_index("code")
    old = zoned.old.set_index("code") if zoned.old is not None else new.iloc[0:0]
    common = sorted(set(old.index) & set(new.index))
    a, b = old.loc[common], new.loc[common]
    a_geoms, b_geoms = a.geometry.to_numpy(), b.geometry.to_numpy()
    # the same vertices are the same shape (and no distance apart): only the others need
    # the topological test, which costs 50 µs a grid
    same_shape = shapely.equals_exact(a_geoms, b_geoms, tolerance=0.0)
    inexact = np.flatnonzero(~same_shape)
    same_shape[inexact] = shapely.equals(a_geoms[inexact], b_geoms[inexact])
    unequal = np.flatnonzero(~same_shape)
    moved = shapely.hausdorff_distance(a_geoms[unequal], b_geoms[unequal])
    same_shape[unequal] = moved <= JITTER_M
    same_attrs = np.ones(len(common), dtype=bool)
    for name in ("name", "parent_code", "team"):
        left = a[name].to_numpy(dtype=object) if name in a else np.full(len(common), None)
        right = b[name].to_numpy(dtype=object) if name in b else np.full(len(common), None)
        same_attrs &= np.array([x == y for x, y in zip(left, right, strict=True)], dtype=bool)
    area = shapely.area(b_geoms) - shapely.area(a_geoms)
    length = shapely.length(b_geoms) - shapely.length(a_geoms)
    changed = [
        {
            "code": code,
            "area_change_m2": round(float(area[i]), 1),
            "perimeter_change_m": round(float(length[i]), 1),
            "geometry_changed": not bool(same_shape[i]),
            "attributes_changed": not bool(same_attrs[i]),
        }
        for i, code in enumerate(common)
        if not (same_shape[i] and same_attrs[i])
    ]
    return {
        "added": sorted(set(new.index) - set(old.index)),
        "removed": sorted(set(old.index) - set(new.index)),
        "changed": changed,
    }


@dataclass(frozen=True)
class Tally:
    """The cases as the workload counts them: grid before and after, open, and how many
    cases each row stands for (1 for a case read, its count for a place counted)."""

    before: np.ndarray
    after: np.ndarray
    open: np.ndarray
    weight: np.ndarray

    @classmethod
    def of(cls, cases: Columns, after: Columns) -> Tally:
        """Each case once."""
        is_open = ~np.isin(cases["status"].astype(str), case_store.OPEN_EXCLUDED)
        ones = np.ones(len(cases["id"]), dtype=np.int64)
        return cls(cases["grid_code"], after["grid_code"], is_open, ones)

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            *(
                np.concatenate([getattr(self, f), getattr(other, f)])
                for f in ("before", "after", "open", "weight")
            )
        )

    def per_grid(self, codes: np.ndarray, rows: np.ndarray | None = None) -> dict[str, int]:
        """Cases by grid code (of ``rows`` only, when given); no grid is not counted."""
        weight = self.weight if rows is None else self.weight[rows]
        codes = codes if rows is None else codes[rows]
        counts = pd.Series(weight).groupby(pd.Series(codes, dtype=object), sort=False).sum()
        return {str(k): int(v) for k, v in counts.items()}


@dataclass(frozen=True)
class Rematched:
    """A window's re-match: the cases that can move (read one by one, by id), their places
    under the draft, how many cases were checked, and the tally of all of them."""

    cases: Columns
    after: Columns
    checked: int
    tally: Tally


#: the place columns a redraw of a kind can change, the first the one its cases are read
#: by; the grid always, for the workload's counts
GROUPED: dict[LayerKind, tuple[str, ...]] = {
    LayerKind.GRIDS: ("grid_code", "team", "town_code"),
    LayerKind.UNITS: ("unit_code", "grid_code"),
    LayerKind.COMMITTEES: ("committee_code", "grid_code"),
    LayerKind.TOWNS: ("grid_code", "town_code"),
}
READ_ALL_SHARE = 0.5  # past this share of the cases to read by place, one full read is faster


def rematch_window(
    conn: Connection,
    kind: LayerKind,
    active: dict[LayerKind, Layer],
    draft: Layer,
    since: datetime,
    town: str | None = None,
) -> Rematched:
    """The open and recent cases (of ``town``) re-matched under the draft, reading only
    the cases a redraw can move.

    The cases are first counted by place in the database. A place whose polygon the
    draft keeps as it was, and whose other columns (team, town) the draft leaves as
    they are, holds cases that stay: they are counted, not read. The cases of every
    other place (and of none) are read and re-matched one by one, as
    ``rematched_places`` does for all; a case's answer depends on its own place and
    point alone, so the moves and the counts are those of the full re-match
    (tests/services/test_impact_window.py). A district redraw touching a tenth of
    its grids reads a tenth of its cases.
    """
    columns = GROUPED.get(kind, ("grid_code",))
    counted = place_counts(conn, since, columns, town)
    weight = np.fromiter(map(itemgetter(-1), counted), dtype=np.int64, count=len(counted))
    is_open = np.fromiter(map(itemgetter(-2), counted), dtype=bool, count=len(counted))
    places_counted = {name: np.full(len(counted), None, dtype=object) for name in CASE_COLUMNS} | {
        name: np.full(len(counted), np.nan) for name in ("lon", "lat")
    }
    for k, name in enumerate(columns):
        places_counted[name] = np.fromiter(
            map(itemgetter(k), counted), dtype=object, count=len(counted)
        )
    places_counted["id"] = np.arange(len(counted))
    unsettled = _moves(
        places_counted, rematched_places(kind, active, draft, places_counted)
    ) | _needs_points(kind, active, draft, places_counted)
    kept = np.ones(len(counted), dtype=bool)  # places whose cases are counted, not read
    read = case_columns([])
    if not unsettled.any():
        pass
    elif weight[unsettled].sum() > READ_ALL_SHARE * weight.sum():
        read, kept = case_columns(cases_at(conn, since, None, (), False, town)), ~kept
    else:
        at = places_counted[columns[0]]
        codes = {str(c) for c in at[unsettled] if c is not None}
        null_read = any(c is None for c in at[unsettled])
        kept = np.fromiter(
            ((c not in codes) if c is not None else not null_read for c in at),
            dtype=bool,
            count=len(at),
        )
        read = case_columns(cases_at(conn, since, columns[0], sorted(codes), null_read, town))
    after = rematched_places(kind, active, draft, read)
    grid = places_counted["grid_code"][kept]
    tally = Tally(grid, grid, is_open[kept], weight[kept]) + Tally.of(read, after)
    return Rematched(read, after, int(weight.sum()), tally)


def grid_workload(
    active: Layer | None,
    draft: Layer,
    tally: Tally,
    streets: Layer | None = None,
    zoned: Zoned | None = None,
) -> list[dict[str, Any]]:
    """Per grid, before and after: cases per month (last 90 days), open cases, area, street km."""
    zoned = zoned or Zoned.of(active, draft)
    epsg = zoned.epsg
    months = IMPACT_WINDOW.days / 30.0
    # one counting pass per column: a comparison per grid would be grids × cases
    opened = np.flatnonzero(tally.open)
    per_grid = {
        "before": tally.per_grid(tally.before),
        "after": tally.per_grid(tally.after),
        "open_before": tally.per_grid(tally.before, opened),
        "open_after": tally.per_grid(tally.after, opened),
    }
    areas_old, areas_new = zoned.areas_km2()
    km_new = street_km(draft, streets, epsg)
    km_old = street_km(active, streets, epsg) if active is not None else {}
    rows = []
    for code in sorted(set(areas_new) | set(areas_old)):
        rows.append(
            {
                "grid_code": code,
                "area_km2_before": round(areas_old.get(code, 0.0), 4),
                "area_km2_after": round(areas_new.get(code, 0.0), 4),
                "cases_per_month_before": round(per_grid["before"].get(code, 0) / months, 1),
                "cases_per_month_after": round(per_grid["after"].get(code, 0) / months, 1),
                "open_before": int(per_grid["open_before"].get(code, 0)),
                "open_after": int(per_grid["open_after"].get(code, 0)),
                "street_km_before": round(km_old.get(code, 0.0), 3),
                "street_km_after": round(km_new.get(code, 0.0), 3),
            }
        )
    return rows
