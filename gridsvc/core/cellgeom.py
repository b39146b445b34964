"""Exact geometric kernels of the cell locator: supercover and a robust crossing test.

Both work on flat arrays (one row per segment, or per point × segment pair),
so the tree is built and queried without a Python loop per cell or point.

Exactness rests on two facts. The supercover marks every cell a segment
comes within a millionth of a cell of, so a cell without a mark holds no
boundary and one label is right for all of it. The crossing test decides an
orientation only when its floating-point value is farther from zero than
its rounding error can reach (Shewchuk's bound, with a wide margin); every
other pair is reported as undecided and its point goes to GEOS, so the fast
answer is never a guess.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray

from gridsvc.core.ragged import ramp

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]

WIDEN = 1e-6  # of a cell: a boundary this close to a cell marks it as crossed
# Shewchuk's orient2d bound is (3 + 16 eps) eps ~ 3.3e-16 of |t1| + |t2|; thirty times that.
_ORIENT_ERR = 1e-14


def boundary_segments(polygons: NDArray[np.object_]) -> tuple[Floats, Ints]:
    """Every ring segment of nonzero length as rows (ax, ay, bx, by), with its polygon."""
    rings, owner = shapely.get_parts(shapely.boundary(polygons), return_index=True)
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    same_ring = ring_idx[1:] == ring_idx[:-1]
    seg = np.column_stack([coords[:-1], coords[1:]])[same_ring]
    seg_owner = owner[ring_idx[:-1][same_ring]]
    real = (seg[:, 0] != seg[:, 2]) | (seg[:, 1] != seg[:, 3])
    return np.ascontiguousarray(seg[real]), seg_owner[real].astype(np.int64)


def supercover(
    seg: Floats, ox: Floats, oy: Floats, cell: tuple[float, float], shape: tuple[int, int]
) -> tuple[Ints, Ints]:
    """Unique (segment row, cell) pairs: the cells of a grid each segment touches.

    Row i of ``seg`` is placed on the grid with lower-left corner
    (ox[i], oy[i]), cells of ``cell`` and ``shape`` = (cols, rows); cells are
    numbered row * cols + col. Which cells: :func:`cut_marks`.
    """
    cols, rows = shape
    u = np.column_stack(
        [
            (seg[:, 0] - ox) / cell[0],
            (seg[:, 1] - oy) / cell[1],
            (seg[:, 2] - ox) / cell[0],
            (seg[:, 3] - oy) / cell[1],
        ]
    )
    cc, rr, ww = cut_marks(u, cols, rows)
    ok = (cc >= 0) & (cc < cols) & (rr >= 0) & (rr < rows)
    key = ww[ok] * (cols * rows) + (rr[ok] * cols + cc[ok]).astype(np.int64)
    key = np.sort(key)  # sort-based: numpy's hashing unique is several times slower here
    key = key[np.r_[True, key[1:] != key[:-1]]] if key.size else key
    return key // (cols * rows), key % (cols * rows)


def cut_marks(u: Floats, cols: int, rows: int) -> tuple[Floats, Floats, Ints]:
    """The cells (column, row, floored, not yet bounded) segments in cell units touch, and
    each mark's segment row; what both lookup structures' supercovers mark.

    A segment is cut where it crosses a grid line (only lines inside the grid,
    so a long segment costs what it covers); the pieces' midpoints name the
    cells it passes through, and every cut and end point also marks the cells
    within ``WIDEN``, so a boundary on a cell line marks both sides.
    """
    n = len(u)
    ts = [np.zeros(n), np.ones(n)]
    owners = [np.arange(n), np.arange(n)]
    for a, b, top in ((0, 2, cols), (1, 3, rows)):
        lo = np.maximum(np.floor(np.minimum(u[:, a], u[:, b])) + 1, 0)
        hi = np.minimum(np.ceil(np.maximum(u[:, a], u[:, b])) - 1, top)
        counts = np.maximum(hi - lo + 1, 0).astype(np.int64)
        which = np.repeat(np.arange(n), counts)
        lines = lo[which] + ramp(counts)
        ts.append((lines - u[which, a]) / (u[which, b] - u[which, a]))
        owners.append(which)
    t = np.concatenate(ts)
    who = np.concatenate(owners)
    order = np.lexsort((t, who))
    t, who = t[order], who[order]
    px = u[who, 0] + t * (u[who, 2] - u[who, 0])
    py = u[who, 1] + t * (u[who, 3] - u[who, 1])
    same = who[1:] == who[:-1]
    mx = ((px[1:] + px[:-1]) / 2)[same]
    my = ((py[1:] + py[:-1]) / 2)[same]
    c = [np.floor(mx)] + [np.floor(px + d) for d in (-WIDEN, WIDEN) for _ in (0, 1)]
    r = [np.floor(my)] + [np.floor(py + d) for _ in (0, 1) for d in (-WIDEN, WIDEN)]
    cc = np.concatenate(c)
    rr = np.concatenate(r)
    ww = np.concatenate([who[1:][same]] + [who] * 4)
    return cc, rr, ww


def _orient(
    ax: Floats, ay: Floats, bx: Floats, by: Floats, px: Floats, py: Floats
) -> tuple[Ints, Bools]:
    """Side of p from the line a→b (+1 left, -1 right) and whether that sign is certain."""
    left = (ax - px) * (by - py)
    right = (ay - py) * (bx - px)
    det = left - right
    sure = np.abs(det) > _ORIENT_ERR * (np.abs(left) + np.abs(right))
    return np.sign(det).astype(np.int64), sure


def crossings(seg: Floats, p: Floats, r: Floats) -> tuple[Bools, Bools]:
    """Whether segment p→r properly crosses each segment, and whether that is certain.

    One row per pair: ``seg`` (a, b), ``p`` and ``r`` as (x, y) rows. A pair
    is certain when the two segments' sides are decided by orientations of
    certain sign: p→r through a vertex, or p on a segment's line, is not.
    """
    ax, ay, bx, by = seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3]
    s1, c1 = _orient(ax, ay, bx, by, p[:, 0], p[:, 1])
    s2, c2 = _orient(ax, ay, bx, by, r[:, 0], r[:, 1])
    s3, c3 = _orient(p[:, 0], p[:, 1], r[:, 0], r[:, 1], ax, ay)
    s4, c4 = _orient(p[:, 0], p[:, 1], r[:, 0], r[:, 1], bx, by)
    apart = (c1 & c2 & (s1 == s2)) | (c3 & c4 & (s3 == s4))
    cross = c1 & c2 & c3 & c4 & (s1 != s2) & (s3 != s4)
    return cross, apart | cross
