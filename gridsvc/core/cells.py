"""Exact point → polygon lookup whose cost follows the boundaries, not the area.

:class:`CellLocator` answers like :class:`~gridsvc.core.locator.PolygonLocator`
(same constructor, methods and tie rule) but its tables are an adaptive
tree in the spirit of the Adaptive Cell Trie (Kipf et al., ICDE 2018):

* a top grid whose number of cells follows the number of boundary segments
  (a far island makes its cells larger, not more numerous);
* nodes of 4 × 4 children, only where a boundary passes; a child without a
  boundary is a leaf with its polygon, at the coarsest level where it fits;
* a crossed leaf (few segments, or finest size) keeps its segments and a
  reference point whose polygons are known; a point there is decided by
  counting, per polygon, the segments that the line point → reference
  crosses (an even count: same side as the reference).

A crossing that floating point cannot decide for sure (a point on or next
to an edge, a line through a vertex) sends the point to GEOS with the
STRtree, so the answer is exact: the same as ``shapely.intersects_xy`` on
the polygons, ties going to the lowest ``rank``.

All of it lives in flat numpy arrays (no Python object per node), built
level by level (:mod:`gridsvc.core.cellbuild`).
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from gridsvc.core.cellbuild import SIDE, UNKNOWN, Tree, build_tree, frame_for
from gridsvc.core.cellgeom import boundary_segments, crossings
from gridsvc.core.ragged import first_per_group, ramp

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]

# where a crossed leaf puts its reference point, in fractions of its side: off the centre
# so that the axis-aligned lines of a tiling rarely pass through it
_REF = (0.5 + 0.0917, 0.5 + 0.1371)


class CellLocator:
    """Finds, for many points at once, the one polygon of a coverage that holds each.

    ``polygons`` are Polygon/MultiPolygon geometries in a planar or geographic
    (lon/lat) coordinate system; ``cell`` is the smallest cell size (one
    number, or (dx, dy)) in the same units. ``rank`` orders the polygons for
    ties (lowest wins); it defaults to their order. A cell splits while it
    holds more than ``leaf_segments`` boundary segments.
    """

    def __init__(
        self,
        polygons: ArrayLike,
        cell: float | tuple[float, float],
        rank: ArrayLike | None = None,
        leaf_segments: int = 4,
    ) -> None:
        self.polygons = np.asarray(polygons, dtype=object).ravel()
        n = len(self.polygons)
        self.rank = np.arange(n) if rank is None else np.asarray(rank, dtype=np.int64)
        shapely.prepare(self.polygons)  # the exact path tests the same polygons again and again
        self.tree = shapely.STRtree(self.polygons)
        dxdy = (float(cell), float(cell)) if np.isscalar(cell) else tuple(map(float, cell))  # type: ignore[arg-type]
        self.seg, self.owner = boundary_segments(self.polygons)
        bounds = shapely.total_bounds(self.polygons) if len(self.seg) else np.zeros(4)
        target = int(np.clip(4 * len(self.seg), 1024, 1 << 22))
        self.frame = frame_for(bounds, (dxdy[0], dxdy[1]), target)
        built = build_tree(self.frame, self.seg, n, self._label_and_count, leaf_segments)
        self.top = built.top
        self.nodes = built.nodes
        self._tables(built)
        self._top_mv = memoryview(self.top.ravel().tobytes()).cast(
            "i"
        )  # plain-int reads for locate_one
        self._nodes_mv = memoryview(self.nodes.ravel().tobytes()).cast("i")

    def _tables(self, built: Tree) -> None:
        """Leaf segment lists (sorted by owner rank) and what each reference point lies in:
        its free neighbour's label, or GEOS's holders where that is unknown."""
        f = self.frame
        c0, r0, size = built.leaf_c0, built.leaf_r0, built.leaf_size
        pair_leaf, pair_seg = built.pair_leaf, built.pair_seg
        order = np.lexsort((self.rank[self.owner[pair_seg]], pair_leaf))
        pair_leaf, pair_seg = pair_leaf[order], pair_seg[order]
        nleaf = len(c0)
        self.leaf_ptr = np.r_[0, np.cumsum(np.bincount(pair_leaf, minlength=nleaf))]
        self.leaf_seg = pair_seg.astype(np.int32)
        self.leaf_ref = np.column_stack(
            [f.x0 + (c0 + _REF[0] * size) * f.dx, f.y0 + (r0 + _REF[1] * size) * f.dy]
        )
        ask = np.flatnonzero(built.leaf_label == UNKNOWN)
        asked_leaf, held_poly = self._holders(self.leaf_ref[ask])
        labelled = np.flatnonzero(built.leaf_label >= 0)
        held_leaf = np.r_[ask[asked_leaf], labelled]
        held_poly = np.r_[held_poly, built.leaf_label[labelled]]
        n = max(len(self.polygons), 1)
        held = held_leaf * n + held_poly
        own = pair_leaf * n + self.owner[pair_seg]
        self.leaf_in = _member(own, held)  # does the reference lie in this segment's polygon?
        apart = ~_member(held, own)  # polygons holding the reference without a segment here
        self.leaf_best = np.full(nleaf, -1, dtype=np.int32)
        hl, hp = held_leaf[apart], held_poly[apart]
        first = first_per_group(hl, self.rank[hp])
        self.leaf_best[hl[first]] = hp[first]

    def _holders(self, xy: Floats) -> tuple[Ints, Ints]:
        """(point, polygon) for every polygon whose closure holds each point."""
        point_idx, poly_idx = self.tree.query(shapely.points(xy))
        hit = shapely.intersects_xy(self.polygons[poly_idx], xy[point_idx, 0], xy[point_idx, 1])
        return point_idx[hit].astype(np.int64), poly_idx[hit].astype(np.int64)

    @property
    def nbytes(self) -> int:
        """Memory held by the lookup tables and segments (the tree and polygons not counted)."""
        arrays = (self.top, self.nodes, self.leaf_ptr, self.leaf_seg, self.leaf_ref)
        rest = (self.leaf_in, self.leaf_best, self.seg, self.owner)
        return int(sum(a.nbytes for a in arrays + rest))

    def locate(self, x: ArrayLike, y: ArrayLike) -> Ints:
        """Index of the polygon holding each point, or -1 where none does."""
        xs = np.asarray(x, dtype=np.float64).ravel()
        ys = np.asarray(y, dtype=np.float64).ravel()
        v = self._codes(xs, ys)
        n = len(self.polygons)
        result = v - 1
        crossed = np.flatnonzero(v > n)
        if crossed.size:
            result[crossed] = self._in_leaves(xs[crossed], ys[crossed], v[crossed] - n - 1)
        return result

    def locate_one(self, x: float, y: float) -> int:
        """:meth:`locate` for one point: the same tables read with plain arithmetic."""
        f = self.frame
        if not (math.isfinite(x) and math.isfinite(y)):
            return -1
        c = math.floor((x - f.x0) / f.dx)
        r = math.floor((y - f.y0) / f.dy)
        if not (0 <= c < f.cols * f.scale and 0 <= r < f.rows * f.scale):
            return -1
        s = f.scale
        e = self._top_mv[(r // s) * f.cols + c // s]
        while e >= 0:
            s //= SIDE
            e = self._nodes_mv[e * SIDE * SIDE + ((r // s) % SIDE) * SIDE + (c // s) % SIDE]
        v = -1 - e
        n = len(self.polygons)
        if v <= n:
            return v - 1
        return int(self._in_leaves(np.array([x]), np.array([y]), np.array([v - n - 1]))[0])

    def _label_and_count(self, xs: Floats, ys: Floats) -> tuple[Ints, Ints]:
        """:meth:`locate_exact` and how many polygons hold each point (the tree's builder
        trusts a label alone only where it is the one holder)."""
        point_idx, poly_idx = self._holders(np.column_stack([xs, ys]))
        label = np.full(xs.size, -1, dtype=np.int64)
        first = first_per_group(point_idx, self.rank[poly_idx])
        label[point_idx[first]] = poly_idx[first]
        return label, np.bincount(point_idx, minlength=xs.size)

    def locate_exact(self, x: ArrayLike, y: ArrayLike) -> Ints:
        """The same answer as :meth:`locate`, straight from the STRtree and GEOS."""
        xs = np.asarray(x, dtype=np.float64).ravel()
        ys = np.asarray(y, dtype=np.float64).ravel()
        result = np.full(xs.size, -1, dtype=np.int64)
        point_idx, poly_idx = self._holders(np.column_stack([xs, ys]))
        first = first_per_group(point_idx, self.rank[poly_idx])
        result[point_idx[first]] = poly_idx[first]
        return result

    def _codes(self, xs: Floats, ys: Floats) -> Ints:
        """Leaf code per point: 0 off the tree, label + 1 in a free cell, > n in a crossed leaf."""
        f = self.frame
        v = np.zeros(xs.size, dtype=np.int64)
        with np.errstate(invalid="ignore"):
            fc = np.floor((xs - f.x0) / f.dx)
            fr = np.floor((ys - f.y0) / f.dy)
            on = (fc >= 0) & (fc < f.cols * f.scale) & (fr >= 0) & (fr < f.rows * f.scale)
        idx = np.flatnonzero(on)
        c = fc[idx].astype(np.int64)
        r = fr[idx].astype(np.int64)
        bits = 2 * f.m  # SIDE == 4: two bits per level
        e = self.top.ravel()[(r >> bits) * f.cols + (c >> bits)].astype(np.int64)
        active = np.flatnonzero(e >= 0)
        flat = self.nodes.ravel()
        while active.size:
            bits -= 2
            child = ((r[active] >> bits) & 3) * SIDE + ((c[active] >> bits) & 3)
            down = flat[e[active] * (SIDE * SIDE) + child]
            e[active] = down
            active = active[down >= 0]
        v[idx] = -1 - e
        return v

    def _in_leaves(self, xs: Floats, ys: Floats, leaf: Ints) -> Ints:
        """Points in crossed leaves: parity of crossings towards each leaf's reference point."""
        counts = self.leaf_ptr[leaf + 1] - self.leaf_ptr[leaf]
        pt = np.repeat(np.arange(xs.size), counts)
        pos = np.repeat(self.leaf_ptr[leaf], counts) + ramp(counts)
        s = self.leaf_seg[pos]
        p = np.column_stack([xs, ys])
        cross, sure = crossings(self.seg[s], p[pt], self.leaf_ref[leaf[pt]])
        own = self.owner[s]
        new = np.r_[True, (pt[1:] != pt[:-1]) | (own[1:] != own[:-1])] if pt.size else pt > 0
        start = np.flatnonzero(new)
        parity = np.add.reduceat(cross.astype(np.int64), start) % 2 if start.size else start
        inside = (parity == 1) ^ self.leaf_in[pos[start]]
        best = self.leaf_best[leaf].astype(np.int64)
        has = np.flatnonzero(best >= 0)
        cand_pt = np.r_[pt[start][inside], has]
        cand_poly = np.r_[own[start][inside], best[has]]
        result = np.full(xs.size, -1, dtype=np.int64)
        first = first_per_group(cand_pt, self.rank[cand_poly])
        result[cand_pt[first]] = cand_poly[first]
        unsure = np.unique(pt[~sure])
        if unsure.size:
            result[unsure] = self.locate_exact(xs[unsure], ys[unsure])
        return result


def _member(keys: Ints, pool: Ints) -> NDArray[np.bool_]:
    """``np.isin(keys, pool)`` by sort and binary search: numpy's hashing isin took 9 s of
    the 20,000-grid city's build on its 4 M (leaf, polygon) keys, this takes a few tenths."""
    pool = np.sort(pool)
    if pool.size == 0:
        return np.zeros(keys.size, dtype=bool)
    at = np.minimum(np.searchsorted(pool, keys), pool.size - 1)
    return pool[at] == keys
