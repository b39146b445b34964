"""Sizes of areas and the streets in them, measured in the layer's Gauss-Krüger zone.

Workload tables (redraw impact) and map tooltips (coverage) show the same
figures; measuring them in one place keeps them equal.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from gridsvc.core.crs import gauss_kruger_epsg
from gridsvc.core.layers import Layer


def areas_km2(frame: gpd.GeoDataFrame, epsg: int | None = None) -> NDArray[np.float64]:
    """Area of each row of a CGCS2000 frame in km², in the Gauss-Krüger zone of its centre."""
    if epsg is None:
        minx, _, maxx, _ = frame.total_bounds
        epsg = gauss_kruger_epsg((minx + maxx) / 2.0)
    return np.asarray(frame.geometry.to_crs(epsg).area, dtype=np.float64) / 1e6


def area_km2(layer: Layer, epsg: int | None = None) -> dict[str, float]:
    """Area of each feature in km², by code."""
    areas = areas_km2(layer.frame, epsg or layer.work_epsg()).tolist()  # plain floats: JSON
    return dict(zip(layer.frame["code"].astype(str), areas, strict=True))


def street_km(grids: Layer, streets: Layer | None, epsg: int | None = None) -> dict[str, float]:
    """Kilometres of street in each area; a street along a shared edge counts half for each side."""
    if streets is None:
        return {}
    epsg = epsg or grids.work_epsg()
    polygons = grids.projected(epsg).geometry.to_numpy()
    lines = streets.projected(epsg).geometry.to_numpy()
    poly_idx, line_idx = shapely.STRtree(lines).query(polygons, predicate="intersects")
    grids_hit, lines_hit = polygons[poly_idx], lines[line_idx]
    inside = shapely.length(shapely.intersection(grids_hit, lines_hit))
    on_edge = shapely.length(shapely.intersection(shapely.boundary(grids_hit), lines_hit))
    lengths = (inside - 0.5 * on_edge) / 1000.0
    totals = np.bincount(poly_idx, weights=lengths, minlength=len(polygons))
    return dict(zip(grids.frame["code"].astype(str), totals.tolist(), strict=True))
