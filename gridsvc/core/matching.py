"""Matcher: a point (or a million) → grid, unit, committee, street, team.

Point-in-polygon questions are answered in the storage CRS (CGCS2000
lon/lat), where the boundaries are defined, by one exact
:class:`~gridsvc.core.cells.CellLocator` per level; distances are
measured in the jurisdiction's Gauss-Krüger zone. One report and a bulk
import take the same vectorised path (a single point is an array of one),
so they cannot disagree.

Rules, documented once here and applied everywhere:

* A point on a shared edge or vertex belongs to the feature with the lowest
  code among those whose closure holds it; the same for streets at exactly
  equal distance.
* The jurisdiction is the jurisdiction layer, or the union of the grids when
  none is given. A point outside it is ``outside``, with the distance to its
  boundary and the nearest grid.
* Longitude must lie in [-180, 180] and latitude in [-90, 90]; a point whose
  swapped pair falls in (or within ~10 km of) the jurisdiction while it
  does not is refused as swapped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from gridsvc.core.cells import CellLocator
from gridsvc.core.crs import CGCS2000, WGS84, InputCRS, to_cgcs2000, transformer
from gridsvc.core.errors import CoordinatesOutOfRange, InvalidInput, SwappedCoordinates
from gridsvc.core.kinds import LayerKind, town_level
from gridsvc.core.layers import Layer
from gridsvc.core.locator import Locator
from gridsvc.core.messages import Msg
from gridsvc.core.outside import OutsideSearch
from gridsvc.core.ragged import first_per_group
from gridsvc.core.streets import StreetIndex

MATCHED, OUTSIDE, INVALID = "matched", "outside", "invalid"
SWAP_MARGIN_DEG = 0.1  # a swapped point this close to the jurisdiction's box is called swapped
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

# The columns a bulk match adds to the input, in this order.
COLUMNS = (
    "town_code",
    "town_name",
    "grid_code",
    "grid_name",
    "unit_code",
    "unit_name",
    "committee_code",
    "committee_name",
    "street_id",
    "street_name",
    "street_distance_m",
    "team",
    "status",
    "reason",
    "boundary_distance_m",
    "nearest_grid_code",
)


@dataclass(frozen=True)
class Level:
    """One polygon level with its locator and the attributes matching hands out."""

    layer: Layer
    locator: Locator

    def column(self, name: str) -> NDArray[np.object_]:
        return layer_column(self.layer, name)


def layer_column(layer: Layer, name: str) -> NDArray[np.object_]:
    """A layer's attribute as objects, missing values as None (absent column: all None)."""
    frame = layer.frame
    if name not in frame.columns:
        return np.full(len(frame), None, dtype=object)
    return frame[name].astype(object).where(frame[name].notna(), None).to_numpy()


def _code_rank(codes: pd.Series) -> Ints:
    """Rank of each code in ascending order: the tie rule's 'lowest code wins'."""
    return np.argsort(np.argsort(codes.astype(str).to_numpy(), kind="stable"), kind="stable")


def _cell_size(layer: Layer, metres: float) -> tuple[float, float]:
    """A fine cell of about ``metres`` on the ground, in degrees at the layer's latitude."""
    _, miny, _, maxy = layer.frame.total_bounds
    lat = np.radians((miny + maxy) / 2.0)
    return metres / (_M_PER_DEG_LON_EQUATOR * max(np.cos(lat), 0.01)), metres / _M_PER_DEG_LAT


def build_level(
    layer: Layer, cell_m: float = 2.5, tables: Mapping[str, NDArray[Any]] | None = None
) -> Level:
    """Index one polygon layer for matching with the adaptive cell tree: exact, and its cost
    follows the boundaries (a 20,000-grid city: about 2 s and 55 MB, where the fixed raster
    took 8 s and 120 MB; Shanghai's districts with their islands: 0.3 s where the raster took
    a minute), with the raster's bulk speed (benchmarks/bench_cells.py)."""
    polygons = np.asarray(layer.frame.geometry.array, dtype=object)
    if tables is not None:  # a locator built before over this very layer (Matcher.tables)
        return Level(layer, CellLocator.from_arrays(polygons, dict(tables)))
    cell, rank = _cell_size(layer, cell_m), _code_rank(layer.codes)
    return Level(layer, CellLocator(polygons, cell, rank=rank))


@dataclass
class MatchTable:
    """Bulk result: one entry per input point, indexes into the layers (-1 = none)."""

    status: NDArray[np.object_]
    reason: NDArray[np.object_]
    grid: Ints
    unit: Ints
    committee: Ints
    street: Ints
    street_distance_m: Floats
    boundary_distance_m: Floats
    nearest_grid: Ints
    lon: Floats = field(repr=False)
    lat: Floats = field(repr=False)


@dataclass(frozen=True)
class Match:
    """The answer for one point, as the API and the case service use it."""

    status: str
    reason: str | None
    lon: float
    lat: float
    grid_code: str | None
    grid_name: str | None
    town_code: str | None
    town_name: str | None
    unit_code: str | None
    unit_name: str | None
    committee_code: str | None
    committee_name: str | None
    team: str | None
    street_id: str | None
    street_name: str | None
    street_distance_m: float | None
    boundary_distance_m: float | None
    nearest_grid_code: str | None
    #: ``reason`` in any language (``reason`` itself is English)
    said: Msg | None = field(default=None, repr=False, compare=False)

    def fields(self) -> dict[str, Any]:
        """The answer's fields as plain values (``said`` left out: it is the reason's words)."""
        return {k: v for k, v in self.__dict__.items() if k != "said"}


class Matcher:
    """Everything needed to match points against a town's layers, built once."""

    def __init__(
        self,
        grids: Layer,
        *,
        units: Layer | None = None,
        committees: Layer | None = None,
        jurisdiction: Layer | None = None,
        towns: Layer | None = None,
        streets: Layer | None = None,
        street_radius_m: float = 50.0,
        cell_m: float = 2.5,
        tables: Mapping[str, Mapping[str, NDArray[Any]]] | None = None,
    ) -> None:
        """``tables``: :meth:`tables` of a matcher built over these same layers with the
        same radius and cell size; its indexes are taken as they are instead of built
        (the caller vouches that they fit: see gridsvc.store.index_cache)."""
        built = tables or {}
        self.grids = build_level(grids, cell_m, built.get("grids"))
        self.units = build_level(units, cell_m, built.get("units")) if units is not None else None
        self.committees = (
            build_level(committees, cell_m, built.get("committees"))
            if committees is not None
            else None
        )
        # Without a jurisdiction layer the jurisdiction is the union of the grids, so
        # "inside" is "in a grid" and needs no locator of its own.
        self.jurisdiction = (
            build_level(jurisdiction, cell_m, built.get("jurisdiction"))
            if jurisdiction is not None
            else None
        )
        self.work_epsg = grids.work_epsg()
        self.street_radius_m = street_radius_m
        self.streets = streets
        if streets is not None and "streets" in built:
            self._streets: StreetIndex | None = StreetIndex.from_arrays(dict(built["streets"]))
        else:
            self._streets = self._build_streets(streets, street_radius_m)
        self._swap_box = _grown_bounds(jurisdiction or grids, SWAP_MARGIN_DEG)
        self._to_work = transformer(CGCS2000, f"EPSG:{self.work_epsg}")
        # the town (街镇) a grid lies in: a district's towns layer, or a single town's
        # jurisdiction; a point takes its grid's town, so it costs no lookup of its own
        levels = {LayerKind.TOWNS: towns, LayerKind.JURISDICTION: jurisdiction}
        self._towns = levels[town_level([k for k, v in levels.items() if v is not None])]
        #: the district centre's code where towns lie under a district (None: a single town)
        self.district_code = (
            str(jurisdiction.frame["code"].iloc[0])
            if towns is not None and jurisdiction is not None and len(jurisdiction)
            else None
        )
        self._grid_town = (
            np.asarray(built["grid_town"]["index"])
            if "grid_town" in built
            else containing(grids, self._towns)
        )
        self._attrs = self._attribute_arrays()
        grid_towns = self._column_for("town_code", self._grid_town)
        self._town_by_grid = {
            str(g): str(t) for g, t in zip(self._attrs["grid_code"], grid_towns, strict=False) if t
        }
        give_back_freed_memory()

    def tables(self) -> dict[str, dict[str, NDArray[Any]]]:
        """The built indexes as plain arrays, by part: what ``Matcher(..., tables=)`` takes
        to skip building them again (a server process starting on a cached index)."""
        out = {"grid_town": {"index": np.asarray(self._grid_town, dtype=np.int64)}}
        for name in ("grids", "units", "committees", "jurisdiction"):
            level = getattr(self, name)
            if level is not None and isinstance(level.locator, CellLocator):
                out[name] = level.locator.to_arrays()
        if self._streets is not None:
            out["streets"] = self._streets.to_arrays()
        return out

    @cached_property
    def _outside(self) -> OutsideSearch:
        """The grids (and the jurisdiction) in metres, for an outside point's nearest grid
        and distance (built when first asked: most processes never see an outside point
        before they are well up; not part of :meth:`tables`)."""
        grids = np.asarray(self.grids.layer.projected(self.work_epsg).geometry.array)
        jurisdiction = (
            np.asarray(self.jurisdiction.layer.projected(self.work_epsg).geometry.array)
            if self.jurisdiction is not None
            else None
        )
        return OutsideSearch(grids, self.grids.locator.rank, jurisdiction)

    def _build_streets(self, streets: Layer | None, radius: float) -> StreetIndex | None:
        if streets is None:
            return None
        lines = np.asarray(streets.projected(self.work_epsg).geometry.array, dtype=object)
        return StreetIndex(lines, radius, rank=_code_rank(streets.codes))

    def _attribute_arrays(self) -> dict[str, NDArray[np.object_]]:
        a = {
            "grid_code": self.grids.column("code"),
            "grid_name": self.grids.column("name"),
            "team": self.grids.column("team"),
        }
        if self._towns is not None:
            a["town_code"] = layer_column(self._towns, "code")
            a["town_name"] = layer_column(self._towns, "name")
        for prefix, level in (("unit", self.units), ("committee", self.committees)):
            if level is not None:
                a[f"{prefix}_code"], a[f"{prefix}_name"] = (
                    level.column("code"),
                    level.column("name"),
                )
        if self.streets is not None:
            a["street_id"] = self.streets.frame["code"].astype(str).to_numpy(dtype=object)
            a["street_name"] = self.streets.frame["name"].astype(object).to_numpy()
        return a

    def town_of(self, grid_code: str | None) -> str | None:
        """The code of the town a grid lies in (None without a towns or jurisdiction layer)."""
        return self._town_by_grid.get(grid_code) if grid_code is not None else None

    def town_name_of(self, grid_code: str | None) -> str | None:
        """The name of the town a grid lies in: what an outside point's refusal names."""
        hit = np.flatnonzero(self._attrs["grid_code"] == grid_code)[:1]
        names = self._column_for("town_name", _take_int(self._grid_town, hit))
        return str(names[0]) if names.size and names[0] else None

    def team_of(self, grid_code: str | None) -> str | None:
        """The responsible team of a grid, by code."""
        hit = np.flatnonzero(self._attrs["grid_code"] == grid_code)
        return self._attrs["team"][hit[0]] if hit.size else None

    @property
    def nbytes(self) -> int:
        """Memory of the lookup tables (rasters and street hash), for the benchmark."""
        levels = [self.grids, self.units, self.committees, self.jurisdiction]
        total = sum(level.locator.nbytes for level in levels if level is not None)
        return total + (self._streets.nbytes if self._streets is not None else 0)

    # ---- bulk -------------------------------------------------------------------------

    def match_points(self, lon: ArrayLike, lat: ArrayLike, crs: InputCRS = WGS84) -> MatchTable:
        """Match many points at once (no per-point Python loop)."""
        raw_x = np.asarray(lon, dtype=np.float64).ravel()
        raw_y = np.asarray(lat, dtype=np.float64).ravel()
        n = raw_x.size
        status = np.full(n, MATCHED, dtype=object)
        reason = np.full(n, None, dtype=object)
        x, y = self._geographic(raw_x, raw_y, crs)
        bad = ~(np.isfinite(x) & np.isfinite(y)) | (np.abs(x) > 180) | (np.abs(y) > 90)
        table = self._empty_table(status, reason, x, y)
        ok = np.flatnonzero(~bad)
        table.grid[ok] = self.grids.locator.locate(x[ok], y[ok])
        inside = self._inside(table, ok)
        swapped = self._looks_swapped(raw_x, raw_y, crs, ~inside)
        status[bad | swapped] = INVALID
        reason[bad] = Msg("reason.out_of_range")
        reason[~(np.isfinite(raw_x) & np.isfinite(raw_y))] = Msg("reason.missing")
        reason[swapped] = Msg("reason.swapped")
        table.grid[swapped] = -1
        outside = ~inside & ~bad & ~swapped
        status[outside] = OUTSIDE
        self._locate_levels(table, np.flatnonzero(inside))
        self._measure(table, np.flatnonzero(~bad & ~swapped), outside)
        return table

    def _inside(self, table: MatchTable, ok: Ints) -> NDArray[np.bool_]:
        """Which points lie in the jurisdiction (its layer, or else any grid)."""
        if self.jurisdiction is None:
            return table.grid >= 0
        inside = np.zeros(table.grid.size, dtype=bool)
        inside[ok] = self.jurisdiction.locator.locate(table.lon[ok], table.lat[ok]) >= 0
        return inside

    def _geographic(self, raw_x: Floats, raw_y: Floats, crs: InputCRS) -> tuple[Floats, Floats]:
        """Input coordinates → CGCS2000 lon/lat; non-finite results stay non-finite."""
        if crs.kind == "geographic":
            return raw_x, raw_y
        with np.errstate(all="ignore"):
            return to_cgcs2000(raw_x, raw_y, crs)

    def _looks_swapped(
        self, raw_x: Floats, raw_y: Floats, crs: InputCRS, candidates: NDArray[np.bool_]
    ) -> NDArray[np.bool_]:
        """Points not in the jurisdiction whose (lat, lon) pair would be near or in it."""
        swapped = np.zeros(raw_x.size, dtype=bool)
        idx = np.flatnonzero(candidates & np.isfinite(raw_x) & np.isfinite(raw_y))
        if idx.size == 0:
            return swapped
        sx, sy = self._geographic(raw_y[idx], raw_x[idx], crs)
        minx, miny, maxx, maxy = self._swap_box
        near = (sx >= minx) & (sx <= maxx) & (sy >= miny) & (sy <= maxy)
        swapped[idx[near]] = True
        return swapped

    def _empty_table(
        self, status: NDArray[np.object_], reason: NDArray[np.object_], x: Floats, y: Floats
    ) -> MatchTable:
        n = status.size
        none = np.full(n, -1, dtype=np.int64)
        return MatchTable(
            status,
            reason,
            none.copy(),
            none.copy(),
            none.copy(),
            none.copy(),
            np.full(n, np.nan),
            np.full(n, np.nan),
            none.copy(),
            x,
            y,
        )

    def _locate_levels(self, table: MatchTable, idx: Ints) -> None:
        """Unit and committee of the points inside the jurisdiction; grid gaps made outside."""
        x, y = table.lon[idx], table.lat[idx]
        if self.units is not None:
            table.unit[idx] = self.units.locator.locate(x, y)
        if self.committees is not None:
            table.committee[idx] = self.committees.locator.locate(x, y)
        gap = idx[table.grid[idx] < 0]
        table.status[gap] = OUTSIDE
        table.reason[gap] = Msg("reason.gap")

    def _measure(self, table: MatchTable, valid: Ints, is_outside: NDArray[np.bool_]) -> None:
        """Nearest street for valid points; boundary distance and nearest grid for outside ones."""
        if valid.size == 0:
            return
        mx, my = self._to_work.transform(table.lon[valid], table.lat[valid])
        if self._streets is not None:
            table.street[valid], table.street_distance_m[valid] = self._streets.nearest(mx, my)
        # far enough from the zone's central meridian (some 90 degrees), the projection has
        # no answer: such a point is outside, with no nearest grid or distance to give
        measurable = np.isfinite(mx) & np.isfinite(my)
        far = valid[is_outside[valid] & ~measurable]
        table.reason[far] = Msg("reason.too_far", epsg=self.work_epsg)
        where = is_outside[valid] & measurable
        if not where.any():
            return
        outside = valid[where]
        # the nearest grid (lowest code among equidistant ones) and the distance to the
        # jurisdiction: gridsvc.core.outside
        nearest, boundary = self._outside.measure(mx[where], my[where], table.grid[outside])
        table.nearest_grid[outside] = nearest
        table.boundary_distance_m[outside] = boundary
        codes = self._attrs["grid_code"][nearest]
        towns = self._column_for("town_name", _take_int(self._grid_town, nearest))
        table.reason[outside] = [
            Msg("reason.outside_in", metres=d, grid=c, town=t)
            if t
            else Msg("reason.outside", metres=d, grid=c)
            for d, c, t in zip(boundary, codes, towns, strict=True)
        ]

    def frame(self, table: MatchTable, lang: str = "en") -> pd.DataFrame:
        """The bulk result as columns (codes and names, not indexes), in input order; the
        reasons in ``lang``."""
        out = {
            name: _take(values, self._index_for(name, table))
            for name, values in self._attrs.items()
        }
        out["street_distance_m"] = np.round(table.street_distance_m, 2)
        out["boundary_distance_m"] = np.round(table.boundary_distance_m, 2)
        out["nearest_grid_code"] = _take(self._attrs["grid_code"], table.nearest_grid)
        out["status"] = table.status
        out["reason"] = _said(table.reason, lang)
        n = table.status.size
        return pd.DataFrame({c: out.get(c, np.full(n, None, dtype=object)) for c in COLUMNS})

    def _column_for(self, name: str, index: Ints) -> NDArray[np.object_]:
        """Attribute ``name`` of the features at ``index`` (None where -1 or unknown)."""
        if name not in self._attrs:
            return np.full(index.size, None, dtype=object)
        return _take(self._attrs[name], index)

    def _index_for(self, name: str, table: MatchTable) -> Ints:
        prefix = name.split("_")[0]
        return {
            "town": _take_int(self._grid_town, table.grid),
            "grid": table.grid,
            "team": table.grid,
            "unit": table.unit,
            "committee": table.committee,
            "street": table.street,
        }[prefix]

    # ---- one point --------------------------------------------------------------------

    def match_point(self, lon: float, lat: float, crs: InputCRS = WGS84) -> Match:
        """Match one report's point; invalid coordinates raise a precise error.

        A point inside a grid and the jurisdiction, nearly every report, is read
        from the same tables with plain arithmetic (numpy's overhead on arrays of
        one cost more than the lookups). Anything else (outside, a gap, invalid,
        swapped) goes through :meth:`match_points` on an array of one, so those
        rules live in one place. A property test holds the two to one answer.
        """
        inside = self._match_inside(lon, lat, crs)
        if inside is not None:
            return inside
        table = self.match_points([lon], [lat], crs)
        if table.status[0] == INVALID:
            raise _invalid_error(table.reason[0], lon, lat)
        x, y, said = float(table.lon[0]), float(table.lat[0]), table.reason[0]
        return Match(lon=x, lat=y, said=said, **self._row(table, 0))

    def _match_inside(self, lon: float, lat: float, crs: InputCRS) -> Match | None:
        """The match of a point inside a grid and the jurisdiction, else None."""
        x, y = float(lon), float(lat)
        if crs.kind != "geographic":
            gx, gy = self._geographic(np.array([x]), np.array([y]), crs)
            x, y = float(gx[0]), float(gy[0])
        if not (math.isfinite(x) and math.isfinite(y) and abs(x) <= 180 and abs(y) <= 90):
            return None
        grid = self.grids.locator.locate_one(x, y)
        if grid < 0:
            return None
        if self.jurisdiction is not None and self.jurisdiction.locator.locate_one(x, y) < 0:
            return None
        town = int(self._grid_town[grid]) if self._grid_town.size else -1
        found = {"town": town, "grid": grid, "team": grid, "unit": -1, "committee": -1}
        found["street"] = -1
        if self.units is not None:
            found["unit"] = self.units.locator.locate_one(x, y)
        if self.committees is not None:
            found["committee"] = self.committees.locator.locate_one(x, y)
        street_m = None
        if self._streets is not None:
            mx, my = self._to_work.transform(x, y)
            found["street"], distance = self._streets.nearest_one(mx, my)
            street_m = None if math.isnan(distance) else round(distance, 2)
        row = self._named(lambda name: found[name.split("_")[0]])
        row["street_distance_m"], row["status"] = street_m, MATCHED
        return Match(lon=x, lat=y, **row)

    def _named(self, index_of: Callable[[str], int]) -> dict[str, Any]:
        """A result row with the codes and names filled in; ``index_of(attribute)`` is the
        index of the feature it comes from, -1 for none."""
        row: dict[str, Any] = {c: None for c in COLUMNS}
        for name, values in self._attrs.items():
            j = index_of(name)
            row[name] = values[j] if j >= 0 else None
        return row

    def _row(self, table: MatchTable, i: int) -> dict[str, Any]:
        """Row ``i`` of :meth:`frame` as plain Python values, without building a DataFrame."""
        row = self._named(lambda name: int(self._index_for(name, table)[i]))
        for name in ("street_distance_m", "boundary_distance_m"):
            value = float(getattr(table, name)[i])
            row[name] = None if np.isnan(value) else round(value, 2)
        nearest = int(table.nearest_grid[i])
        row["nearest_grid_code"] = self._attrs["grid_code"][nearest] if nearest >= 0 else None
        said = table.reason[i]
        row["status"], row["reason"] = table.status[i], said.text("en") if said else None
        return row


def _said(reasons: NDArray[np.object_], lang: str) -> NDArray[np.object_]:
    """Reasons (messages, or None) as text in ``lang``."""
    out = np.full(reasons.size, None, dtype=object)
    for i in np.flatnonzero(reasons != None):  # noqa: E711 (elementwise)
        out[i] = reasons[i].text(lang)
    return out


def _invalid_error(reason: Msg, lon: float, lat: float) -> InvalidInput:
    where = f"(lon={lon}, lat={lat})"
    if reason.key == "reason.swapped":
        return SwappedCoordinates(Msg("match.swapped", where=where, lon=lon, lat=lat))
    return CoordinatesOutOfRange(Msg("match.out_of_range", where=where, reason=reason))


def _take_int(values: Ints, index: Ints) -> Ints:
    """``values[index]`` where the index is set, -1 where it is -1 (or values is empty)."""
    out = np.full(index.size, -1, dtype=np.int64)
    hit = index >= 0
    if values.size:
        out[hit] = values[index[hit]]
    return out


def containing(children: Layer, parents: Layer | None) -> Ints:
    """For each child feature, the parent feature its interior lies in (-1: none).

    A validated coverage nests (each grid lies in one town), so a point on the
    child's surface decides; the lowest-code parent wins on a shared edge, as
    everywhere else.
    """
    if parents is None:
        return np.zeros(0, dtype=np.int64)
    inner = shapely.point_on_surface(np.asarray(children.frame.geometry.array, dtype=object))
    tree = shapely.STRtree(np.asarray(parents.frame.geometry.array, dtype=object))
    child, parent = tree.query(inner, predicate="covered_by")
    out = np.full(len(children), -1, dtype=np.int64)
    if child.size:
        rank = _code_rank(parents.codes)
        first = first_per_group(child, rank[parent])
        out[child[first]] = parent[first]
    return out


def give_back_freed_memory() -> bool:
    """Return the heap the index build freed to the system (glibc's ``malloc_trim``).

    Why: building a city's indexes passes through a few hundred MB of temporaries;
    freed, glibc keeps most of them in the process's heap, so a server worker stayed
    about 100 MB above what it holds (a 20,000-grid town: 767 -> 682 MB RSS after the
    matcher). False where there is no glibc (nothing to do there).
    """
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own symbols: libc's on Linux
    except (OSError, AttributeError):
        return False
    trim(0)
    return True


def _take(values: NDArray[np.object_], index: Ints) -> NDArray[np.object_]:
    out = np.full(index.size, None, dtype=object)
    hit = index >= 0
    out[hit] = values[index[hit]]
    return out


def _grown_bounds(layer: Layer, margin: float) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = layer.frame.total_bounds
    return minx - margin, miny - margin, maxx + margin, maxy + margin
