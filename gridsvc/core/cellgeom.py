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


def shared_segments(polygons: NDArray[np.object_]) -> tuple[Floats, NDArray[np.int32]]:
    """Ring segments with each shared edge once: rows (ax, ay, bx, by) and two owners.

    In a coverage every inner edge is a ring segment of both its polygons with the
    same two end points; kept once (end points in a canonical order) it is marked,
    listed and crossed once, and a crossing flips both owners. A segment held by
    more than two rings (overlaps) takes a row per two of them; the second owner
    is -1 where there is none. Crossing parity per polygon is unchanged.
    """
    seg, owner = boundary_segments(polygons)
    swap = (seg[:, 0] > seg[:, 2]) | ((seg[:, 0] == seg[:, 2]) & (seg[:, 1] > seg[:, 3]))
    seg[swap] = seg[swap][:, [2, 3, 0, 1]]
    order = np.lexsort((owner, _row_hash(seg)))  # equal rows side by side (a hash: faster)
    seg, owner = seg[order], owner[order]
    same = np.r_[False, (seg[1:] == seg[:-1]).all(axis=1)]
    start = np.flatnonzero(~same)
    rank_in_group = np.arange(len(seg)) - np.repeat(start, np.diff(np.r_[start, len(seg)]))
    first = rank_in_group % 2 == 0  # rows 0, 2, 4… of a group open a row; 1, 3… join it
    row = np.cumsum(first) - 1
    owners = np.full((int(first.sum()), 2), -1, dtype=np.int32)
    owners[row[first], 0] = owner[first]
    owners[row[~first], 1] = owner[~first]
    return np.ascontiguousarray(seg[first]), owners


def _row_hash(rows: Floats) -> NDArray[np.uint64]:
    """A mix of each row's float bits: equal rows hash alike. Two unequal rows that collide
    only stay two rows (:func:`shared_segments` compares the coordinates themselves)."""
    bits = np.ascontiguousarray(rows).view(np.uint64)
    h = np.zeros(len(rows), dtype=np.uint64)
    for k, mult in enumerate(_MIX):
        h ^= (bits[:, k] ^ (bits[:, k] >> np.uint64(29))) * mult
    return h


_MIX = tuple(
    np.uint64(m)
    for m in (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93)
)


def supercover(
    seg: Floats, ox: Floats, oy: Floats, cell: tuple[float, float], shape: tuple[int, int]
) -> tuple[Ints, Ints]:
    """Unique (segment row, cell) pairs: the cells of a grid each segment touches (unsorted).

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
    return key // (cols * rows), key % (cols * rows)


def cut_marks(u: Floats, cols: int, rows: int) -> tuple[Floats, Floats, Ints]:
    """The cells (column, row, floored, not yet bounded) segments in cell units touch, and
    each mark's segment row; what both lookup structures' supercovers mark.

    Column strips: for every grid column a segment's x-range reaches (widened by
    ``WIDEN``), the segment's y-range inside that column, widened again, gives the
    rows. So every cell within ``WIDEN`` of a segment is marked (a boundary on a cell
    line marks both sides), each at most once per segment, with no sort; only
    columns and rows inside the grid are made, so a long segment costs what it covers.
    """
    w = WIDEN
    x0, y0, x1, y1 = u[:, 0], u[:, 1], u[:, 2], u[:, 3]
    xl, xh = np.minimum(x0, x1), np.maximum(x0, x1)
    c_lo = np.maximum(np.ceil(xl - 1 - w), 0)
    c_hi = np.minimum(np.floor(xh + w), cols - 1)
    ncol = np.maximum(c_hi - c_lo + 1, 0).astype(np.int64)
    who = np.repeat(np.arange(len(u)), ncol)
    col = (c_lo[who] + ramp(ncol)).astype(np.float64, copy=False)
    xa = np.maximum(col - w, xl[who])
    xb = np.minimum(col + 1 + w, xh[who])
    run = x1 - x0
    slope = np.divide(y1 - y0, run, out=np.zeros_like(run), where=run != 0)[who]
    flat = run[who] == 0  # vertical: the whole y-range lies in its columns
    ya = np.where(flat, y0[who], y0[who] + (xa - x0[who]) * slope)
    yb = np.where(flat, y1[who], y0[who] + (xb - x0[who]) * slope)
    r_lo = np.maximum(np.ceil(np.minimum(ya, yb) - 1 - w), 0)
    r_hi = np.minimum(np.floor(np.maximum(ya, yb) + w), rows - 1)
    nrow = np.maximum(r_hi - r_lo + 1, 0).astype(np.int64)
    at = np.repeat(np.arange(col.size), nrow)
    return col[at], r_lo[at] + ramp(nrow), who[at]


def _orient(
    ax: Floats, ay: Floats, bx: Floats, by: Floats, px: Floats, py: Floats
) -> tuple[Ints, Bools]:
    """Side of p from the line a→b (+1 left, -1 right) and whether that sign is certain."""
    left = (ax - px) * (by - py)
    right = (ay - py) * (bx - px)
    det = left - right
    sure = np.abs(det) > _ORIENT_ERR * (np.abs(left) + np.abs(right))
    return np.sign(det).astype(np.int64), sure


def crossings(seg: Floats, px: Floats, py: Floats, r: Floats) -> tuple[Bools, Bools]:
    """Whether segment p→r properly crosses each segment, and whether that is certain.

    One row per pair: ``seg`` (a, b), ``p`` as (px, py) and ``r`` as (x, y) rows. A pair
    is certain when the two segments' sides are decided by orientations of
    certain sign: p→r through a vertex, or p on a segment's line, is not.
    """
    ax, ay, bx, by = seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3]
    rx, ry = r[:, 0], r[:, 1]
    s1, c1 = _orient(ax, ay, bx, by, px, py)
    s2, c2 = _orient(ax, ay, bx, by, rx, ry)
    s3, c3 = _orient(px, py, rx, ry, ax, ay)
    s4, c4 = _orient(px, py, rx, ry, bx, by)
    apart = (c1 & c2 & (s1 == s2)) | (c3 & c4 & (s3 == s4))
    cross = c1 & c2 & c3 & c4 & (s1 != s2) & (s3 != s4)
    return cross, apart | cross
