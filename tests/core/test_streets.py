"""StreetIndex: the nearest street within the radius, as brute force finds it.

The oracle is ``shapely.distance`` from the point to every street: the
smallest distance if it is within the radius (inclusive, like
``shapely.dwithin``), ties at exactly equal distance to the lowest rank.
Coordinates are offset to Gauss-Krüger values near Shanghai (EPSG:4549),
where the index is used, so the arithmetic sees realistic magnitudes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridsvc.core.streets import StreetIndex

E0, N0 = 637_800.0, 3_467_900.0  # about 121.45 E, 31.33 N in EPSG:4549


def brute_force(lines, radius, x, y, rank=None) -> tuple[np.ndarray, np.ndarray]:
    lines = np.asarray(lines, dtype=object)
    rank = np.arange(len(lines)) if rank is None else np.asarray(rank)
    best = np.full(len(x), -1, dtype=np.int64)
    dist = np.full(len(x), np.nan)
    for k, p in enumerate(shapely.points(x, y)):
        d = shapely.distance(lines, p)
        ok = d <= radius
        if ok.any():
            dmin = d[ok].min()
            tied = np.flatnonzero(ok & (d == dmin))
            best[k] = tied[np.argmin(rank[tied])]
            dist[k] = dmin
    return best, dist


def assert_brute_force(index: StreetIndex, lines, x, y, rank=None) -> None:
    got, d = index.nearest(x, y)
    expected, d_expected = brute_force(lines, index.radius, x, y, rank)
    bad = np.flatnonzero(got != expected)
    assert bad.size == 0, [(x[i], y[i], got[i], expected[i], d[i], d_expected[i]) for i in bad[:5]]
    np.testing.assert_allclose(d, d_expected, rtol=0, atol=1e-6)  # NaN where none
    # one point at a time (a report) takes the scalar path: the same answer, bit for bit
    for i in range(len(x)):
        one, d_one = index.nearest_one(float(x[i]), float(y[i]))
        assert one == got[i], (x[i], y[i])
        assert d_one == d[i] or (math.isnan(d_one) and math.isnan(d[i])), (x[i], y[i])


def _random_lines(rng: np.random.Generator, n: int) -> list[shapely.Geometry]:
    lines = []
    for i in range(n):
        k = rng.integers(2, 6)
        xy = rng.uniform(0, 1000, (k, 2)) + [E0, N0]
        if i % 4 == 3:  # every fourth street has two separate parts
            lines.append(shapely.MultiLineString([xy, rng.uniform(0, 1000, (2, 2)) + [E0, N0]]))
        else:
            lines.append(shapely.LineString(xy))
    return lines


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 12),
    radius=st.sampled_from([5.0, 20.0, 37.5, 50.0, 120.0, 333.3]),
)
def test_nearest_equals_brute_force(seed: int, n: int, radius: float) -> None:
    rng = np.random.default_rng(seed)
    lines = _random_lines(rng, n)
    rank = rng.permutation(n)
    index = StreetIndex(lines, radius, rank=rank)
    # points anywhere, and points near the streets (within about 1.5 radii)
    far = rng.uniform(-200, 1200, (150, 2)) + [E0, N0]
    on = shapely.get_coordinates(
        shapely.line_interpolate_point(
            np.asarray(lines, dtype=object)[rng.integers(0, n, 150)],
            rng.uniform(0, 1, 150),
            normalized=True,
        )
    )
    near = on + rng.uniform(-1.5 * radius, 1.5 * radius, on.shape)
    xy = np.r_[far, near, on]
    assert_brute_force(index, lines, xy[:, 0], xy[:, 1], rank)


# ---- ties --------------------------------------------------------------------------------

PARALLEL = [
    shapely.LineString([(E0, N0), (E0 + 400, N0)]),
    shapely.LineString([(E0, N0 + 40), (E0 + 400, N0 + 40)]),
]
# an L-junction: the first street ends where the second starts
CORNER = [
    shapely.LineString([(E0 - 300, N0 - 17.25), (E0, N0)]),
    shapely.LineString([(E0, N0), (E0 + 23.5, N0 + 250)]),
]
CROSSING = [
    shapely.LineString([(E0 - 100, N0), (E0 + 100, N0)]),
    shapely.LineString([(E0, N0 - 100), (E0, N0 + 100)]),
]


@pytest.mark.parametrize("rank", [[0, 1], [1, 0]], ids=["first-lowest", "second-lowest"])
@pytest.mark.parametrize(
    ("lines", "x", "y", "distance"),
    [
        (PARALLEL, E0 + 200, N0 + 20, 20.0),  # halfway between two parallel streets
        (PARALLEL, E0 + 37.125, N0 + 20, 20.0),
        (CORNER, E0 + 12.0, N0 - 16.0, 20.0),  # outside the corner: both nearest at the junction
        (CORNER, E0, N0, 0.0),  # on the junction itself
        (CROSSING, E0, N0, 0.0),  # on the crossing of two streets
        (CROSSING, E0 + 10, N0 + 10, 10.0),  # on the diagonal between them
    ],
)
def test_equidistant_streets_go_to_the_lowest_rank(lines, x, y, distance, rank) -> None:
    d = shapely.distance(np.asarray(lines, dtype=object), shapely.Point(x, y))
    assert d[0] == d[1] == pytest.approx(distance)  # the table is a real tie
    index = StreetIndex(lines, 50.0, rank=rank)
    street, got = index.nearest([x], [y])
    assert street[0] == int(np.argmin(rank))
    assert got[0] == pytest.approx(distance, abs=1e-9)
    assert index.nearest_one(x, y) == (street[0], got[0])


# ---- the radius --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (0.0, 0),  # on the street
        (49.5, 0),
        (50.0, 0),  # exactly the radius: within, as shapely.dwithin says
        (50.5, -1),
        (120.0, -1),
    ],
)
def test_nothing_beyond_the_radius(offset: float, expected: int) -> None:
    line = shapely.LineString([(E0, N0), (E0 + 300, N0)])
    index = StreetIndex([line], 50.0)
    for x, y in [
        (E0 + 150, N0 + offset),
        (E0 + 150, N0 - offset),
        (E0 - offset, N0),
        (E0 + 300 + offset, N0),
    ]:
        assert bool(shapely.dwithin(line, shapely.Point(x, y), 50.0)) == (expected == 0)
        street, d = index.nearest([x], [y])
        assert street[0] == expected == index.nearest_one(x, y)[0]
        if expected < 0:
            assert math.isnan(d[0])
        else:
            assert d[0] == pytest.approx(offset, abs=1e-6)


def test_far_and_non_finite_points_find_nothing() -> None:
    index = StreetIndex(PARALLEL, 50.0)
    x = [math.nan, E0, math.inf, -math.inf, 1e300, 0.0, E0 + 10]
    y = [N0, math.nan, N0, N0, N0, 0.0, N0 + 1]
    street, d = index.nearest(x, y)
    assert street.tolist() == [-1, -1, -1, -1, -1, -1, 0]
    assert [index.nearest_one(a, b)[0] for a, b in zip(x, y, strict=True)] == street.tolist()
    assert np.isnan(d[:-1]).all() and d[-1] == pytest.approx(1.0)


def test_no_streets_at_all() -> None:
    index = StreetIndex(np.array([], dtype=object), 50.0)
    assert index.nearest_one(E0, N0)[0] == -1
    street, d = index.nearest([E0, 0.0], [N0, 0.0])
    assert street.tolist() == [-1, -1] and np.isnan(d).all()


def test_repeated_vertices_and_empty_input() -> None:
    line = shapely.LineString([(E0, N0), (E0, N0), (E0 + 100, N0), (E0 + 100, N0)])
    index = StreetIndex([line], 50.0)
    street, d = index.nearest([E0 + 50, E0 + 130, E0 - 3], [N0 + 7, N0, N0 - 4])
    assert street.tolist() == [0, 0, 0]
    np.testing.assert_allclose(d, [7.0, 30.0, 5.0])
    street, d = index.nearest([], [])
    assert street.size == 0 and d.size == 0


@pytest.mark.parametrize(
    ("radius", "line", "point"),
    [
        (0.1, [(0.0, 0.0), (0.8, 0.0)], (0.9, 0.0)),  # 0.0999... from the end of the street
        (0.1, [(0.0, 0.0), (0.0, 0.8)], (0.0, 0.9)),  # the same across rows
    ],
)
def test_points_in_the_last_hash_cell_are_found(radius, line, point) -> None:
    """The hash grid must be sized with the same floor((v - origin) / radius) that files
    points: 1.0 // 0.1 == 9.0 but floor(1.0 / 0.1) == 10, and a point in that last cell,
    within the radius, used to find no street."""
    lines = [shapely.LineString(line)]
    expected, d = brute_force(lines, radius, [point[0]], [point[1]])
    assert expected[0] == 0  # it is within the radius
    assert StreetIndex(lines, radius).nearest([point[0]], [point[1]])[0][0] == 0
    assert StreetIndex(lines, radius).nearest_one(*point)[0] == 0


def _table_by_loops(index: StreetIndex) -> list[list[int]]:
    """The hash table the slow way: each piece in every cell its grown bounding box touches."""
    cells: list[list[int]] = [[] for _ in range(index.ncols * index.nrows)]
    for p in range(index.ax.size):
        lo_x = min(index.ax[p], index.bx[p]) - index.radius
        hi_x = max(index.ax[p], index.bx[p]) + index.radius
        lo_y = min(index.ay[p], index.by[p]) - index.radius
        hi_y = max(index.ay[p], index.by[p]) + index.radius
        c0, c1 = (math.floor((v - index.x0) / index.radius) for v in (lo_x, hi_x))
        r0, r1 = (math.floor((v - index.y0) / index.radius) for v in (lo_y, hi_y))
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                cells[r * index.ncols + c].append(p)
    return cells


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 40), st.sampled_from([5.0, 25.0, 50.0]))
def test_the_hash_table_files_each_piece_in_every_cell_it_touches(seed, n, radius):
    """The sorted (cell, piece) pairs give exactly the table of the plain loops, pieces in
    ascending order within a cell (the vectorised build must not change a single entry)."""
    rng = np.random.default_rng(seed)
    starts = rng.uniform(0, 400, (n, 2)) + (E0, N0)
    ends = starts + rng.normal(0, 60, (n, 2))
    lines = shapely.linestrings(np.stack([starts, ends], axis=1))
    index = StreetIndex(lines, radius)
    expected = _table_by_loops(index)
    got = [
        index.members[index.offsets[k] : index.offsets[k + 1]].tolist()
        for k in range(index.ncols * index.nrows)
    ]
    assert got == expected
