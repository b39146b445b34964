"""Re-matching after a redraw without re-indexing the whole layer.

A polygon whose geometry did not change holds exactly the same points
before and after, so a point that was in it stays in it, and a point that
was not cannot enter it. Only points that were in changed or removed
polygons (or in none) need matching again, and only against the changed and
added polygons. A district redraw touches a few percent of its grids, so
this answers in a fraction of the time a full index build takes.

The tie rule is the usual one (lowest code among polygons whose closure
holds the point) within the changed set; a point exactly on an edge shared
by an unchanged polygon keeps the answer it had.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from gridsvc.core.ragged import first_per_group

Ints = NDArray[np.int64]


def unchanged_map(
    old_codes: ArrayLike, old_geoms: ArrayLike, new_codes: ArrayLike, new_geoms: ArrayLike
) -> Ints:
    """For each old polygon, the index of the identical new polygon (same code and geometry), or -1."""
    old = pd.Index(np.asarray(old_codes).astype(str))
    new = pd.Index(np.asarray(new_codes).astype(str))
    where = new.get_indexer(old)
    same = np.full(len(old), -1, dtype=np.int64)
    both = np.flatnonzero(where >= 0)
    equal = shapely.equals_exact(
        np.asarray(old_geoms)[both], np.asarray(new_geoms)[where[both]], tolerance=0.0
    )
    same[both[equal]] = where[both[equal]]
    return same


def rematch(
    old_index: ArrayLike,
    x: ArrayLike,
    y: ArrayLike,
    same: Ints,
    new_codes: ArrayLike,
    new_geoms: ArrayLike,
) -> Ints:
    """New polygon index per point, given its old index and ``unchanged_map``'s answer."""
    old_index = np.asarray(old_index, dtype=np.int64)
    xs, ys = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    result = np.where(old_index >= 0, same[old_index.clip(0)], -1)
    todo = np.flatnonzero(result < 0)
    kept = np.zeros(len(np.asarray(new_geoms)), dtype=bool)
    kept[same[same >= 0]] = True
    changed = np.flatnonzero(~kept)
    if todo.size == 0 or changed.size == 0:
        return result
    polygons = np.asarray(new_geoms)[changed]
    shapely.prepare(polygons)
    tree = shapely.STRtree(polygons)
    point_idx, poly_idx = tree.query(shapely.points(xs[todo], ys[todo]))
    hit = shapely.intersects_xy(polygons[poly_idx], xs[todo][point_idx], ys[todo][point_idx])
    point_idx, poly_idx = point_idx[hit], poly_idx[hit]
    rank = np.argsort(
        np.argsort(np.asarray(new_codes).astype(str)[changed], kind="stable"), kind="stable"
    )
    first = first_per_group(point_idx, rank[poly_idx])
    result[todo[point_idx[first]]] = changed[poly_idx[first]]
    return result
