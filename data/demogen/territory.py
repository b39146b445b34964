"""A town's territory: boundary and roads → superblocks, blocks and cells, then grouped
bottom-up into units, grids and committees so that every level tiles its parent."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from .geometry import (
    extend,
    face_adjacency,
    grow_regions,
    line_parts,
    merge_crumbs,
    merge_slivers,
    polygonize_faces,
    principal_axes,
    reading_order,
    rotate,
)
from .roads import NamePool, local_streets, node_network, stem_of

CELL_SPLIT_ABOVE_M2 = 20_000.0  # blocks larger than this are split into cells


@dataclass
class TownSpec:
    """What makes one town: its code and names, outline, main roads and level counts."""

    code: str
    name: str
    name_en: str
    boundary: Polygon
    major_roads: list[dict]
    n_units: int = 3
    n_grids: int = 14
    n_committees: int = 22
    #: road-name stems other towns of the district already use
    taken: set[str] = field(default_factory=set)
    #: the first team's number (WS01 for the first town of a district)
    first_team: int = 1
    #: metro stations: on this road, where these cross it
    metro: tuple[str, tuple[str, ...]] = ("共和新路", ("汶水路", "广中西路"))
    #: markets: in the committees nearest these points (local metres)
    markets: tuple[tuple[float, float], ...] = ((-900, 700), (400, 900), (-300, -400), (1300, -300))
    #: committee names when no road is left to name one after
    fallback: tuple[str, ...] = (
        "三泉",
        "馨佳",
        "景凤",
        "宝华",
        "通河",
        "阳城",
        "康乐",
        "岭南",
        "华灵",
        "永和",
    )


def split_lines(
    poly: Polygon, rng: np.random.Generator, depth: int = 0, avoid=None
) -> list[LineString]:
    """Internal lanes that cut a large block into cells of about 10,000-20,000 m².

    A piece whose lane would reach ``avoid`` (a boundary shared with another town, whose
    vertices must not change) is left whole."""
    if poly.area <= CELL_SPLIT_ABOVE_M2 or depth > 6:
        return []
    u, v, lu, lv, c = principal_axes(poly)
    n = max(2, int(round(poly.area / 14_000)))
    frac = (1 if n % 2 else n // 2) / n if n > 2 else 0.5
    pos = (frac + rng.normal(0, 0.04)) * lu - lu / 2
    d = rotate(v, rng.normal(0, 4))
    mid = c + u * pos
    long = LineString([mid - d * (lv + 50), mid + d * (lv + 50)])
    parts = [extend(p) for p in line_parts(shapely.intersection(long, poly)) if p.length > 1.0]
    if not parts or (avoid is not None and any(p.distance(avoid) < 1.0 for p in parts)):
        return []
    pieces = polygonize_faces(
        [poly.exterior, *[i.exterior for i in poly.interiors], *parts], inside=poly
    )
    out = list(parts)
    for piece in pieces:
        out.extend(split_lines(piece, rng, depth + 1, avoid))
    return out


# --------------------------------------------------------------------------
# 5. grouping by region growing
# --------------------------------------------------------------------------


def build_territory(spec: TownSpec, rng: np.random.Generator, shared=None) -> dict:
    """Streets, superblocks, blocks and cells of one town, every level tiling the boundary.

    ``shared`` is the part of the boundary shared with towns built before: local streets
    and lanes keep off it, so its vertices stay exactly the neighbour's."""
    boundary = spec.boundary
    major = spec.major_roads
    major_segments, major_bedges = node_network(major, boundary)
    superblocks = polygonize_faces(
        [s["geom"] for s in major_segments] + major_bedges, inside=boundary
    )
    superblocks = merge_slivers(superblocks)
    taken = {stem_of(r["name"]) for r in major} | spec.taken
    local = local_streets(superblocks, NamePool(taken, rng), rng)
    if shared is not None:
        local = keep_off(local, shared)
    roads = major + local
    segments, bedges = node_network(roads, boundary)
    faces = polygonize_faces([s["geom"] for s in segments] + bedges, inside=boundary)
    assert abs(sum(f.area for f in faces) - boundary.area) < 1e-3, "faces do not tile the town"
    blocks = merge_slivers(faces)

    # cells: one global polygonize of all block edges plus the internal lanes
    lanes = [ln for b in blocks for ln in split_lines(b, rng, avoid=shared)]
    cell_polys = polygonize_faces(
        [b.exterior for b in blocks] + [i for b in blocks for i in b.interiors] + lanes,
        inside=boundary,
    )
    block_tree = shapely.STRtree(blocks)
    rp = shapely.point_on_surface(cell_polys)
    ci, bi = block_tree.query(rp, predicate="within")
    cell_block = np.full(len(cell_polys), -1)
    cell_block[ci] = bi
    assert (cell_block >= 0).all()
    # crossing lane overshoots can leave crumbs: merge them into a neighbour of the same block
    cell_polys, cell_block = merge_crumbs(cell_polys, cell_block)
    # blocks rebuilt from their cells so every vertex is shared with the neighbours
    cells_of_block: dict[int, list[int]] = defaultdict(list)
    for c, b in enumerate(cell_block):
        cells_of_block[int(b)].append(c)
    blocks = [
        shapely.coverage_union_all([cell_polys[c] for c in cells_of_block[b]])
        for b in range(len(blocks))
    ]

    # block → superblock
    sb_tree = shapely.STRtree(superblocks)
    bi2, si = sb_tree.query(shapely.point_on_surface(blocks), predicate="within")
    block_sb = dict(zip(bi2.tolist(), si.tolist(), strict=True))
    assert len(block_sb) == len(blocks)

    return {
        "boundary": boundary,
        "roads": roads,
        "segments": segments,
        "superblocks": superblocks,
        "blocks": blocks,
        "block_sb": block_sb,
        "cells": cell_polys,
        "cell_block": cell_block,
    }


def group_territory(t: dict, spec: TownSpec) -> dict:
    """Superblocks into units, blocks into grids and committees (contiguous, by area)."""
    blocks, superblocks, block_sb = t["blocks"], t["superblocks"], t["block_sb"]
    b_area = {i: b.area for i, b in enumerate(blocks)}
    b_xy = {i: np.asarray(b.centroid.coords[0]) for i, b in enumerate(blocks)}
    b_adj = face_adjacency(blocks)
    # units: region growing over superblocks, so unit boundaries run along
    # arterials and secondary roads
    s_adj = face_adjacency(superblocks)
    s_area = {i: sb.area for i, sb in enumerate(superblocks)}
    s_xy = {i: np.asarray(sb.centroid.coords[0]) for i, sb in enumerate(superblocks)}
    unit_sbs = grow_regions(
        list(range(len(superblocks))), s_adj, s_area, s_xy, spec.n_units, tolerance=0.12
    )
    unit_blocks = [[b for b in range(len(blocks)) if block_sb[b] in set(m)] for m in unit_sbs]
    unit_xy = [
        np.average([b_xy[b] for b in m], axis=0, weights=[b_area[b] for b in m])
        for m in unit_blocks
    ]
    unit_blocks = [unit_blocks[i] for i in reading_order(unit_xy, band=1200)]
    units_area = [sum(b_area[b] for b in m) for m in unit_blocks]
    # 14 grids shared out by area (largest remainder)
    quota = np.array(units_area) / sum(units_area) * spec.n_grids
    n_grids = np.floor(quota).astype(int)
    for i in np.argsort(-(quota - n_grids))[: spec.n_grids - n_grids.sum()]:
        n_grids[i] += 1
    grids: list[dict] = []
    for u, ids in enumerate(unit_blocks):
        regions = grow_regions(
            ids,
            b_adj,
            b_area,
            b_xy,
            int(n_grids[u]),
            group_of=block_sb,
            penalty=1.5,
            tolerance=0.15,
        )
        rxy = [
            np.average([b_xy[b] for b in m], axis=0, weights=[b_area[b] for b in m])
            for m in regions
        ]
        for i in reading_order(rxy):
            grids.append({"unit": u, "blocks": regions[i]})
    # committees: the larger grids hold two residents' committees
    g_area = [sum(b_area[b] for b in g["blocks"]) for g in grids]
    two = set(
        np.argsort(-np.array(g_area), kind="stable")[: spec.n_committees - spec.n_grids].tolist()
    )
    committees: list[dict] = []
    for gi, g in enumerate(grids):
        k = 2 if gi in two else 1
        regions = grow_regions(
            g["blocks"], b_adj, b_area, b_xy, k, group_of=block_sb, penalty=0.5, tolerance=0.2
        )
        rxy = [
            np.average([b_xy[b] for b in m], axis=0, weights=[b_area[b] for b in m])
            for m in regions
        ]
        for i in reading_order(rxy, band=250):
            committees.append({"grid": gi, "blocks": regions[i]})
    return {"units": unit_blocks, "grids": grids, "committees": committees}


# --------------------------------------------------------------------------
# organisation: working groups, departments, responsibility list, calendar
# --------------------------------------------------------------------------


def keep_off(streets: list[dict], shared, gap: float = 8.0) -> list[dict]:
    """Local streets that would meet a shared boundary end ``gap`` metres short of it (a
    dead end), so the neighbour's edge keeps its vertices; stubs under 30 m are dropped."""
    out = []
    for s in streets:
        if s["geom"].distance(shared) >= 3.0:
            out.append(s)
            continue
        parts = [p for p in line_parts(s["geom"].difference(shared.buffer(gap))) if p.length > 30]
        if parts:
            out.append({**s, "geom": max(parts, key=lambda p: p.length)})
    return out
