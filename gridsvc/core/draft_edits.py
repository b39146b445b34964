"""Editing a draft one feature at a time: what a feature's version is, what a client's
geometry means, and which problems one edit can change.

A planner in QGIS edits a draft live (OGC API – Features Part 4): each write
sends one feature, and the planner wants the problems layer to follow at
once. Validating a city's 20,000 grids takes seconds, so an edit re-checks
only its neighbourhood: the features near what it touched, against the
parents near it. Every problem an edit can make or mend lies where the edit
happened (an overlap needs both features there, a gap inside the window is
left by the features that reach it), so problems inside the window are
recomputed and every other problem is kept. A gap that reaches far beyond
the window is recomputed in its part near the edit; publishing always runs
the whole validation again, so nothing unchecked is ever published.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import orjson
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from gridsvc.core.crs import CGCS2000
from gridsvc.core.errors import InvalidInput
from gridsvc.core.layers import POLYGON_KINDS, Layer, LayerKind
from gridsvc.core.messages import Msg
from gridsvc.core.validation import Problem, validate_layer

NEIGHBOURHOOD_M = 200.0  # how far past an edit its neighbours are looked for
_POLYGONS = ("Polygon", "MultiPolygon")
_LINES = ("LineString", "MultiLineString")


def feature_etag(
    code: str, name: str, parent_code: str, attrs: Mapping[str, Any], wkb: bytes
) -> str:
    """A stored feature's version: a digest of everything stored about it.

    A digest rather than a counter, so the schema needs no revision column and
    any two workers agree without asking each other; an unchanged feature keeps
    its ETag across a publish or a copy of the database."""
    digest = hashlib.sha256()
    for part in (code, name, parent_code):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(orjson.dumps(dict(attrs), option=orjson.OPT_SORT_KEYS))
    digest.update(b"\0")
    digest.update(wkb)
    return digest.hexdigest()[:24]


def layer_digest(etags: Iterable[str]) -> str:
    """The version of a whole draft: its features' ETags in any order."""
    return hashlib.sha256("\n".join(sorted(etags)).encode()).hexdigest()[:24]


def feature_geometry(obj: Any, crs: str, kind: LayerKind) -> BaseGeometry:
    """A client's GeoJSON geometry in ``crs`` (its authority's axis order, as OGC API
    Part 2 says: EPSG:4490 and the Gauss-Krüger zones are north first) as CGCS2000
    lon/lat. A geometry GEOS cannot build, with a coordinate that is not a finite
    number, or of the wrong type for the level, is an InvalidInput; a polygon that
    GEOS builds but that is invalid (a ring crossing itself) is kept, and validation
    reports where it crosses."""
    if not isinstance(obj, dict) or "type" not in obj:
        raise InvalidInput(Msg("edit.geometry_not_object"))
    try:
        geometry = shapely.geometry.shape(obj)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:
        raise InvalidInput(Msg("edit.geometry_unbuildable", reason=str(exc))) from None
    allowed = _POLYGONS if kind in POLYGON_KINDS else _LINES
    if geometry.geom_type not in allowed or geometry.is_empty:
        key = "edit.geometry_empty" if geometry.is_empty else "edit.geometry_type"
        raise InvalidInput(Msg(key, kind=kind.value, allowed=list(allowed), got=geometry.geom_type))
    coords = shapely.get_coordinates(geometry)
    if not np.isfinite(coords).all():
        raise InvalidInput(Msg("edit.geometry_not_finite"))
    source = pyproj.CRS(crs)
    if source.axis_info[0].direction in ("north", "south"):
        geometry = shapely.transform(geometry, lambda xy: xy[:, ::-1])
    if not source.equals(CGCS2000) and crs != "OGC:CRS84":
        geometry = gpd.GeoSeries([geometry], crs=source).to_crs(CGCS2000).iloc[0]
    lon, lat = shapely.get_coordinates(geometry).T
    if not (np.all(np.abs(lon) <= 180) and np.all(np.abs(lat) <= 90)):
        raise InvalidInput(Msg("edit.coordinates_not_in_crs", crs=crs))
    return geometry


def edit_window(
    shapes: Sequence[BaseGeometry | None], metres: float = NEIGHBOURHOOD_M
) -> shapely.Polygon:
    """The box around what an edit touched (old and new shapes), ``metres`` wider each way."""
    present = [g for g in shapes if g is not None and not g.is_empty]
    if not present:
        raise InvalidInput(Msg("edit.no_geometry"))
    x0, y0, x1, y1 = shapely.total_bounds(np.array(present, dtype=object))
    dlat = metres / 111_320.0
    dlon = metres / (111_320.0 * max(math.cos(math.radians((y0 + y1) / 2)), 0.01))
    return shapely.box(x0 - dlon, y0 - dlat, x1 + dlon, y1 + dlat)


def revalidated(
    layer: Layer,
    parent: Layer | None,
    before: Sequence[Problem],
    touched: Iterable[str],
    window: shapely.Polygon,
    sliver_m2: float,
) -> list[Problem]:
    """The draft's problems after an edit: ``before`` outside the edit, the neighbourhood
    checked again inside it.

    The neighbourhood is every feature that reaches into the window twice as wide as
    the edit's (so the features around a gap are all there) and every parent that
    reaches into it; of what that check finds, the problems in the window and those
    of the touched features are taken, and of ``before`` all others."""
    touched = set(touched)
    wide = shapely.box(*_widened(window.bounds))
    near = _reaching(layer, wide)
    near_parent = _reaching(parent, wide) if parent is not None else None
    if not len(near):  # nothing left near the edit: what it uncovered is a whole-layer matter
        return validate_layer(layer, parent, sliver_m2)
    found = validate_layer(near, near_parent, sliver_m2)
    fresh = [p for p in found if _inside(p, window, touched)]
    kept = [p for p in before if not _inside(p, window, touched)]
    return kept + fresh


def _widened(bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = bounds
    dx, dy = (x1 - x0) / 2, (y1 - y0) / 2
    return x0 - dx, y0 - dy, x1 + dx, y1 + dy


def _reaching(layer: Layer, window: shapely.Polygon) -> Layer:
    """The features of ``layer`` whose geometry reaches into ``window`` (and those without
    a usable geometry, whose problems are not spatial)."""
    geometry = layer.frame.geometry.array
    hits = shapely.intersects(geometry, window) | shapely.is_missing(geometry)
    hits |= shapely.is_empty(geometry)
    return Layer(layer.kind, layer.frame[np.asarray(hits, dtype=bool)])


def _inside(problem: Problem, window: shapely.Polygon, touched: set[str]) -> bool:
    """Whether an edit in ``window`` of the features ``touched`` can change ``problem``."""
    if touched.intersection(problem.codes):
        return True
    if problem.geometry is not None and not problem.geometry.is_empty:
        return bool(shapely.intersects(problem.geometry, window))
    if problem.location is not None:
        return bool(shapely.intersects(shapely.Point(problem.location), window))
    return False
