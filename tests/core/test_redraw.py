"""Incremental re-match after a redraw equals a full re-match."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridsvc.core.locator import PolygonLocator
from gridsvc.core.redraw import rematch, unchanged_map


def tiling(seed: int, n: int = 60) -> np.ndarray:
    rng = np.random.default_rng(seed)
    box = shapely.box(0, 0, 100, 100)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(rng.uniform(0, 100, (n, 2))), extend_to=box)
    )
    return shapely.intersection(cells, box)


def full(polygons: np.ndarray, codes: list[str], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    rank = np.argsort(np.argsort(np.array(codes)))
    return PolygonLocator(polygons, (0.5, 0.5), rank=rank).locate_exact(x, y)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), merges=st.integers(0, 5), shrink=st.booleans())
def test_incremental_equals_full(seed: int, merges: int, shrink: bool) -> None:
    old = tiling(seed)
    codes = [f"G{i:03d}" for i in range(len(old))]
    new = list(old)
    new_codes = list(codes)
    tree = shapely.STRtree(old)
    gone: set[int] = set()
    for i in range(merges):  # merge a grid with a touching neighbour: the neighbour's code goes
        near = [
            int(j)
            for j in tree.query(old[i], predicate="touches")
            if j != i and j not in gone and j > merges
        ]
        if near:
            new[i] = shapely.union(new[i], old[near[0]])
            gone.add(near[0])
    if shrink:  # and one grid loses a corner to the outside
        new[-1] = shapely.difference(new[-1], shapely.box(95, 95, 100, 100))
    keep = [i for i in range(len(new)) if i not in gone]
    new_geoms = np.array([new[i] for i in keep])
    new_codes = [new_codes[i] for i in keep]
    rng = np.random.default_rng(seed + 1)
    x, y = rng.uniform(-5, 105, 3000), rng.uniform(-5, 105, 3000)
    before = full(old, codes, x, y)
    same = unchanged_map(codes, old, new_codes, new_geoms)
    assert np.array_equal(
        rematch(before, x, y, same, new_codes, new_geoms), full(new_geoms, new_codes, x, y)
    )


def test_nothing_changed_means_nothing_recomputed() -> None:
    old = tiling(3)
    codes = [f"G{i:03d}" for i in range(len(old))]
    same = unchanged_map(codes, old, codes, old)
    assert np.array_equal(same, np.arange(len(old)))
    before = np.array([0, 5, -1])
    assert np.array_equal(
        rematch(before, [1.0, 2.0, 500.0], [1.0, 2.0, 500.0], same, codes, old), before
    )


def test_a_renamed_code_counts_as_changed() -> None:
    old = tiling(4)
    codes = [f"G{i:03d}" for i in range(len(old))]
    renamed = [*codes[:-1], "G999"]
    same = unchanged_map(codes, old, renamed, old)
    assert same[-1] == -1 and (same[:-1] >= 0).all()
