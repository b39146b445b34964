"""Exact point → polygon lookup over a coverage, built for bulk speed.

Matching a million reports against twenty thousand grids with a tree costs
a GEOS predicate per point. Most points lie far from any boundary, though,
and for them the answer is a table look-up. :class:`PolygonLocator` is a
two-level lookup raster:

* a coarse raster whose cells either hold the one polygon that covers the
  whole cell, or point to a block of fine cells;
* fine blocks, only where a boundary passes, whose cells again hold one
  polygon, or the mark ``EDGE`` when a boundary passes through the cell
  itself;
* points in ``EDGE`` cells (a few percent) are decided exactly with an
  STRtree ``intersects`` query.

Which cells a boundary touches is computed exactly (a supercover of every
boundary segment, widened by a millionth of a cell so that a boundary lying
on a cell line marks the cells on both sides). So a cell without the mark
lies wholly inside one polygon, or wholly outside all, and its label
(found by scanline at the cell centre) is right for every point in it.
The answer is therefore exact, the same as the tree gives, not an
approximation with a tolerance.

The tie rule, applied in the exact path and therefore everywhere: a point
on a shared edge or vertex (the closure of several polygons) belongs to the
polygon with the lowest ``rank`` (the caller passes the rank of the codes,
so the lowest code wins). Where polygons overlap, which a validated
coverage never does, the same rule decides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from gridsvc.core.cellgeom import cut_marks
from gridsvc.core.ragged import first_per_group, ramp

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]

_SEGMENT_CHUNK = 200_000  # boundary segments handled at once while building


class Locator(Protocol):
    """What matching needs of a point → polygon index (this raster, or core.cells' tree)."""

    rank: Ints

    @property
    def nbytes(self) -> int: ...

    def locate(self, x: ArrayLike, y: ArrayLike) -> Ints: ...

    def locate_one(self, x: float, y: float) -> int: ...


@dataclass(frozen=True)
class RasterGeometry:
    """Where the fine raster lies: origin, cell size and shape (in the polygons' units)."""

    x0: float
    y0: float
    dx: float
    dy: float
    ncols: int
    nrows: int
    block: int  # fine cells per coarse cell side

    @property
    def coarse_cols(self) -> int:
        return self.ncols // self.block

    @property
    def coarse_rows(self) -> int:
        return self.nrows // self.block


class PolygonLocator:
    """Finds, for many points at once, the one polygon of a coverage that holds each.

    ``polygons`` are Polygon/MultiPolygon geometries in a planar or geographic
    (lon/lat) coordinate system; ``cell`` is the fine cell size (dx, dy) in the
    same units. ``rank`` orders the polygons for ties (lowest wins); it
    defaults to their order.
    """

    def __init__(
        self,
        polygons: ArrayLike,
        cell: tuple[float, float],
        rank: ArrayLike | None = None,
        block: int = 8,
    ) -> None:
        self.polygons = np.asarray(polygons, dtype=object)
        n = len(self.polygons)
        self.rank = np.arange(n) if rank is None else np.asarray(rank, dtype=np.int64)
        shapely.prepare(self.polygons)  # the exact path tests the same polygons again and again
        self.tree = shapely.STRtree(self.polygons)
        self.edge_label = n + 1  # labels: 0 outside, i + 1 polygon i, n + 1 edge
        self.dtype = np.uint16 if self.edge_label < np.iinfo(np.uint16).max else np.int32
        self.raster = _raster_geometry(self.polygons, cell, block)
        segments = _boundary_segments(self.polygons)
        self.coarse, self.blocks = _build_tables(self.raster, segments, self.edge_label, self.dtype)

    @property
    def nbytes(self) -> int:
        """Memory held by the lookup tables (the tree and polygons not counted)."""
        return int(self.coarse.nbytes + self.blocks.nbytes)

    def locate(self, x: ArrayLike, y: ArrayLike) -> Ints:
        """Index of the polygon holding each point, or -1 where none does."""
        xs = np.asarray(x, dtype=np.float64).ravel()
        ys = np.asarray(y, dtype=np.float64).ravel()
        labels = self._labels(xs, ys)
        result = labels.astype(np.int64) - 1
        edge = np.flatnonzero(labels == self.edge_label)
        if edge.size:
            result[edge] = self.locate_exact(xs[edge], ys[edge])
        return result

    def locate_one(self, x: float, y: float) -> int:
        """:meth:`locate` for one point: the same tables read with plain arithmetic, 5x faster."""
        label = self._label_one(x, y)
        if label == self.edge_label:
            return int(self.locate_exact([x], [y])[0])
        return label - 1

    def locate_exact(self, x: ArrayLike, y: ArrayLike) -> Ints:
        """The same answer as :meth:`locate`, straight from the tree (no raster)."""
        xs = np.asarray(x, dtype=np.float64).ravel()
        ys = np.asarray(y, dtype=np.float64).ravel()
        result = np.full(xs.size, -1, dtype=np.int64)
        point_idx, poly_idx = self.tree.query(shapely.points(xs, ys))
        # intersects_xy uses the prepared polygons; a tree predicate would not
        hit = shapely.intersects_xy(self.polygons[poly_idx], xs[point_idx], ys[point_idx])
        point_idx, poly_idx = point_idx[hit], poly_idx[hit]
        first = first_per_group(point_idx, self.rank[poly_idx])
        result[point_idx[first]] = poly_idx[first]
        return result

    def _label_one(self, x: float, y: float) -> int:
        """:meth:`_labels` for a single point, without numpy's per-call overhead."""
        g = self.raster
        if not (math.isfinite(x) and math.isfinite(y)):
            return 0
        col = math.floor((x - g.x0) / g.dx)
        row = math.floor((y - g.y0) / g.dy)
        if not (0 <= col < g.ncols and 0 <= row < g.nrows):
            return 0
        k = g.block
        label = int(self.coarse.flat[(row // k) * g.coarse_cols + col // k])
        if label < 0:
            label = int(self.blocks.flat[(-label - 1) * (k * k) + (row % k) * k + col % k])
        return label

    def _labels(self, xs: Floats, ys: Floats) -> NDArray[np.int64]:
        """Raster label per point: 0 outside, i + 1 inside polygon i, edge_label undecided."""
        g = self.raster
        labels = np.zeros(xs.size, dtype=np.int64)
        with np.errstate(invalid="ignore"):
            fc = np.floor((xs - g.x0) / g.dx)
            fr = np.floor((ys - g.y0) / g.dy)
            inside = (fc >= 0) & (fc < g.ncols) & (fr >= 0) & (fr < g.nrows)
        idx = np.flatnonzero(inside)
        col = fc[idx].astype(np.int64)
        row = fr[idx].astype(np.int64)
        k = g.block
        coarse = self.coarse.ravel()[(row // k) * g.coarse_cols + col // k].astype(np.int64)
        mixed = coarse < 0
        block_id = -coarse[mixed] - 1
        offset = (row[mixed] % k) * k + col[mixed] % k
        coarse[mixed] = self.blocks.ravel()[block_id * (k * k) + offset]
        labels[idx] = coarse
        return labels


def _raster_geometry(
    polygons: NDArray[np.object_], cell: tuple[float, float], block: int
) -> RasterGeometry:
    """A raster covering the polygons with a margin of two fine cells, whole coarse cells."""
    dx, dy = cell
    minx, miny, maxx, maxy = shapely.total_bounds(polygons)
    x0, y0 = minx - 2 * dx, miny - 2 * dy
    ncols = int(np.ceil((maxx - x0) / dx)) + 2
    nrows = int(np.ceil((maxy - y0) / dy)) + 2
    ncols = -(-ncols // block) * block
    nrows = -(-nrows // block) * block
    return RasterGeometry(x0, y0, dx, dy, ncols, nrows, block)


def _boundary_segments(polygons: NDArray[np.object_]) -> tuple[Floats, Ints]:
    """Every ring segment as rows (ax, ay, bx, by) with the index of its polygon."""
    rings, owner = shapely.get_parts(shapely.boundary(polygons), return_index=True)
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    same_ring = ring_idx[1:] == ring_idx[:-1]
    seg = np.column_stack([coords[:-1], coords[1:]])[same_ring]
    return seg, owner[ring_idx[:-1][same_ring]]


def _build_tables(
    g: RasterGeometry, segments: tuple[Floats, Ints], edge_label: int, dtype: type
) -> tuple[NDArray[np.int32], NDArray[np.generic]]:
    """Fill the coarse raster and the fine blocks, one band of coarse rows at a time."""
    seg, owner = segments
    spans = _scanline_spans(g, seg, owner)
    edges = _edge_cells(g, seg)
    coarse = np.zeros((g.coarse_rows, g.coarse_cols), dtype=np.int32)
    blocks: list[NDArray[np.generic]] = []
    nblocks = 0
    span_rows = spans[0]
    k = g.block
    for band in range(g.coarse_rows):
        r0, r1 = band * k, (band + 1) * k
        lo, hi = np.searchsorted(span_rows, [r0, r1])
        labels = _fill_band(g, r0, tuple(s[lo:hi] for s in spans), edge_label)
        labels[edges[r0 * g.ncols : r1 * g.ncols].reshape(k, g.ncols)] = edge_label
        cells = labels.reshape(k, g.coarse_cols, k).transpose(1, 0, 2)
        first = cells[:, :1, :1]
        uniform = (cells == first).all(axis=(1, 2)) & (first[:, 0, 0] != edge_label)
        coarse[band, uniform] = first[uniform, 0, 0]
        mixed = np.flatnonzero(~uniform)
        coarse[band, mixed] = -(nblocks + np.arange(mixed.size) + 1)
        nblocks += mixed.size
        blocks.append(cells[mixed].astype(dtype))
    return coarse, np.concatenate(blocks) if blocks else np.zeros((0, k, k), dtype=dtype)


def _scanline_spans(g: RasterGeometry, seg: Floats, owner: Ints) -> tuple[Ints, Ints, Ints, Ints]:
    """Runs of fine cells whose centres lie inside each polygon, per raster row.

    Each segment is cut by the horizontal lines through the row centres
    (half-open in y, so a vertex on a centre line counts once); sorting the
    crossings per polygon and row and pairing them gives the inside runs
    (even-odd, so holes and multipolygons need no special case).
    Returns (row, first column, end column, polygon) sorted by row.
    """
    ay, by = seg[:, 1], seg[:, 3]
    ymin, ymax = np.minimum(ay, by), np.maximum(ay, by)
    r_lo = np.ceil((ymin - g.y0) / g.dy - 0.5).astype(np.int64)
    r_hi = np.ceil((ymax - g.y0) / g.dy - 0.5).astype(np.int64)
    counts = np.maximum(r_hi - r_lo, 0)
    which = np.repeat(np.arange(seg.shape[0]), counts)
    rows = r_lo[which] + ramp(counts)
    s = seg[which]
    yc = g.y0 + (rows + 0.5) * g.dy
    xc = s[:, 0] + (yc - s[:, 1]) * (s[:, 2] - s[:, 0]) / (s[:, 3] - s[:, 1])
    poly = owner[which]
    order = np.lexsort((xc, rows, poly))
    rows, xc, poly = rows[order][0::2], xc[order], poly[order][0::2]
    c_lo = np.ceil((xc[0::2] - g.x0) / g.dx - 0.5).astype(np.int64)
    c_hi = np.ceil((xc[1::2] - g.x0) / g.dx - 0.5).astype(np.int64)
    keep = c_hi > c_lo
    by_row = np.argsort(rows[keep], kind="stable")
    return tuple(a[keep][by_row] for a in (rows, c_lo, c_hi, poly))  # type: ignore[return-value]


def _fill_band(
    g: RasterGeometry, r0: int, spans: tuple[Ints, ...], edge_label: int
) -> NDArray[np.int64]:
    """Labels (polygon + 1, 0 outside) of the fine rows r0 .. r0 + block from their runs.

    A run adds its label at its first column and takes it away after its
    last, so a cumulative sum along the row paints every run at once. Cells
    covered twice (overlapping polygons) get ``edge_label``, so the exact
    path decides them.
    """
    rows, c_lo, c_hi, poly = spans
    width = g.ncols + 1
    r = rows - r0
    start = r * width + c_lo
    end = r * width + c_hi
    size = g.block * width
    value = np.bincount(start, poly + 1, size) - np.bincount(end, poly + 1, size)
    depth = np.bincount(start, minlength=size) - np.bincount(end, minlength=size)
    labels = np.rint(value.reshape(g.block, width).cumsum(axis=1)).astype(np.int64)[:, :-1]
    overlap = depth.reshape(g.block, width).cumsum(axis=1)[:, :-1] > 1
    labels[overlap] = edge_label
    return labels


def _edge_cells(g: RasterGeometry, seg: Floats) -> NDArray[np.bool_]:
    """A flat mask (row * ncols + col) of every fine cell a boundary touches."""
    mask = np.zeros(g.nrows * g.ncols, dtype=bool)
    for i in range(0, len(seg), _SEGMENT_CHUNK):
        mask[_supercover(g, seg[i : i + _SEGMENT_CHUNK])] = True
    return mask


def _supercover(g: RasterGeometry, seg: Floats) -> Ints:
    """Cells touched by the segments, each widened by a millionth of a cell (the cell tree's
    kernel, :func:`~gridsvc.core.cellgeom.cut_marks`, with repeats: the caller marks a mask)."""
    u = (seg - [g.x0, g.y0, g.x0, g.y0]) / [g.dx, g.dy, g.dx, g.dy]  # in cell units
    # the raster's margin keeps every segment inside it, so no cut is left out here
    cols, rows, _ = cut_marks(u, g.ncols, g.nrows)
    c = cols.astype(np.int64)
    r = rows.astype(np.int64)
    ok = (c >= 0) & (c < g.ncols) & (r >= 0) & (r < g.nrows)
    return r[ok] * g.ncols + c[ok]
