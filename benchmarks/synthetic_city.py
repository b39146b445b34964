"""A synthetic city for benchmarks: 20,000 grids, 50,000 street segments, 1,000,000 points.

Built in the Gauss-Krüger zone of Shanghai (EPSG:4549) and returned in
CGCS2000 (EPSG:4490), like real data. Grids are the faces of a jittered
Voronoi edge network (about 15 vertices per grid, shared edges exact, so the
grids are a true coverage); streets are the edges of a second, denser
network, cut into segments of about 25 m vertices. Deterministic per seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

WORK_EPSG = 4549
ORIGIN = (480_000.0, 3_440_000.0)  # metres in EPSG:4549, near 120.8°E 31.1°N


@dataclass(frozen=True)
class City:
    grids: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    lon: np.ndarray
    lat: np.ndarray


def _jittered_network(
    rng: np.random.Generator, seeds: int, extent: shapely.Polygon, step: float
) -> np.ndarray:
    """Voronoi edges of random seeds and the outline, noded, with inner vertices nudged."""
    minx, miny, maxx, maxy = extent.bounds
    pts = np.column_stack([rng.uniform(minx, maxx, seeds), rng.uniform(miny, maxy, seeds)])
    edges = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=extent, only_edges=True)
    lines = shapely.get_parts(shapely.intersection(edges, extent))
    lines = shapely.get_parts(lines[shapely.get_type_id(lines) != 0])
    # node with the outline so that every junction is an end point that stays put
    lines = shapely.get_parts(shapely.node(shapely.union_all(np.r_[lines, [extent.exterior]])))
    lines = lines[shapely.length(lines) > 0]
    dense = shapely.segmentize(lines, step)
    coords, idx = shapely.get_coordinates(dense, return_index=True)
    inner = np.r_[False, idx[1:] == idx[:-1]] & np.r_[idx[:-1] == idx[1:], False]
    coords[inner] += rng.normal(0.0, step * 0.05, (int(inner.sum()), 2))
    return shapely.linestrings(coords, indices=idx)


def _to_cgcs2000(geoms: np.ndarray) -> gpd.GeoSeries:
    return gpd.GeoSeries(geoms, crs=WORK_EPSG).to_crs(4490)


def build_city(
    grids: int = 20_000, streets: int = 50_000, points: int = 1_000_000, seed: int = 7
) -> City:
    """The benchmark city; about 0.1 km² per grid, so 20,000 grids span ~45 km."""
    rng = np.random.default_rng(seed)
    side = float(np.sqrt(grids * 100_000.0))
    extent = shapely.box(ORIGIN[0], ORIGIN[1], ORIGIN[0] + side, ORIGIN[1] + side)
    network = _jittered_network(rng, grids, extent, 30.0)
    faces = shapely.get_parts(shapely.polygonize(network))
    faces = faces[shapely.area(faces) > 1.0]
    grid_frame = gpd.GeoDataFrame(
        {
            "code": [f"G{i:05d}" for i in range(len(faces))],
            "name": [f"网格{i:05d}" for i in range(len(faces))],
            "parent_code": "U1",
            "team": [f"T{i % 400:03d}" for i in range(len(faces))],
        },
        geometry=_to_cgcs2000(faces),
    )
    street_lines = _jittered_network(rng, max(streets // 3, 1), extent, 25.0)
    street_lines = street_lines[rng.permutation(len(street_lines))[:streets]]
    street_frame = gpd.GeoDataFrame(
        {
            "code": [f"S{i:05d}" for i in range(len(street_lines))],
            "name": [f"路{i % 900:03d}" for i in range(len(street_lines))],
            "parent_code": "",
        },
        geometry=_to_cgcs2000(street_lines),
    )
    lon, lat = _random_points(rng, grid_frame.total_bounds, points)
    return City(grid_frame, street_frame, lon, lat)


def _random_points(
    rng: np.random.Generator, bounds: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points over the city's bounding box grown by 2 % (some fall outside)."""
    minx, miny, maxx, maxy = bounds
    mx, my = (maxx - minx) * 0.02, (maxy - miny) * 0.02
    return rng.uniform(minx - mx, maxx + mx, n), rng.uniform(miny - my, maxy + my, n)
