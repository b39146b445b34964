"""Sizes of areas and the streets in them, measured in the layer's Gauss-Krüger zone.

Workload tables (redraw impact) and map tooltips (coverage) show the same
figures; measuring them in one place keeps them equal.
"""

from __future__ import annotations

import numpy as np
import shapely

from gridsvc.core.layers import Layer


def area_km2(layer: Layer, epsg: int | None = None) -> dict[str, float]:
    """Area of each feature in km², by code."""
    projected = layer.projected(epsg or layer.work_epsg())
    areas = (projected.area / 1e6).tolist()  # plain floats: they go into JSON answers
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
