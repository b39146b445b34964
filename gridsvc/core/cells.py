"""Exact point → polygon lookup whose cost follows the boundaries, not the area.

:class:`CellLocator` answers like :class:`~gridsvc.core.locator.PolygonLocator`
(same constructor, methods and tie rule) but its tables are an adaptive
tree in the spirit of the Adaptive Cell Trie (Kipf et al., ICDE 2018):

* a top grid whose number of cells follows the number of boundary segments
  (a far island makes its cells larger, not more numerous);
* nodes of 4 × 4 children, only where a boundary passes; a child without a
  boundary is a leaf with its polygon, at the coarsest level where it fits;
* a crossed leaf (few segments, or finest size) keeps its segments, each
  shared edge once, its candidate polygons in tie order and a reference
  point whose candidates are known as a bit mask; a point there is decided
  by the segments the line point → reference crosses: each flips its one or
  two owners' bits (an even count: same side as the reference), and the
  lowest bit left set is the answer;
* a small layer keeps splitting while the tree is small (``refine_nodes``),
  so its few long edges do not leave large crossed leaves.

A crossing that floating point cannot decide for sure (a point on or next
to an edge, a line through a vertex) sends the point to GEOS with the
STRtree, so the answer is exact: the same as ``shapely.intersects_xy`` on
the polygons, ties going to the lowest ``rank``.

All of it lives in flat numpy arrays (no Python object per node), built
level by level (:mod:`gridsvc.core.cellbuild`).
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from gridsvc.core.cellbuild import (
    REFINE_NODES,
    SIDE,
    UNKNOWN,
    CellFrame,
    Tree,
    build_tree,
    frame_for,
)
from gridsvc.core.cellgeom import crossings, shared_segments
from gridsvc.core.ragged import first_per_group, ramp

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Masks = NDArray[Any]  # bit masks over a leaf's candidates: uint8 … uint64, by the widest leaf

_TREE_LOCK = threading.Lock()

# where a crossed leaf puts its reference point, in fractions of its side: off the centre
# so that the axis-aligned lines of a tiling rarely pass through it
_REF = (0.5 + 0.0917, 0.5 + 0.1371)


class CellLocator:
    """Finds, for many points at once, the one polygon of a coverage that holds each.

    ``polygons`` are Polygon/MultiPolygon geometries in a planar or geographic
    (lon/lat) coordinate system; ``cell`` is the smallest cell size (one
    number, or (dx, dy)) in the same units. ``rank`` orders the polygons for
    ties (lowest wins); it defaults to their order. A cell splits while it
    holds more than ``leaf_segments`` boundary segments (a shared edge counts
    once), and past that while the tree has fewer than ``refine_nodes`` nodes.
    """

    def __init__(
        self,
        polygons: ArrayLike,
        cell: float | tuple[float, float],
        rank: ArrayLike | None = None,
        leaf_segments: int = 3,
        refine_nodes: int = REFINE_NODES,
    ) -> None:
        self.polygons = np.asarray(polygons, dtype=object).ravel()
        n = len(self.polygons)
        self.rank = np.arange(n) if rank is None else np.asarray(rank, dtype=np.int64)
        shapely.prepare(self.polygons)  # the exact path tests the same polygons again and again
        self.tree = shapely.STRtree(self.polygons)
        dxdy = (float(cell), float(cell)) if np.isscalar(cell) else tuple(map(float, cell))  # type: ignore[arg-type]
        self.seg, self.owners = shared_segments(self.polygons)
        # each polygon's place in the tie order (rank, then index): candidate lists follow it
        self._place = np.empty(n, dtype=np.int64)
        self._place[np.lexsort((np.arange(n), self.rank))] = np.arange(n)
        bounds = shapely.total_bounds(self.polygons) if len(self.seg) else np.zeros(4)
        target = int(np.clip(4 * len(self.seg), 1024, 1 << 22))
        self.frame = frame_for(bounds, (dxdy[0], dxdy[1]), target)
        built = build_tree(
            self.frame, self.seg, n, self._label_and_count, leaf_segments, refine_nodes
        )
        self.top = built.top
        self.nodes = built.nodes
        self._tables(built)
        self._top_mv = memoryview(self.top.ravel().tobytes()).cast(
            "i"
        )  # plain-int reads for locate_one
        self._nodes_mv = memoryview(self.nodes.ravel().tobytes()).cast("i")

    #: the arrays that make up a built locator (:meth:`to_arrays`), the frame's numbers aside
    TABLES = (
        "rank",
        "_place",
        "seg",
        "owners",
        "top",
        "nodes",
        "leaf_ptr",
        "leaf_seg",
        "leaf_ref",
        "leaf_flip",
        "leaf_hold",
        "cand_ptr",
        "cand_poly",
        "leaf_exact",
    )
    _FRAME = ("x0", "y0", "dx", "dy", "m", "cols", "rows")
    _tree: shapely.STRtree | None = None

    @property
    def tree(self) -> shapely.STRtree:
        """The polygons' STRtree, for the exact path; a locator from :meth:`from_arrays`
        builds it (and prepares the polygons) the first time a point needs GEOS."""
        if self._tree is None:
            with _TREE_LOCK:  # request threads may ask at once: one builds
                if self._tree is None:
                    shapely.prepare(self.polygons)
                    self._tree = shapely.STRtree(self.polygons)
        return self._tree

    @tree.setter
    def tree(self, value: shapely.STRtree | None) -> None:
        self._tree = value

    def to_arrays(self) -> dict[str, NDArray[Any]]:
        """The built tables as plain arrays (the frame's numbers as 0-d arrays): what
        :meth:`from_arrays` needs besides the polygons, to be stored and read back (or
        memory-mapped) instead of built again."""
        out = {name: np.asarray(getattr(self, name)) for name in self.TABLES}
        out |= {f"frame_{k}": np.asarray(getattr(self.frame, k)) for k in self._FRAME}
        return out

    @classmethod
    def from_arrays(cls, polygons: ArrayLike, arrays: dict[str, NDArray[Any]]) -> CellLocator:
        """A locator over ``polygons`` from :meth:`to_arrays` of one built over the same
        polygons (same order), without building: it answers exactly as that one did. The
        arrays are used as given (read-only memory maps are fine: nothing writes to them).
        Why: a city's build is seconds of CPU in every server process; reading the tables
        back is milliseconds."""
        self = cls.__new__(cls)
        self.polygons = np.asarray(polygons, dtype=object).ravel()
        missing = [k for k in (*cls.TABLES, *(f"frame_{k}" for k in cls._FRAME)) if k not in arrays]
        if missing or len(arrays["rank"]) != len(self.polygons):
            raise ValueError(f"not a locator's tables for {len(self.polygons)} polygons: {missing}")
        for name in cls.TABLES:
            setattr(self, name, arrays[name])
        x0, y0, dx, dy = (float(arrays[f"frame_{k}"]) for k in ("x0", "y0", "dx", "dy"))
        m, cols, rows = (int(arrays[f"frame_{k}"]) for k in ("m", "cols", "rows"))
        self.frame = CellFrame(x0, y0, dx, dy, m, cols, rows)
        self.tree = None  # built on the first point that needs GEOS
        # plain-int reads for locate_one, straight on the arrays (no copy of a mapped file)
        self._top_mv = np.ascontiguousarray(self.top, dtype=np.int32).ravel().data
        self._nodes_mv = np.ascontiguousarray(self.nodes, dtype=np.int32).ravel().data
        return self

    def _tables(self, built: Tree) -> None:
        """Each crossed leaf's segments, its candidate polygons (owners of those segments and
        holders of its reference point, lowest rank first) and bit masks over them: which
        candidates hold the reference, which each segment's crossing flips."""
        f = self.frame
        c0, r0, size = built.leaf_c0, built.leaf_r0, built.leaf_size
        order = np.argsort(built.pair_leaf, kind="stable")
        pair_leaf, pair_seg = built.pair_leaf[order], built.pair_seg[order]
        nleaf = len(c0)
        self.leaf_ptr = _offsets(pair_leaf, nleaf)
        self.leaf_seg = pair_seg.astype(np.int32)
        self.leaf_ref = np.column_stack(
            [f.x0 + (c0 + _REF[0] * size) * f.dx, f.y0 + (r0 + _REF[1] * size) * f.dy]
        )
        ask = np.flatnonzero(built.leaf_label == UNKNOWN)
        asked_leaf, asked_poly = self._holders(self.leaf_ref[ask])
        labelled = np.flatnonzero(built.leaf_label >= 0)
        held_leaf = np.r_[ask[asked_leaf], labelled]
        held_poly = np.r_[asked_poly, built.leaf_label[labelled]]
        owners = self.owners[pair_seg]
        cand = _Candidates(
            self._place,
            nleaf,
            np.r_[pair_leaf, pair_leaf, held_leaf],
            np.r_[owners[:, 0], owners[:, 1], held_poly],
        )
        self.cand_ptr, self.cand_poly = cand.ptr, cand.poly
        self.leaf_exact = cand.too_many  # more candidates than a mask has bits: GEOS decides
        self.leaf_flip = cand.bits(pair_leaf, owners[:, 0]) | cand.bits(pair_leaf, owners[:, 1])
        hold = cand.bits(held_leaf, held_poly)
        self.leaf_hold = np.zeros(nleaf, dtype=cand.dtype)
        if held_leaf.size:
            by = np.argsort(held_leaf, kind="stable")
            starts = np.flatnonzero(np.r_[True, np.diff(held_leaf[by]) != 0])
            self.leaf_hold[held_leaf[by][starts]] = np.bitwise_or.reduceat(hold[by], starts)

    def _holders(self, xy: Floats) -> tuple[Ints, Ints]:
        """(point, polygon) for every polygon whose closure holds each point."""
        point_idx, poly_idx = self.tree.query(shapely.points(xy))
        hit = shapely.intersects_xy(self.polygons[poly_idx], xy[point_idx, 0], xy[point_idx, 1])
        return point_idx[hit].astype(np.int64), poly_idx[hit].astype(np.int64)

    @property
    def nbytes(self) -> int:
        """Memory held by the lookup tables and segments (the tree and polygons not counted)."""
        arrays: list[NDArray[Any]] = [self.top, self.nodes, self.leaf_ptr, self.leaf_seg]
        arrays += [self.leaf_ref, self.leaf_flip, self.leaf_hold, self.cand_ptr, self.cand_poly]
        arrays += [self.leaf_exact, self.seg, self.owners]
        return int(sum(a.nbytes for a in arrays))

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
        """Points in crossed leaves: the segments the line point → reference crosses flip
        their owners' bits in the reference's mask; the lowest set bit is the answer."""
        lo = self.leaf_ptr[leaf]
        counts = self.leaf_ptr[leaf + 1] - lo
        pt = np.repeat(np.arange(xs.size), counts)
        pos = np.repeat(lo, counts) + ramp(counts)
        s = self.leaf_seg[pos]
        ref = np.take(self.leaf_ref, leaf, axis=0)
        cross, sure = crossings(np.take(self.seg, s, axis=0), xs[pt], ys[pt], ref[pt])
        flips = np.where(cross, self.leaf_flip[pos], 0).astype(self.leaf_flip.dtype)
        starts = np.cumsum(counts) - counts  # a crossed leaf holds at least one segment
        inside = self.leaf_hold[leaf]
        if starts.size:
            inside = inside ^ np.bitwise_xor.reduceat(flips, starts)
        result = np.full(xs.size, -1, dtype=np.int64)
        hit = np.flatnonzero(inside)
        slot = _lowest_bit(inside[hit])
        result[hit] = self.cand_poly[self.cand_ptr[leaf[hit]] + slot]
        unsure = np.unique(np.r_[pt[~sure], np.flatnonzero(self.leaf_exact[leaf])])
        if unsure.size:
            result[unsure] = self.locate_exact(xs[unsure], ys[unsure])
        return result


class _Candidates:
    """The polygons a leaf may answer, per leaf in tie order, and bits over them.

    A mask's width follows the most candidates any leaf has (8 bits for a coverage
    where three or four grids meet); a leaf with more than 64 is left to GEOS.
    """

    def __init__(self, place: Ints, nleaf: int, leaf: Ints, poly: Ints) -> None:
        keep = poly >= 0
        n = max(len(place), 1)
        self._n, self._place = n, place
        self._key = _sorted_unique(leaf[keep] * n + place[poly[keep]])
        cand_leaf = self._key // n
        self.ptr = _offsets(cand_leaf, nleaf)
        by_place = np.empty(len(place), dtype=np.int32)
        by_place[place] = np.arange(len(place), dtype=np.int32)
        self.poly = by_place[self._key % n]
        self._slot = np.arange(self._key.size) - self.ptr[cand_leaf]
        per_leaf = np.diff(self.ptr)
        self.too_many = per_leaf > 64
        widest = int(per_leaf.max(initial=0))
        self.dtype = next(t for t in _MASKS if np.iinfo(t).bits >= min(widest, 64))

    def bits(self, leaf: Ints, poly: NDArray[np.integer[Any]]) -> Masks:
        """The bit of ``poly`` among ``leaf``'s candidates (0 for no polygon, -1)."""
        out = np.zeros(leaf.size, dtype=self.dtype)
        ok = np.flatnonzero(poly >= 0)
        at = np.searchsorted(self._key, leaf[ok] * self._n + self._place[poly[ok]])
        slot = self._slot[at]
        fits = slot < 64
        one = np.ones(1, dtype=self.dtype)
        out[ok[fits]] = np.left_shift(one, slot[fits].astype(self.dtype))
        return out


_MASKS = (np.uint8, np.uint16, np.uint32, np.uint64)


def _sorted_unique(keys: Ints) -> Ints:
    """``np.unique`` by sorting: numpy's hashing unique took 3.5 s on the 20,000-grid city's
    8 M (leaf, polygon) keys. Neighbouring rows repeat most (a leaf's segments share their
    owners), so repeats next to each other go before the sort."""
    if keys.size == 0:
        return keys
    keys = np.sort(keys[np.r_[True, keys[1:] != keys[:-1]]])
    return keys[np.r_[True, keys[1:] != keys[:-1]]]


def _offsets(group: Ints, n: int) -> NDArray[np.integer[Any]]:
    """Start of each of ``n`` groups in rows sorted by group, and the end: n + 1 offsets
    (int32 while they fit: half the memory of a city's 700,000 leaves' pointers)."""
    ends = np.r_[0, np.cumsum(np.bincount(group, minlength=n))]
    return ends.astype(np.int32 if ends[-1] < np.iinfo(np.int32).max else np.int64)


def _lowest_bit(masks: Masks) -> Ints:
    """Index of the lowest set bit of each nonzero mask (frexp of a power of two is exact)."""
    wide = masks.astype(np.uint64)
    low = wide & (~wide + np.uint64(1))
    return (np.frexp(low.astype(np.float64))[1] - 1).astype(np.int64)
