"""PolygonLocator: the raster answer is the exact answer, ties to the lowest rank.

The oracle throughout is brute force: ``shapely.intersects`` of the point
with every polygon, the lowest rank among those that hold it (boundary
included), or -1 when none does. Coverages are random Voronoi diagrams,
axis-aligned tilings whose edges lie exactly on the raster's cell lines,
polygons with holes, multipolygons and overlapping boxes; query points are
random, on vertices, and on the edges themselves.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridsvc.core.locator import PolygonLocator

BOX = (0.0, 0.0, 100.0, 100.0)


def brute_force(polygons, x, y, rank=None) -> np.ndarray:
    """Lowest-rank polygon whose closure holds each point, -1 where none does."""
    polygons = list(polygons)
    rank = np.arange(len(polygons)) if rank is None else np.asarray(rank)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    # one row per polygon: does its closure hold each point? (no tree, no raster)
    hits = np.array([shapely.intersects_xy(poly, x, y) for poly in polygons]).reshape(-1, x.size)
    ranked = np.where(hits, rank[:, None], np.iinfo(np.int64).max)
    best = np.argmin(ranked, axis=0)
    return np.where(hits.any(axis=0), best, -1)


def boundary_points(polygons, fractions) -> tuple[np.ndarray, np.ndarray]:
    """Points on the polygons' boundaries, at the given fractions of each ring's length."""
    rings = shapely.get_parts(shapely.boundary(np.asarray(polygons, dtype=object)))
    pts = [
        shapely.line_interpolate_point(ring, f, normalized=True)
        for ring in rings
        for f in fractions
    ]
    xy = shapely.get_coordinates(np.asarray(pts))
    return xy[:, 0], xy[:, 1]


def vertices(polygons) -> tuple[np.ndarray, np.ndarray]:
    xy = np.unique(shapely.get_coordinates(np.asarray(polygons, dtype=object)), axis=0)
    return xy[:, 0], xy[:, 1]


def assert_exact(locator: PolygonLocator, polygons, x, y, rank=None) -> None:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    got = locator.locate(x, y)
    expected = brute_force(polygons, x, y, rank)
    bad = np.flatnonzero(got != expected)
    assert bad.size == 0, [(x[i], y[i], got[i], expected[i]) for i in bad[:5]]
    np.testing.assert_array_equal(locator.locate_exact(x, y), expected)
    # one point at a time (a report) takes the scalar path over the same tables
    for i in range(min(x.size, 60)):
        assert locator.locate_one(float(x[i]), float(y[i])) == expected[i], (x[i], y[i])


# ---- coverages ---------------------------------------------------------------------------


def voronoi(seed: int, n: int) -> list[shapely.Geometry]:
    rng = np.random.default_rng(seed)
    box = shapely.box(*BOX)
    cells = shapely.voronoi_polygons(
        shapely.multipoints(rng.uniform(0, 100, (n, 2))), extend_to=box
    )
    return [c for c in shapely.intersection(shapely.get_parts(cells), box) if not c.is_empty]


def tiling(xs: list[float], ys: list[float]) -> list[shapely.Geometry]:
    """Rectangles between consecutive cuts, row by row."""
    return [
        shapely.box(x0, y0, x1, y1)
        for y0, y1 in zip(ys[:-1], ys[1:], strict=True)
        for x0, x1 in zip(xs[:-1], xs[1:], strict=True)
    ]


cell_sizes = st.sampled_from([0.37, 0.5, 1.0, 1.3, 2.0, 4.7])
fractions = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6)


@st.composite
def random_points(draw, lo: float = -5.0, hi: float = 105.0, size: int = 200):
    seed = draw(st.integers(0, 2**32 - 1))
    xy = np.random.default_rng(seed).uniform(lo, hi, (size, 2))
    return xy[:, 0], xy[:, 1]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 40),
    cell=cell_sizes,
    block=st.sampled_from([2, 4, 8]),
    pts=random_points(),
    fr=fractions,
)
def test_voronoi_coverage_random_edge_and_vertex_points(seed, n, cell, block, pts, fr) -> None:
    polygons = voronoi(seed, n)
    rank = np.random.default_rng(seed + 1).permutation(len(polygons))
    locator = PolygonLocator(polygons, (cell, cell * 0.8), rank=rank, block=block)
    for x, y in (pts, boundary_points(polygons, fr), vertices(polygons)):
        assert_exact(locator, polygons, x, y, rank)


@st.composite
def cuts(draw, step: float):
    """Sorted distinct cut positions, multiples of ``step`` (so on cell lines)."""
    k = draw(st.lists(st.integers(0, 40), min_size=2, max_size=7, unique=True))
    return [step * i for i in sorted(k)]


@settings(max_examples=40, deadline=None)
@given(
    step=st.sampled_from([1.0, 0.5, 0.25, 2.0]),
    data=st.data(),
    multiple=st.sampled_from([1, 2, 3]),
    shuffle=st.integers(0, 1000),
)
def test_tiling_with_edges_on_cell_lines(step, data, multiple, shuffle) -> None:
    """Edges exactly on cell lines; query points on the lattice of cell corners,
    cell-line midpoints and cell centres, so many lie exactly on edges and vertices."""
    xs, ys = data.draw(cuts(step)), data.draw(cuts(step))
    polygons = tiling(xs, ys)
    rank = np.random.default_rng(shuffle).permutation(len(polygons))
    # the raster starts two cells before the first cut, so with cell == step every cut
    # lies exactly on a cell line ...
    locator = PolygonLocator(polygons, (step, step), rank=rank)
    lattice = np.arange(xs[0] - 2 * step, xs[-1] + 2 * step, step / 2)
    rows = np.arange(ys[0] - 2 * step, ys[-1] + 2 * step, step / 2)
    gx, gy = np.meshgrid(lattice, rows)
    assert_exact(locator, polygons, gx.ravel(), gy.ravel(), rank)
    # ... and with a coarser cell some do, some run through cells, several per cell
    coarse = PolygonLocator(polygons, (step * multiple, step * multiple), rank=rank, block=2)
    assert_exact(coarse, polygons, gx.ravel(), gy.ravel(), rank)


def test_lonlat_tiling_shared_edges_and_vertices() -> None:
    """A 3 x 2 tiling in degrees at Shanghai with a ~2.5 m cell, like the matcher builds."""
    xs = [121.440, 121.445, 121.450, 121.455]
    ys = [31.325, 31.330, 31.335]
    polygons = tiling(xs, ys)
    rank = [3, 5, 0, 2, 4, 1]
    locator = PolygonLocator(polygons, (2.5 / 95_000, 2.5 / 110_574), rank=rank)
    gx, gy = np.meshgrid(np.linspace(121.439, 121.456, 69), np.linspace(31.324, 31.336, 49))
    vx, vy = vertices(polygons)
    ex, ey = boundary_points(polygons, np.linspace(0, 1, 41))
    x = np.r_[gx.ravel(), vx, ex]
    y = np.r_[gy.ravel(), vy, ey]
    assert_exact(locator, polygons, x, y, rank)
    # the centre vertices are shared by four polygons: ranks 3, 5, 2, 4 and 5, 0, 4, 1
    assert list(locator.locate([121.445, 121.450], [31.330, 31.330])) == [3, 2]


@pytest.mark.parametrize(
    ("x", "y", "expected", "why"),
    [
        (5.0, 5.0, 1, "inside the island that fills the hole"),
        (2.0, 2.0, 0, "in the ring around the hole"),
        (4.0, 5.0, 0, "on the hole's edge: ring (rank 0) and island (rank 1) touch"),
        (4.0, 4.0, 0, "on a corner of the hole"),
        (12.5, 2.5, 2, "in the first part of the multipolygon"),
        (22.5, 7.5, 2, "in the second part of the multipolygon"),
        (17.5, 5.0, 3, "between the two parts"),
        (15.0, 5.0, 2, "on the edge multipolygon | between-box: the multipolygon has rank 2"),
        (20.0, 2.0, 2, "on the other edge"),
        (10.0, 5.0, 0, "on the ring | multipolygon edge"),
        (17.5, 8.0, -1, "above the between-box, between the parts' gaps"),
        (30.0, 30.0, -1, "outside everything"),
    ],
)
def test_holes_and_multipolygons(x: float, y: float, expected: int, why: str) -> None:
    ring = shapely.Polygon(
        [(0, 0), (10, 0), (10, 10), (0, 10)], holes=[[(4, 4), (6, 4), (6, 6), (4, 6)]]
    )
    island = shapely.box(4, 4, 6, 6)
    parts = shapely.MultiPolygon([shapely.box(10, 0, 15, 5), shapely.box(20, 0, 25, 10)])
    between = shapely.box(15, 0, 20, 7)
    polygons = [ring, island, parts, between]
    locator = PolygonLocator(polygons, (0.3, 0.3))
    assert locator.locate([x], [y])[0] == expected, why
    assert brute_force(polygons, [x], [y])[0] == expected, why  # the table itself is right


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1), cell=cell_sizes, pts=random_points(10, 30, 300), fr=fractions
)
def test_holes_and_multipolygons_random_points(seed, cell, pts, fr) -> None:
    rng = np.random.default_rng(seed)
    a, b = sorted(rng.uniform(11, 29, 2))
    ring = shapely.box(10, 10, 30, 30).difference(shapely.box(a, a, b, b))
    island = shapely.box(a, a, b, b)
    parts = shapely.union_all([shapely.box(30, 10, 32, 12), shapely.box(30, 20, 35, 25)])
    polygons = [ring, island, parts]
    locator = PolygonLocator(polygons, (cell / 4, cell / 4))
    for x, y in (pts, boundary_points(polygons, fr), vertices(polygons)):
        assert_exact(locator, polygons, x, y)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12), cell=cell_sizes, pts=random_points())
def test_overlapping_polygons_go_to_the_lowest_rank(seed, n, cell, pts) -> None:
    rng = np.random.default_rng(seed)
    lo = rng.uniform(0, 80, (n, 2))
    size = rng.uniform(3, 50, (n, 2))
    polygons = list(shapely.box(lo[:, 0], lo[:, 1], lo[:, 0] + size[:, 0], lo[:, 1] + size[:, 1]))
    rank = rng.permutation(n)
    locator = PolygonLocator(polygons, (cell, cell), rank=rank)
    for x, y in (pts, boundary_points(polygons, [0.0, 0.13, 0.5, 0.77]), vertices(polygons)):
        assert_exact(locator, polygons, x, y, rank)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 30), cell=cell_sizes, pts=random_points())
def test_every_interior_point_gets_its_one_polygon(seed, n, cell, pts) -> None:
    """In a coverage a point in a polygon's interior is in no other; it must get that one."""
    polygons = voronoi(seed, n)
    locator = PolygonLocator(polygons, (cell, cell))
    x, y = pts
    got = locator.locate(x, y)
    points = shapely.points(x, y)
    interior = np.array([shapely.contains_properly(polygons, p) for p in points])  # (points, polys)
    assert (interior.sum(axis=1) <= 1).all()  # the coverage is one
    inside = interior.any(axis=1)
    np.testing.assert_array_equal(got[inside], interior[inside].argmax(axis=1))
    in_union = shapely.intersects(shapely.union_all(polygons), points)
    assert ((got >= 0) == in_union).all()


@pytest.mark.parametrize(
    ("x", "y"),
    [
        (math.nan, 5.0),
        (5.0, math.nan),
        (math.nan, math.nan),
        (math.inf, 5.0),
        (-math.inf, 5.0),
        (5.0, math.inf),
        (1e300, 1e300),
        (-1e300, 5.0),
        (1e6, 5.0),
        (-3.0, -3.0),  # inside the raster's margin, outside every polygon
    ],
)
def test_non_finite_and_far_points_are_in_no_polygon(x: float, y: float) -> None:
    polygons = tiling([0.0, 5.0, 10.0], [0.0, 10.0])
    locator = PolygonLocator(polygons, (0.5, 0.5))
    assert locator.locate([x, 2.5], [y, 2.5]).tolist() == [-1, 0]
    assert locator.locate_exact([x], [y]).tolist() == [-1]


def test_locate_accepts_any_shape_and_empty_input() -> None:
    polygons = tiling([0.0, 5.0, 10.0], [0.0, 10.0])
    locator = PolygonLocator(polygons, (0.5, 0.5))
    assert locator.locate([], []).tolist() == []
    assert locator.locate(np.array([[1.0, 7.0]]), np.array([[1.0, 1.0]])).tolist() == [0, 1]
    assert locator.locate(7.0, 1.0).tolist() == [1]


def test_default_rank_is_the_order_of_the_polygons() -> None:
    polygons = tiling([0.0, 5.0, 10.0], [0.0, 10.0])
    assert PolygonLocator(polygons, (0.5, 0.5)).locate([5.0], [5.0]).tolist() == [0]
    reversed_rank = PolygonLocator(polygons, (0.5, 0.5), rank=[1, 0])
    assert reversed_rank.locate([5.0], [5.0]).tolist() == [1]
