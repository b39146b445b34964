"""The outside search (segments) answers as measuring every polygon would."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridsvc.core.outside import OutsideSearch, boundary_segments


def _grids(seed: int) -> np.ndarray:
    """Voronoi grids over a 1 km square, one with a hole, and an island 5 km off."""
    rng = np.random.default_rng(seed)
    box = shapely.box(0, 0, 1000, 1000)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(rng.uniform(0, 1000, (12, 2))))
    )
    cells = shapely.intersection(cells, box)
    cells = cells[~shapely.is_empty(cells)]
    cells[0] = shapely.difference(cells[0], shapely.buffer(shapely.centroid(cells[0]), 5))
    island = shapely.box(6000, 6000, 6100, 6050)
    cells[1] = shapely.union(cells[1], island)  # a multipolygon: the grid and its island
    return cells


def test_segments_cover_every_ring() -> None:
    square_with_hole = shapely.Polygon(
        [(0, 0), (10, 0), (10, 10), (0, 10)], [[(4, 4), (6, 4), (6, 6), (4, 6)]]
    )
    two = shapely.MultiPolygon([shapely.box(20, 0, 21, 1), shapely.box(30, 0, 31, 1)])
    lines = boundary_segments([square_with_hole, two])
    assert lines.size == 16
    assert shapely.get_num_coordinates(lines).tolist() == [2] * 16
    assert shapely.length(lines).sum() == 40 + 8 + 8


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    xs=st.lists(st.floats(-3000, 8000), min_size=1, max_size=20),
    ys=st.lists(st.floats(-3000, 8000), min_size=1, max_size=20),
)
def test_nearest_grid_and_distance_are_the_polygons_own(
    seed: int, xs: list[float], ys: list[float]
) -> None:
    grids = _grids(seed)
    n = min(len(xs), len(ys))
    x, y = np.array(xs[:n]), np.array(ys[:n])
    points = shapely.points(x, y)
    covered = shapely.covers(grids[:, None], points[None, :]).any(axis=0)
    x, y, points = x[~covered], y[~covered], points[~covered]
    if not x.size:
        return
    rank = np.arange(grids.size)[::-1]  # the last grid has the lowest code
    jurisdiction = shapely.box(-100, -100, 1100, 1100)
    nearest, boundary = OutsideSearch(grids, rank, [jurisdiction]).measure(x, y)
    by_polygon = shapely.distance(grids[:, None], points[None, :])
    least = by_polygon.min(axis=0)
    np.testing.assert_allclose(by_polygon[nearest, np.arange(x.size)], least, atol=1e-9)
    for j in range(x.size):  # among equidistant grids the lowest code
        tied = np.flatnonzero(np.abs(by_polygon[:, j] - least[j]) <= 1e-9)
        assert nearest[j] == tied[np.argmin(rank[tied])]
    expected = shapely.distance(shapely.boundary(jurisdiction), points)
    np.testing.assert_allclose(boundary, expected, atol=1e-9)
    _, alone = OutsideSearch(grids, rank).measure(x, y)
    np.testing.assert_allclose(alone, least, atol=1e-9)


def test_a_point_in_a_grid_past_the_jurisdiction_has_that_grid_at_zero() -> None:
    grids = np.array([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)])
    search = OutsideSearch(grids, [0, 1])
    nearest, distance = search.measure(
        np.array([15.0, 25.0]), np.array([5.0, 5.0]), np.array([1, -1])
    )
    assert list(nearest) == [1, 1]
    assert list(distance) == [0.0, 5.0]
