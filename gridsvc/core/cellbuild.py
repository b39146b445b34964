"""Building the cell locator's tree, level by level, with numpy.

The tree is a top grid (sized by the number of boundary segments, not by the
area) whose crossed cells split 4 × 4, again and again, until a cell holds
few segments or is as small as the finest cell. Each level is one pass over
flat arrays: the segments of the splitting cells are cut into the children
(exact supercover), the children without a segment are labelled, and only
the crossed ones go on. Work and memory therefore follow the boundary.

Labels of segment-free cells come from one point-in-polygon test per
connected group of such cells: two free cells that share a side have no
boundary between them, so they lie in the same polygon (or outside all).

A crossed leaf's reference point (what a point in it is walked to) lies in
a free side neighbour of its own size when it has one: the walk then stays
in the leaf and a boundary-free cell, so it crosses only the leaf's
segments, and the reference's polygons are the neighbour's label, known
without a GEOS call (the GEOS holders of all 1.5 M leaf references were
the largest remaining cost of the city's build). A leaf without such a
neighbour, or next to a free group held by several (overlapping) polygons,
keeps its reference inside and is resolved by GEOS as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from gridsvc.core.cellgeom import supercover

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Exact = Callable[[Floats, Floats], tuple[Ints, Ints]]  # lowest-rank holder, holder count

SIDE = 4  # a node splits a cell into SIDE × SIDE children
UNKNOWN = -2  # a reference point's label not known from a free neighbour
_FREE_LINKS = np.zeros((3, 3, 3), dtype=bool)
_FREE_LINKS[1] = [[0, 1, 0], [1, 1, 1], [0, 1, 0]]  # sides within one block, never across


@dataclass(frozen=True)
class CellFrame:
    """Where the tree lies: finest cell (dx, dy), top grid of cols × rows cells of SIDE**m."""

    x0: float
    y0: float
    dx: float
    dy: float
    m: int
    cols: int
    rows: int

    @property
    def scale(self) -> int:
        """Finest cells per top cell side."""
        return int(SIDE**self.m)


def frame_for(bounds: Floats, cell: tuple[float, float], target: int) -> CellFrame:
    """The frame over ``bounds`` (grown by two fine cells) with at most ``target`` top cells."""
    dx, dy = cell
    minx, miny, maxx, maxy = bounds
    x0, y0 = minx - 2 * dx, miny - 2 * dy
    w, h = (maxx - x0) / dx + 2, (maxy - y0) / dy + 2
    m = 0
    while m < 15 and np.ceil(w / SIDE**m) * np.ceil(h / SIDE**m) > target:
        m += 1
    cols, rows = int(np.ceil(w / SIDE**m)), int(np.ceil(h / SIDE**m))
    return CellFrame(float(x0), float(y0), float(dx), float(dy), m, cols, rows)


@dataclass
class Leaves:
    """Crossed leaves: the corner (finest-cell units) of the cell of the leaf's size that
    holds its reference point, that size, the reference's label (-1 outside all, UNKNOWN:
    to be asked of GEOS) and segment rows."""

    c0: list[Ints] = field(default_factory=list)
    r0: list[Ints] = field(default_factory=list)
    size: list[Ints] = field(default_factory=list)
    label: list[Ints] = field(default_factory=list)
    pair_leaf: list[Ints] = field(default_factory=list)
    pair_seg: list[Ints] = field(default_factory=list)
    count: int = 0


@dataclass
class Tree:
    """The built tables: top grid and node entries (see ``encode``), and the crossed leaves."""

    top: NDArray[np.int32]
    nodes: NDArray[np.int32]
    leaf_c0: Ints
    leaf_r0: Ints
    leaf_size: Ints
    leaf_label: Ints
    pair_leaf: Ints
    pair_seg: Ints


@dataclass
class _Level:
    """Blocks to split at one level: corners in finest cells, child size, shape, pairs."""

    c0: Ints
    r0: Ints
    child: int  # child side in finest cells
    shape: tuple[int, int]  # children per block (cols, rows)
    pair_block: Ints
    pair_seg: Ints


#: a small layer's crossed cells keep splitting, past ``leaf_segments``, while the tree has
#: fewer nodes than this (4 MB): a town's few long edges would otherwise leave large crossed
#: leaves that most points fall in; a city's tree is past it before it starts
REFINE_NODES = 1 << 16


def build_tree(
    frame: CellFrame,
    seg: Floats,
    npoly: int,
    exact: Exact,
    leaf_segments: int,
    refine_nodes: int = REFINE_NODES,
) -> Tree:
    """Split the top grid and every crossed cell until leaves are free, sparse or finest
    (small layers: until :data:`REFINE_NODES` allows no more)."""
    level = _Level(
        np.zeros(1, np.int64),
        np.zeros(1, np.int64),
        frame.scale,
        (frame.cols, frame.rows),
        np.zeros(len(seg), np.int64),
        np.arange(len(seg), dtype=np.int64),
    )
    leaves = Leaves()
    tables: list[NDArray[np.int32]] = []
    next_node = 0
    while True:
        spare = refine_nodes - next_node
        entries, level_next = _split(
            frame, seg, level, npoly, exact, (leaf_segments, spare), leaves
        )
        entries[entries >= 0] += next_node
        tables.append(entries)
        if level_next is None:
            break
        next_node += len(level_next.c0)
        level = level_next
    top = tables[0].reshape(frame.rows, frame.cols)
    nodes = np.concatenate(tables[1:]) if len(tables) > 1 else np.zeros(0, np.int32)
    cat = np.concatenate
    empty = [np.zeros(0, np.int64)]
    return Tree(
        top,
        nodes.reshape(-1, SIDE * SIDE),
        cat(leaves.c0 + empty),
        cat(leaves.r0 + empty),
        cat(leaves.size + empty),
        cat(leaves.label + empty),
        cat(leaves.pair_leaf + empty),
        cat(leaves.pair_seg + empty),
    )


def _split(
    frame: CellFrame,
    seg: Floats,
    level: _Level,
    npoly: int,
    exact: Exact,
    stop: tuple[int, int],
    leaves: Leaves,
) -> tuple[NDArray[np.int32], _Level | None]:
    """Entries of one level's children; the blocks of the next level (None when done).

    Entries: a node id (>= 0, numbered from 0 at this level), or -1 - v with
    v = label + 1 for a free child (0: outside) and v = npoly + 1 + leaf for a
    crossed leaf.
    """
    cols, rows = level.shape
    per = cols * rows
    key, pair_seg = _children(frame, seg, level)
    order = np.argsort(key, kind="stable")  # one sort gives the crossed children and the pairs'
    key, pair_seg = key[order], pair_seg[order]
    opens = np.r_[True, key[1:] != key[:-1]] if key.size else np.zeros(0, bool)
    crossed = key[opens]
    nseg = np.diff(np.r_[np.flatnonzero(opens), key.size])
    pair_child = np.cumsum(opens) - 1
    entries = np.zeros(len(level.c0) * per, dtype=np.int64)
    free = np.ones(entries.size, dtype=bool)
    free[crossed] = False
    labels, alone = _free_labels(frame, level, free, exact)
    entries[free] = -1 - (labels + 1)
    known = np.full(entries.size, UNKNOWN, np.int64)
    known[free] = np.where(alone, labels, UNKNOWN)
    block, cell = crossed // per, crossed % per
    c0 = level.c0[block] + (cell % cols) * level.child
    r0 = level.r0[block] + (cell // cols) * level.child
    leaf_segments, spare = stop  # split past leaf_segments while the node budget allows
    splits = (nseg > leaf_segments) & (level.child > 1)
    room = spare - int(splits.sum())
    if level.child > 1 and room > 0:
        extra = np.flatnonzero(~splits)  # sparse crossed cells, the fewest segments first
        if extra.size > room:
            extra = extra[np.argsort(nseg[extra], kind="stable")[:room]]
        splits[extra] = True
    node = np.flatnonzero(splits)
    entries[crossed[node]] = np.arange(node.size)
    leaf = np.flatnonzero(~splits)
    leaf_id = leaves.count + np.arange(leaf.size)
    entries[crossed[leaf]] = -1 - (npoly + 1 + leaf_id)
    ref_dc, ref_dr, ref_label = _free_neighbour(known, crossed[leaf], cols, rows)
    leaves.c0.append(c0[leaf] + ref_dc * level.child)
    leaves.r0.append(r0[leaf] + ref_dr * level.child)
    leaves.size.append(np.full(leaf.size, level.child, np.int64))
    leaves.label.append(ref_label)
    slot = np.full(crossed.size, -1, np.int64)
    slot[leaf] = leaf_id
    in_leaf = slot[pair_child] >= 0
    leaves.pair_leaf.append(slot[pair_child[in_leaf]])
    leaves.pair_seg.append(pair_seg[in_leaf])
    leaves.count += leaf.size
    if node.size == 0:
        return entries.astype(np.int32), None
    slot[:] = -1
    slot[node] = np.arange(node.size)
    in_node = slot[pair_child] >= 0
    return entries.astype(np.int32), _Level(
        c0[node],
        r0[node],
        level.child // SIDE,
        (SIDE, SIDE),
        slot[pair_child[in_node]],
        pair_seg[in_node],
    )


def _children(frame: CellFrame, seg: Floats, level: _Level) -> tuple[Ints, Ints]:
    """(block * cells per block + child, segment) for every child each block segment touches."""
    cols, rows = level.shape
    b = level.pair_block
    ox = (frame.x0 + level.c0[b] * frame.dx).astype(np.float64)
    oy = (frame.y0 + level.r0[b] * frame.dy).astype(np.float64)
    cell = (level.child * frame.dx, level.child * frame.dy)
    row, child = supercover(seg[level.pair_seg], ox, oy, cell, (cols, rows))
    return b[row] * (cols * rows) + child, level.pair_seg[row]


def _free_neighbour(known: Ints, flat: Ints, cols: int, rows: int) -> tuple[Ints, Ints, Ints]:
    """For children ``flat`` (block * cols * rows + cell): the offset (columns, rows) of a
    side neighbour in the same block with a known label, and that label (0, 0, UNKNOWN
    when none has one)."""
    col, row = (flat % (cols * rows)) % cols, (flat % (cols * rows)) // cols
    dc = np.zeros(flat.size, np.int64)
    dr = np.zeros(flat.size, np.int64)
    label = np.full(flat.size, UNKNOWN, np.int64)
    for ddc, ddr in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        inside = (col + ddc >= 0) & (col + ddc < cols) & (row + ddr >= 0) & (row + ddr < rows)
        there = np.where(inside, known[np.where(inside, flat + ddc + ddr * cols, 0)], UNKNOWN)
        take = (label == UNKNOWN) & (there != UNKNOWN)
        dc[take], dr[take], label[take] = ddc, ddr, there[take]
    return dc, dr, label


def _free_labels(
    frame: CellFrame, level: _Level, free: NDArray[np.bool_], exact: Exact
) -> tuple[Ints, NDArray[np.bool_]]:
    """Label of every free child, one exact test per group of free children sharing sides,
    and whether at most one polygon holds it (so the label is all there is to know)."""
    from scipy import ndimage  # here: a server mapping its built index never needs it (0.3 s)

    cols, rows = level.shape
    grid = free.reshape(len(level.c0), rows, cols)
    groups, _ = ndimage.label(grid, structure=_FREE_LINKS)
    flat = groups.ravel()[free]
    ids, rep = np.unique(flat, return_index=True)
    where = np.flatnonzero(free)[rep]
    per = cols * rows
    block, cell = where // per, where % per
    cx = level.c0[block] + ((cell % cols) + 0.5) * level.child
    cy = level.r0[block] + ((cell // cols) + 0.5) * level.child
    labels, holders = exact(frame.x0 + cx * frame.dx, frame.y0 + cy * frame.dy)
    group = np.searchsorted(ids, flat)
    return labels[group], holders[group] <= 1
