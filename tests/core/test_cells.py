"""CellLocator: the tree's answer is the exact answer, ties to the lowest rank.

The oracle is the brute force of test_locator: ``shapely.intersects`` of each
point with every polygon, the lowest rank among those that hold it. Coverages
are random Voronoi grids, polygons with holes and multipolygons, clusters far
apart, long thin slivers and tilings with edges on cell lines; points are
uniform, exactly on edges and vertices, and within 1e-3 of them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from test_locator import boundary_points, brute_force, tiling, vertices, voronoi

from gridsvc.core.cellbuild import REFINE_NODES
from gridsvc.core.cells import CellLocator
from gridsvc.core.locator import PolygonLocator

EXAMPLES = settings(max_examples=60, deadline=None)


def near(x: np.ndarray, y: np.ndarray, seed: int, d: float = 1e-3) -> tuple[np.ndarray, ...]:
    """Each point moved by up to ``d`` in x and y (both sides of an edge, off a vertex)."""
    rng = np.random.default_rng(seed)
    return x + rng.uniform(-d, d, x.size), y + rng.uniform(-d, d, y.size)


def probes(polygons, seed: int, fractions, lo: float, hi: float, size: int = 300):
    """Uniform points, points on the edges and vertices, and points within 1e-3 of them."""
    rng = np.random.default_rng(seed)
    ex, ey = boundary_points(polygons, fractions)
    vx, vy = vertices(polygons)
    nx, ny = near(np.r_[ex, vx], np.r_[ey, vy], seed)
    yield rng.uniform(lo, hi, size), rng.uniform(lo, hi, size)
    yield ex, ey
    yield vx, vy
    yield nx, ny


def assert_exact(locator: CellLocator, polygons, x, y, rank=None) -> None:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    got = locator.locate(x, y)
    expected = brute_force(polygons, x, y, rank)
    bad = np.flatnonzero(got != expected)
    assert bad.size == 0, [(x[i], y[i], got[i], expected[i]) for i in bad[:5]]
    for i in range(min(x.size, 40)):  # the scalar path reads the same tables
        assert locator.locate_one(float(x[i]), float(y[i])) == expected[i], (x[i], y[i])


fractions = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=5)
cells = st.sampled_from([0.05, 0.37, 1.0, 2.0])
leafs = st.sampled_from([1, 4, 8])
#: leaf size 1 stops at its segment count (no spare nodes), 4 has a budget of 7 nodes that
#: runs out within a level (the sparsest crossed cells split first), 8 refines while the
#: default budget lasts, as the matcher's trees do: every stopping rule meets every probe
REFINE = {1: 0, 4: 7, 8: REFINE_NODES}


@EXAMPLES
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 40), cell=cells, leaf=leafs, fr=fractions)
def test_voronoi_grids(seed: int, n: int, cell: float, leaf: int, fr: list[float]) -> None:
    polygons = voronoi(seed, n)
    rank = np.random.default_rng(seed + 1).permutation(len(polygons))
    locator = CellLocator(polygons, cell, rank=rank, leaf_segments=leaf, refine_nodes=REFINE[leaf])
    for x, y in probes(polygons, seed, fr, -5.0, 105.0):
        assert_exact(locator, polygons, x, y, rank)


@EXAMPLES
@given(seed=st.integers(0, 2**32 - 1), cell=cells, leaf=leafs, fr=fractions)
def test_holes_and_multipolygons(seed: int, cell: float, leaf: int, fr: list[float]) -> None:
    rng = np.random.default_rng(seed)
    a, b = sorted(rng.uniform(11, 29, 2))
    ring = shapely.box(10, 10, 30, 30).difference(shapely.box(a, a, b, b))
    island = shapely.box(a, a, b, b)
    parts = shapely.union_all([shapely.box(30, 10, 32, 12), shapely.box(30, 20, 35, 25)])
    polygons = [ring, island, parts]
    rank = rng.permutation(3)
    locator = CellLocator(
        polygons, cell / 4, rank=rank, leaf_segments=leaf, refine_nodes=REFINE[leaf]
    )
    for x, y in probes(polygons, seed, fr, 8.0, 37.0):
        assert_exact(locator, polygons, x, y, rank)


@EXAMPLES
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 12), leaf=leafs, fr=fractions)
def test_clusters_100_km_apart(seed: int, n: int, leaf: int, fr: list[float]) -> None:
    """Two Voronoi clusters in metres, 100 km apart: the empty sea between costs nothing."""
    left = voronoi(seed, n)
    right = [shapely.affinity.translate(p, 100_000.0, 40_000.0) for p in voronoi(seed + 7, n)]
    polygons = left + right
    rank = np.random.default_rng(seed).permutation(len(polygons))
    locator = CellLocator(polygons, 2.5, rank=rank, leaf_segments=leaf, refine_nodes=REFINE[leaf])
    for dx, dy in ((0.0, 0.0), (100_000.0, 40_000.0)):
        for x, y in probes(polygons, seed, fr, -5.0, 105.0, 150):
            assert_exact(locator, polygons, x + dx, y + dy, rank)
    assert locator.nbytes < 2_000_000


@EXAMPLES
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 12), leaf=leafs, fr=fractions)
def test_long_thin_slivers(seed: int, k: int, leaf: int, fr: list[float]) -> None:
    """Slanted strips a few millimetres wide and a kilometre long, cut from a box."""
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.uniform(0, 1000, k))
    widths = rng.choice([2e-3, 0.05, 3.0], k)
    lines = np.unique(np.r_[0.0, cuts, cuts + widths, 1300.0])
    slope = rng.uniform(0.0, 0.3)
    strips = [
        shapely.Polygon([(a, 0), (b, 0), (b + slope * 1000, 1000), (a + slope * 1000, 1000)])
        for a, b in zip(lines[:-1], lines[1:], strict=True)
    ]
    rank = rng.permutation(len(strips))
    locator = CellLocator(strips, 0.5, rank=rank, leaf_segments=leaf, refine_nodes=REFINE[leaf])
    for x, y in probes(strips, seed, fr, 0.0, 1000.0):
        assert_exact(locator, strips, x, y, rank)


@EXAMPLES
@given(
    data=st.data(), step=st.sampled_from([0.5, 1.0, 2.5]), shuffle=st.integers(0, 1000), leaf=leafs
)
def test_tiling_with_edges_on_cell_lines(data, step: float, shuffle: int, leaf: int) -> None:
    """Edges exactly on cell lines; probes on the lattice of corners, mid-sides and centres."""
    k = st.lists(st.integers(0, 30), min_size=2, max_size=6, unique=True)
    xs = [step * i for i in sorted(data.draw(k))]
    ys = [step * i for i in sorted(data.draw(k))]
    polygons = tiling(xs, ys)
    rank = np.random.default_rng(shuffle).permutation(len(polygons))
    locator = CellLocator(polygons, step, rank=rank, leaf_segments=leaf, refine_nodes=REFINE[leaf])
    gx, gy = np.meshgrid(
        np.arange(xs[0] - 2 * step, xs[-1] + 2 * step, step / 2),
        np.arange(ys[0] - 2 * step, ys[-1] + 2 * step, step / 2),
    )
    assert_exact(locator, polygons, gx.ravel(), gy.ravel(), rank)


def test_lonlat_tiling_with_a_rectangular_cell() -> None:
    """A 3 x 2 tiling in degrees at Shanghai with a ~2.5 m cell, like the matcher builds."""
    polygons = tiling([121.440, 121.445, 121.450, 121.455], [31.325, 31.330, 31.335])
    rank = [3, 5, 0, 2, 4, 1]
    locator = CellLocator(polygons, (2.5 / 95_000, 2.5 / 110_574), rank=rank)
    gx, gy = np.meshgrid(np.linspace(121.439, 121.456, 69), np.linspace(31.324, 31.336, 49))
    assert_exact(locator, polygons, gx.ravel(), gy.ravel(), rank)
    assert list(locator.locate([121.445, 121.450], [31.330, 31.330])) == [3, 2]


def test_agrees_with_the_raster_locator() -> None:
    polygons = voronoi(5, 60)
    rank = np.random.default_rng(5).permutation(len(polygons))
    x, y = np.random.default_rng(6).uniform(-5, 105, (2, 20_000))
    ours = CellLocator(polygons, 0.5, rank=rank).locate(x, y)
    np.testing.assert_array_equal(
        ours, PolygonLocator(polygons, (0.5, 0.5), rank=rank).locate(x, y)
    )


def test_a_far_island_does_not_grow_the_tables() -> None:
    """Doubling the extent with one tiny island adds about nothing: cost follows the boundary."""
    polygons = voronoi(3, 40)
    alone = CellLocator(polygons, 0.05)
    island = shapely.box(1000.0, 1000.0, 1000.1, 1000.1)
    far = CellLocator(polygons + [island], 0.05)
    assert far.nbytes < 1.5 * alone.nbytes
    assert far.locate([1000.05, 500.0], [1000.05, 500.0]).tolist() == [len(polygons), -1]


@pytest.mark.parametrize(
    ("x", "y"),
    [
        (math.nan, 5.0),
        (5.0, math.nan),
        (math.inf, 5.0),
        (-math.inf, 5.0),
        (1e300, 1e300),
        (-1e300, 5.0),
        (-0.6, -0.6),  # inside the tree's margin, outside every polygon
    ],
)
def test_non_finite_and_far_points_are_in_no_polygon(x: float, y: float) -> None:
    polygons = tiling([0.0, 5.0, 10.0], [0.0, 10.0])
    locator = CellLocator(polygons, 0.5)
    assert locator.locate([x, 2.5], [y, 2.5]).tolist() == [-1, 0]
    assert locator.locate_one(x, y) == -1


def test_any_shape_empty_input_and_no_polygons() -> None:
    polygons = tiling([0.0, 5.0, 10.0], [0.0, 10.0])
    locator = CellLocator(polygons, 0.5)
    assert locator.locate([], []).tolist() == []
    assert locator.locate(np.array([[1.0, 7.0]]), np.array([[1.0, 1.0]])).tolist() == [0, 1]
    assert locator.locate(7.0, 1.0).tolist() == [1]
    assert CellLocator([], 1.0).locate([0.0], [0.0]).tolist() == [-1]
    assert CellLocator([], 1.0).locate_one(0.0, 0.0) == -1


@EXAMPLES
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 8), cell=cells, leaf=leafs, fr=fractions)
def test_overlapping_boxes(seed: int, n: int, cell: float, leaf: int, fr: list[float]) -> None:
    """Boxes that overlap: a leaf whose free neighbour lies in several polygons cannot take
    the neighbour's label alone as its reference's polygons (the lowest rank still wins)."""
    rng = np.random.default_rng(seed)
    lo = rng.uniform(0, 60, (n, 2))
    size = rng.uniform(5, 40, (n, 2))
    polygons = [shapely.box(*a, *(a + s)) for a, s in zip(lo, size, strict=True)]
    rank = rng.permutation(n)
    locator = CellLocator(polygons, cell, rank=rank, leaf_segments=leaf, refine_nodes=REFINE[leaf])
    for x, y in probes(polygons, seed, fr, -5.0, 105.0):
        assert_exact(locator, polygons, x, y, rank)
