"""The layers of one town: codes and names for every level, teams, the grid of every
street segment, points of interest; all checked to tile before anything is written."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import numpy as np
import shapely

from .geometry import check_coverage, face_adjacency, reading_order
from .roads import pinyin_of_stem, road_en, stem_of
from .territory import TownSpec


def build_layers(t: dict, g: dict, spec: TownSpec) -> dict:
    """Codes, names, teams, street segments' grids and POIs of one grouped town, checked."""
    roads, cells, cell_block = t["roads"], t["cells"], t["cell_block"]
    block_comm = {b: ci for ci, c in enumerate(g["committees"]) for b in c["blocks"]}
    cell_comm = [block_comm[int(b)] for b in cell_block]
    comm_grid = [c["grid"] for c in g["committees"]]
    grid_unit = [gr["unit"] for gr in g["grids"]]

    comm_polys = [
        shapely.coverage_union_all([cells[i] for i, c in enumerate(cell_comm) if c == ci])
        for ci in range(len(g["committees"]))
    ]
    grid_polys = [
        shapely.coverage_union_all([comm_polys[ci] for ci, gi in enumerate(comm_grid) if gi == gj])
        for gj in range(len(g["grids"]))
    ]
    unit_polys = [
        shapely.coverage_union_all([grid_polys[gi] for gi, u in enumerate(grid_unit) if u == uj])
        for uj in range(spec.n_units)
    ]
    town = shapely.coverage_union_all(unit_polys)
    assert shapely.symmetric_difference(town, t["boundary"]).area < 1e-6

    # ---- names of committees: after the road that runs along or through them most
    segs = t["segments"]
    seg_geoms = np.array([s["geom"] for s in segs], dtype=object)
    seg_tree = shapely.STRtree(seg_geoms)
    claims = []
    for cp in comm_polys:
        zone = cp.buffer(0.05)
        score: Counter = Counter()
        for si in seg_tree.query(zone, predicate="intersects"):
            r = roads[segs[si]["road"]]
            w = {"arterial": 1.6, "secondary": 1.3, "local": 1.0}[r["class"]]
            score[stem_of(r["name"])] += w * shapely.intersection(segs[si]["geom"], zone).length
        claims.append(score)
    fallback = spec.fallback
    comm_names: list[str | None] = [None] * len(comm_polys)
    used: set[str] = set()
    for ci in sorted(range(len(claims)), key=lambda c: (-max(claims[c].values(), default=0), c)):
        for stem, _ in sorted(claims[ci].items(), key=lambda kv: (-kv[1], kv[0])):
            if stem not in used:
                comm_names[ci] = stem
                break
        else:
            comm_names[ci] = next(f for f in fallback if f not in used)
        used.add(comm_names[ci])

    # ---- codes
    comm_code = [f"{spec.code}{ci + 1:03d}" for ci in range(len(comm_polys))]
    grid_code = [f"{spec.code}G{gi + 1:02d}" for gi in range(len(grid_polys))]
    unit_code = [f"{spec.code}U{u + 1}" for u in range(spec.n_units)]

    # ---- teams: two street workstations per unit, each 2-3 contiguous grids
    g_adj = face_adjacency(grid_polys)
    g_xy = [np.asarray(p.centroid.coords[0]) for p in grid_polys]
    team_grids: list[list[int]] = []
    for u in range(spec.n_units):
        gs = [gi for gi, uu in enumerate(grid_unit) if uu == u]
        assert 3 <= len(gs) <= 6, f"unit {u} has {len(gs)} grids"
        size = (len(gs) + 1) // 2
        best = None
        for first in combinations(gs, size):
            second = [x for x in gs if x not in first]
            parts = [list(first), second]

            def connected(ps: list[int]) -> bool:
                seen, todo = {ps[0]}, [ps[0]]
                while todo:
                    n = todo.pop()
                    for m in g_adj[n]:
                        if m in ps and m not in seen:
                            seen.add(m)
                            todo.append(m)
                return len(seen) == len(ps)

            if not all(connected(p) for p in parts):
                continue
            spread = sum(
                np.hypot(*(g_xy[a] - g_xy[b])) for p in parts for a, b in combinations(p, 2)
            )
            if best is None or spread < best[0]:
                best = (spread, parts)
        assert best is not None
        team_grids.extend(sorted(best[1], key=lambda p: min(p)))
    grid_team = {gi: ti for ti, gs in enumerate(team_grids) for gi in gs}
    team_code = [f"WS{ti + spec.first_team:02d}" for ti in range(len(team_grids))]

    # team and unit names after their largest committee, unique
    def largest_comm(grids: list[int], taken: set[str]) -> str:
        cands = sorted(
            (ci for ci, gi in enumerate(comm_grid) if gi in grids),
            key=lambda c: -comm_polys[c].area,
        )
        return next(
            (comm_names[c] for c in cands if comm_names[c] not in taken), comm_names[cands[0]]
        )

    taken_t: set[str] = set()
    team_names = []
    for gs in team_grids:
        team_names.append(largest_comm(gs, taken_t))
        taken_t.add(team_names[-1])
    taken_u: set[str] = set()
    unit_names = []
    for u in range(spec.n_units):
        major_len: Counter = Counter()
        for si in seg_tree.query(unit_polys[u].buffer(-1.0), predicate="intersects"):
            r = roads[segs[si]["road"]]
            if r["class"] != "local":
                major_len[stem_of(r["name"])] += segs[si]["geom"].intersection(unit_polys[u]).length
        stem = next(
            s
            for s, _ in sorted(major_len.items(), key=lambda kv: (-kv[1], kv[0]))
            if s not in taken_u
        )
        taken_u.add(stem)
        unit_names.append(stem)

    # ---- cells: committee code + 4-digit sequence, north-west first
    cell_code = [""] * len(cells)
    cell_name = [""] * len(cells)
    for ci in range(len(comm_polys)):
        members = [i for i, c in enumerate(cell_comm) if c == ci]
        pts = [np.asarray(cells[i].representative_point().coords[0]) for i in members]
        for seq, k in enumerate(reading_order(pts, band=150), start=1):
            i = members[k]
            cell_code[i] = f"{comm_code[ci]}{seq:04d}"
            cell_name[i] = f"{comm_names[ci]}居委第{seq:04d}号单元网格"
    order = sorted(range(len(cells)), key=lambda i: cell_code[i])

    # ---- checks, in the working CRS
    check_coverage([cells[i] for i in order], comm_polys, [cell_comm[i] for i in order], "cells")
    check_coverage(comm_polys, grid_polys, comm_grid, "committees")
    check_coverage(grid_polys, unit_polys, grid_unit, "grids")
    check_coverage(unit_polys, [town], [0] * spec.n_units, "units")

    # ---- street segments: the grid they lie in most (on a grid edge: the lowest code)
    grid_tree = shapely.STRtree(grid_polys)

    def grid_at(pts: np.ndarray) -> np.ndarray:
        out = np.full(len(pts), -1)
        pi, gi = grid_tree.query(shapely.points(pts), predicate="within")
        out[pi] = gi
        return out

    seg_grid = []
    for s in segs:
        ln = s["geom"]
        votes: Counter = Counter()
        for f in (0.2, 0.5, 0.8):
            d = f * ln.length
            a = np.asarray(ln.interpolate(max(d - 0.5, 0)).coords[0])
            b = np.asarray(ln.interpolate(min(d + 0.5, ln.length)).coords[0])
            p = np.asarray(ln.interpolate(d).coords[0])
            tan = (b - a) / max(np.hypot(*(b - a)), 1e-9)
            nrm = np.array([-tan[1], tan[0]])
            sides = [x for x in grid_at(np.array([p + nrm, p - nrm])) if x >= 0]
            if sides:
                votes[min(sides)] += 1
        seg_grid.append(min(votes, key=lambda k: (-votes[k], k)))
    # codes: arterials, then secondary, then local roads; along each road
    cls_rank = {"arterial": 0, "secondary": 1, "local": 2}
    seg_order = sorted(
        range(len(segs)),
        key=lambda i: (
            cls_rank[roads[segs[i]["road"]]["class"]],
            segs[i]["road"],
            roads[segs[i]["road"]]["geom"].project(
                segs[i]["geom"].interpolate(0.5, normalized=True)
            ),
        ),
    )

    # ---- points of interest: markets (菜市场), metro stations, construction sites
    by_name = {r["name"]: r["geom"] for r in roads}
    pois = []
    trunk = by_name[spec.metro[0]]
    for cross in spec.metro[1]:
        x = shapely.intersection(trunk, by_name[cross])
        d = trunk.project(x) + 30.0
        p = np.asarray(trunk.interpolate(d).coords[0]) + np.array([18.0, 0.0])
        pois.append(
            {
                "name": f"{cross}站",
                "name_en": f"{road_en(cross, roads)} Station",
                "kind": "metro_station",
                "xy": p,
            }
        )
    cxy = np.array([np.asarray(c.centroid.coords[0]) for c in comm_polys])
    market_comms: list[int] = []
    for target in spec.markets:
        d = np.hypot(*(cxy - np.array(target)).T)
        market_comms.append(next(int(c) for c in np.argsort(d) if int(c) not in market_comms))
    for ci in market_comms:
        members = [i for i, c in enumerate(cell_comm) if c == ci]
        cc = comm_polys[ci].centroid
        best = min(members, key=lambda i: cells[i].centroid.distance(cc))
        p = np.asarray(cells[best].representative_point().coords[0])
        pois.append(
            {
                "name": f"{comm_names[ci]}菜市场",
                "name_en": f"{pinyin_of_stem(comm_names[ci], roads)} Market",
                "kind": "market",
                "xy": p,
            }
        )
    for ci, label in ((int(np.argmax(cxy[:, 0])), "东块"), (int(np.argmin(cxy[:, 1])), "南块")):
        members = [i for i, c in enumerate(cell_comm) if c == ci]
        best = max(members, key=lambda i: cells[i].area)
        p = np.asarray(cells[best].representative_point().coords[0])
        pois.append(
            {
                "name": f"{comm_names[ci]}{label}地块建设工地",
                "name_en": f"{pinyin_of_stem(comm_names[ci], roads)} Plot Construction Site",
                "kind": "construction_site",
                "xy": p,
            }
        )
    poi_grid = grid_at(np.array([p["xy"] for p in pois]))
    assert (poi_grid >= 0).all()

    return {
        "town": town,
        "unit_polys": unit_polys,
        "unit_code": unit_code,
        "unit_names": unit_names,
        "grid_polys": grid_polys,
        "grid_code": grid_code,
        "grid_unit": grid_unit,
        "grid_team": grid_team,
        "comm_polys": comm_polys,
        "comm_code": comm_code,
        "comm_names": comm_names,
        "comm_grid": comm_grid,
        "cells": cells,
        "cell_code": cell_code,
        "cell_name": cell_name,
        "cell_comm": cell_comm,
        "cell_order": order,
        "team_grids": team_grids,
        "team_code": team_code,
        "team_names": team_names,
        "seg_grid": seg_grid,
        "seg_order": seg_order,
        "pois": pois,
        "poi_grid": poi_grid,
        "grid_at": grid_at,
    }
