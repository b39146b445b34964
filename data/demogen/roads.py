"""Roads: the main roads a town is drawn with, the local streets inside its superblocks,
their names, and the noded network of street segments."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import shapely
from shapely import ops
from shapely.geometry import LineString, MultiLineString, Polygon

from .geometry import (
    OVERSHOOT_M,
    chaikin,
    extend,
    line_parts,
    polygonize_faces,
    principal_axes,
    rotate,
    trim_between,
)

DANGLE_PRUNE_M = 2.0

#: (name, pinyin stem, class, control points in local metres, smooth?)
MajorRoad = tuple[str, str, str, list[tuple[float, float]], bool]

# the Chinese stem (used for committee, unit and team names) and the English road name
MAJOR_STEM = {"共和新路": "共和", "广中西路": "广中"}
MAJOR_EN = {"共和新路": "Gonghe Xin Road", "广中西路": "Guangzhong West Road"}


def make_major_roads(
    boundary: Polygon, table: list[MajorRoad], partial: dict[str, tuple[str, str | None]]
) -> list[dict]:
    """The main roads as lines; a partial road runs only between two others (or to the edge)."""
    roads = []
    for name, stem, cls, pts, smooth in table:
        p = np.asarray(pts, dtype=float)
        if smooth:
            p = chaikin(p, 3)
        roads.append({"name": name, "stem": stem, "class": cls, "geom": LineString(p)})
    by_name = {r["name"]: r for r in roads}
    far = shapely.buffer(boundary.exterior, 200).union(boundary).exterior
    for name, (a, b) in partial.items():
        ga = by_name[a]["geom"]
        gb = by_name[b]["geom"] if b else far
        by_name[name]["geom"] = trim_between(by_name[name]["geom"], ga, gb)
    return roads


NAME_A = list(
    "永宝长和安兴景华新德康泰民福瑞春平盛嘉丰汾灵岭柳运泗延昌凤通乐寿祥隆源顺明庆宁静馨沁晋汇锦秀荣万"
)
NAME_B = list("丰乐宁平安泉兴华昌源林和盛祥隆春顺福泰德寿庆明桥园苑川城水")
PINYIN = dict(
    zip(
        "永宝长和安兴景华新德康泰民福瑞春平盛嘉丰汾灵岭柳运泗延昌凤通乐寿祥隆源顺明庆宁静馨沁晋汇锦秀荣万泉林桥园苑川城水",
        "yong bao chang he an xing jing hua xin de kang tai min fu rui chun ping sheng jia feng fen ling ling liu "
        "yun si yan chang feng tong le shou xiang long yuan shun ming qing ning jing xin qin jin hui jin xiu rong "
        "wan quan lin qiao yuan yuan chuan cheng shui".split(),
        strict=True,
    )
)


class NamePool:
    def __init__(self, taken: set[str], rng: np.random.Generator) -> None:
        combos = [a + b for a in NAME_A for b in NAME_B if a != b]
        order = rng.permutation(len(combos))
        self.stems = [
            combos[i] for i in order if combos[i] not in taken and combos[i][::-1] not in taken
        ]
        self.i = 0

    def take(self) -> tuple[str, str]:
        stem = self.stems[self.i]
        self.i += 1
        return stem + "路", "".join(PINYIN[c] for c in stem).capitalize()


def local_streets(
    superblocks: list[Polygon], pool: NamePool, rng: np.random.Generator
) -> list[dict]:
    """Local streets in every superblock: parallel cuts, staggered cross streets (T-junctions),
    some curved, some dead ends, now and then a diagonal lane."""
    out: list[dict] = []

    def add(geom: LineString) -> None:
        name, stem = pool.take()
        out.append({"name": name, "stem": stem, "class": "local", "geom": geom})

    for sb in superblocks:
        if sb.area < 40_000:
            continue
        u, v, lu, lv, c = principal_axes(sb)
        if rng.random() < 0.3:  # a neighbourhood laid out at an angle to the main roads
            u, v = rotate(u, rng.uniform(12, 30) * rng.choice([-1, 1])), None
            v = rotate(u, 90)
            proj_u, proj_v = (
                (np.asarray(sb.exterior.coords) - c) @ u,
                (np.asarray(sb.exterior.coords) - c) @ v,
            )
            lu, lv = proj_u.max() - proj_u.min(), proj_v.max() - proj_v.min()
            c = c + u * (proj_u.max() + proj_u.min()) / 2 + v * (proj_v.max() + proj_v.min()) / 2
        spacing = rng.uniform(150, 210)
        n = max(0, int(round(lu / spacing)) - 1)
        cuts: list[LineString] = []
        for k in range(n):
            pos = (k + 1) / (n + 1) * lu - lu / 2 + rng.normal(0, 12)
            d = rotate(v, rng.normal(0, 5))
            mid = c + u * pos
            if rng.random() < 0.22:  # a curved street
                bend = rng.choice([-1, 1]) * rng.uniform(0.05, 0.11) * lv
                pts = np.array(
                    [
                        mid - d * lv,
                        mid - d * lv / 3 + u * bend,
                        mid + d * lv / 3 + u * bend,
                        mid + d * lv,
                    ]
                )
                long = LineString(chaikin(pts, 3))
            else:
                long = LineString([mid - d * lv, mid + d * lv])
            parts = [p for p in line_parts(shapely.intersection(long, sb)) if p.length > 30]
            if not parts:
                continue
            part = max(parts, key=lambda p: p.length)
            if rng.random() < 0.08:
                continue  # a gap in the pattern: a big compound (大院) instead
            if rng.random() < 0.14 and part.length > 120:  # a dead end
                keep = rng.uniform(0.45, 0.75) * part.length
                if rng.random() < 0.5:
                    g = extend(ops.substring(part, 0, keep), OVERSHOOT_M, 0)
                else:
                    g = extend(ops.substring(part, part.length - keep, part.length), 0, OVERSHOOT_M)
                add(g)
                continue
            g = extend(part)
            cuts.append(g)
            add(g)
        # staggered cross streets in the strips between the cuts (T-junctions)
        strips = polygonize_faces([sb.exterior, *cuts], inside=sb) if cuts else [sb]
        for strip in strips:
            sc = np.asarray(strip.exterior.coords)
            along_v = (sc - c) @ v
            along_u = (sc - c) @ u
            span = along_v.max() - along_v.min()
            if span < 260 or rng.random() < 0.2:
                continue
            n_cross = 2 if span > 600 else 1
            for j in range(n_cross):
                pv = along_v.min() + span * ((j + 1) / (n_cross + 1) + rng.uniform(-0.12, 0.12))
                d = rotate(u, rng.normal(0, 5))
                mid = c + v * pv + u * along_u.mean()
                w = along_u.max() - along_u.min() + 50
                long = LineString([mid - d * w, mid + d * w])
                parts = [p for p in line_parts(shapely.intersection(long, strip)) if p.length > 40]
                if not parts:
                    continue
                part = max(parts, key=lambda p: p.length)
                if rng.random() < 0.12 and part.length > 150:
                    keep = rng.uniform(0.5, 0.8) * part.length
                    add(extend(ops.substring(part, 0, keep), OVERSHOOT_M, 0))
                else:
                    add(extend(part))
        # now and then a diagonal lane cutting a corner
        if sb.area > 150_000 and rng.random() < 0.25:
            ring = sb.exterior
            t0 = rng.uniform(0, ring.length)
            t1 = t0 + rng.uniform(0.12, 0.22) * ring.length
            a = np.asarray(ring.interpolate(t0 % ring.length).coords[0])
            b = np.asarray(ring.interpolate(t1 % ring.length).coords[0])
            long = LineString([a - (b - a), b + (b - a)])
            parts = [
                p
                for p in line_parts(shapely.intersection(long, sb))
                if p.length > 60 and p.interpolate(0.5, normalized=True).distance(ring) > 25
            ]
            if parts:
                add(extend(max(parts, key=lambda p: p.length)))
    return out


def node_network(roads: list[dict], boundary: Polygon) -> tuple[list[dict], list[LineString]]:
    """Street segments between intersections (inside the town) and the boundary's edges."""
    sources = [r["geom"] for r in roads] + [boundary.exterior]
    noded = line_parts(shapely.unary_union(sources))
    tree = shapely.STRtree(sources)
    mids = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    owner = np.full(len(noded), -2)
    pairs = tree.query(mids, predicate="dwithin", distance=1e-6)
    for i, j in zip(*pairs, strict=True):
        if owner[i] == -2 or j < owner[i] or j == len(roads):  # the boundary wins
            owner[i] = j if owner[i] != len(roads) else owner[i]
    owner[owner == len(roads)] = -1  # the boundary
    assert (owner != -2).all(), "an edge matched no source line"

    # merge consecutive edges of the same road through degree-2 nodes
    def key(p) -> tuple[float, float]:
        return (round(p[0], 6), round(p[1], 6))

    edges = [(int(owner[i]), noded[i]) for i in range(len(noded))]
    for _ in range(3):  # prune dangling overshoots, then again what they exposed
        deg: Counter = Counter()
        for _, g in edges:
            c = g.coords
            deg[key(c[0])] += 1
            deg[key(c[-1])] += 1
        keep = []
        for o, g in edges:
            c = g.coords
            dangling = deg[key(c[0])] == 1 or deg[key(c[-1])] == 1
            if o >= 0 and dangling and g.length < DANGLE_PRUNE_M:
                continue
            keep.append((o, g))
        edges = keep
    deg = Counter()
    for _, g in edges:
        deg[key(g.coords[0])] += 1
        deg[key(g.coords[-1])] += 1
    by_road: dict[int, list[LineString]] = defaultdict(list)
    boundary_edges = []
    for o, g in edges:
        (boundary_edges if o < 0 else by_road[o]).append(g)
    segments = []
    for o in sorted(by_road):
        merged = shapely.line_merge(MultiLineString(by_road[o]))
        parts = line_parts(merged)
        # line_merge also joins through intersections: cut again at real nodes
        for part in parts:
            coords = list(part.coords)
            start = 0
            for i in range(1, len(coords)):
                if i == len(coords) - 1 or deg.get(key(coords[i]), 0) not in (0, 2):
                    seg = LineString(coords[start : i + 1])
                    start = i
                    if boundary.contains(seg.interpolate(0.5, normalized=True)):
                        segments.append({"road": o, "geom": seg})
    return segments, boundary_edges


def stem_of(name: str) -> str:
    """共和新路 → 共和, 汶水路 → 汶水, 场中路 → 场中: the part a committee or team is named after."""
    if name in MAJOR_STEM:
        return MAJOR_STEM[name]
    return name[:-1] if name.endswith("路") else name


def road_en(name: str, roads: list[dict]) -> str:
    if name in MAJOR_EN:
        return MAJOR_EN[name]
    return f"{pinyin_of_stem(stem_of(name), roads)} Road"


def pinyin_of_stem(stem: str, roads: list[dict]) -> str:
    for r in roads:
        if stem_of(r["name"]) == stem:
            return r["stem"]
    return "".join(PINYIN.get(c, "") for c in stem).capitalize()
