"""Generate the demo town 示范镇 (Shifan) used by gridsvc's tests, docs and demos.

Run from the repository root:

    .venv/bin/python data/generate_demo.py

Everything is written to ``data/demo/`` (see ``data/README.md``). The script
is deterministic: a fixed numpy seed, no clock, no network. Geometry is
built in the CGCS2000 3-degree Gauss-Krüger zone of 120°E (EPSG:4549) and
written in CGCS2000 geographic coordinates (EPSG:4490).

How the territory is built, bottom-up, so that every level tiles its parent:

1. a jurisdiction boundary (irregular; the north edge follows a river);
2. arterial and secondary roads (long, gently bent, one diagonal, one curved),
   polygonized with the boundary into "superblocks";
3. local streets inside every superblock (jittered, staggered T-junctions,
   some curved, some dead ends);
4. the whole street network noded and polygonized into blocks (街坊); slivers
   are merged into a neighbour; large blocks are split by internal lanes into
   unit cells (单元网格) of roughly 10,000-20,000 m²;
5. region growing over block adjacency: superblocks into 3 basic management
   units, blocks into 14 responsibility grids, grids into 1-2 residents'
   committees; each level is the coverage union of the level below;
6. teams, departments, working groups, the responsibility list, the holiday
   calendar and a year of historical reports.
"""

from __future__ import annotations

import math
import sys
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely import ops
from shapely.geometry import LineString, MultiLineString, Point, Polygon

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gridsvc.core.crs import gauss_kruger_epsg, wgs84_to_gcj02  # noqa: E402

OUT = ROOT / "data" / "demo"
SEED = 20251101
CENTER_LON, CENTER_LAT = 121.45, 31.33
TOWN_AREA_M2 = 8.0e6
STORAGE_EPSG = 4490
WORK_EPSG = gauss_kruger_epsg(CENTER_LON)  # 4549

COUNTY_CODE = "310106"
TOWN_CODE = "310106113"
N_UNITS = 3
N_GRIDS = 14
N_COMMITTEES = 22
N_TEAMS = 6

CELL_SPLIT_ABOVE_M2 = 20_000.0  # blocks larger than this are split into cells
SLIVER_M2 = 1_500.0  # faces smaller than this are merged into a neighbour
OVERSHOOT_M = 0.5  # streets overshoot the street they end on, then get pruned
DANGLE_PRUNE_M = 2.0

TO_WORK = pyproj.Transformer.from_crs(STORAGE_EPSG, WORK_EPSG, always_xy=True)
TO_STORAGE = pyproj.Transformer.from_crs(WORK_EPSG, STORAGE_EPSG, always_xy=True)
X0, Y0 = TO_WORK.transform(CENTER_LON, CENTER_LAT)

rng = np.random.default_rng(SEED)


# --------------------------------------------------------------------------
# small geometry helpers (all in local metres: x east, y north, origin X0/Y0)
# --------------------------------------------------------------------------


def chaikin(pts: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Corner-cutting smoothing that keeps the end points."""
    for _ in range(rounds):
        q = 0.75 * pts[:-1] + 0.25 * pts[1:]
        r = 0.25 * pts[:-1] + 0.75 * pts[1:]
        mid = np.empty((2 * len(q), 2))
        mid[0::2], mid[1::2] = q, r
        pts = np.vstack([pts[:1], mid, pts[-1:]])
    return pts


def extend(line: LineString, start: float = OVERSHOOT_M, end: float = OVERSHOOT_M) -> LineString:
    """Lengthen a line along its end segments (so it crosses what it ends on)."""
    c = np.asarray(line.coords)
    if start:
        d = c[0] - c[1]
        c[0] = c[0] + d / np.hypot(*d) * start
    if end:
        d = c[-1] - c[-2]
        c[-1] = c[-1] + d / np.hypot(*d) * end
    return LineString(c)


def line_parts(geom) -> list[LineString]:
    if geom.is_empty:
        return []
    if geom.geom_type == "LineString":
        return [geom]
    if geom.geom_type in ("MultiLineString", "GeometryCollection"):
        out: list[LineString] = []
        for g in geom.geoms:
            out.extend(line_parts(g))
        return out
    return []


def trim_between(line: LineString, a, b) -> LineString:
    """The part of ``line`` between its first crossings with ``a`` and ``b``, overshooting both."""
    pa = shapely.intersection(line, a)
    pb = shapely.intersection(line, b)
    da = min(line.project(p) for p in getattr(pa, "geoms", [pa]))
    db = min(line.project(p) for p in getattr(pb, "geoms", [pb]))
    lo, hi = sorted((da, db))
    return extend(ops.substring(line, lo, hi))


def principal_axes(poly: Polygon) -> tuple[np.ndarray, np.ndarray, float, float, np.ndarray]:
    """Long axis u, short axis v, their lengths and the centre of the min rotated rectangle."""
    rect = np.asarray(poly.minimum_rotated_rectangle.exterior.coords)[:4]
    e1, e2 = rect[1] - rect[0], rect[2] - rect[1]
    l1, l2 = np.hypot(*e1), np.hypot(*e2)
    if l1 >= l2:
        u, lu, v, lv = e1 / l1, l1, e2 / l2, l2
    else:
        u, lu, v, lv = e2 / l2, l2, e1 / l1, l1
    return u, v, lu, lv, rect.mean(axis=0)


def rotate(vec: np.ndarray, deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array(
        [vec[0] * math.cos(a) - vec[1] * math.sin(a), vec[0] * math.sin(a) + vec[1] * math.cos(a)]
    )


def polygonize_faces(lines, inside: Polygon | None = None) -> list[Polygon]:
    noded = shapely.unary_union(lines)
    faces = list(shapely.get_parts(shapely.polygonize(line_parts(noded))))
    if inside is not None:
        faces = [f for f in faces if inside.contains(f.representative_point())]
    return faces


# --------------------------------------------------------------------------
# 1. jurisdiction boundary
# --------------------------------------------------------------------------


def make_boundary() -> Polygon:
    th = np.linspace(0.0, 2 * np.pi, 360, endpoint=False)
    r = (
        1.0
        + 0.055 * np.cos(2 * th + 1.1)
        + 0.045 * np.cos(3 * th + 0.4)
        + 0.03 * np.cos(5 * th + 2.0)
        + 0.018 * np.cos(7 * th + 0.3)
        # the north edge follows the meandering 走马塘 river
        + np.clip(np.sin(th), 0, None) ** 2
        * (0.012 * np.sin(19 * th) + 0.008 * np.sin(31 * th + 1.0))
    )
    pts = np.c_[1850 * r * np.cos(th), 1400 * r * np.sin(th)]
    poly = Polygon(pts)
    # the west edge runs along an outside county road, the south edge along a railway
    cut = Polygon([(-1560, -3000), (3000, -3000), (3000, 3000), (-1490, 3000)])
    cut = cut.intersection(Polygon([(-3000, -1180), (3000, -1080), (3000, 3000), (-3000, 3000)]))
    poly = poly.intersection(cut)
    k = math.sqrt(TOWN_AREA_M2 / poly.area)
    poly = shapely.affinity.scale(poly, k, k, origin=(0, 0))
    poly = shapely.set_precision(poly, 0.01)
    return shapely.simplify(poly, 0.5)


# --------------------------------------------------------------------------
# 2. major roads
# --------------------------------------------------------------------------

# name, pinyin stem of the name, class, control points (local metres), smooth?
MAJOR_ROADS = [
    (
        "共和新路",
        "Gonghe",
        "arterial",
        [(-470, -2600), (-500, -900), (-445, 80), (-470, 1000), (-420, 2600)],
        False,
    ),
    (
        "平型关路",
        "Pingxingguan",
        "arterial",
        [(800, -2600), (735, -600), (800, 450), (770, 2600)],
        False,
    ),
    ("汶水路", "Wenshui", "arterial", [(-2600, 590), (-900, 640), (350, 575), (2600, 690)], False),
    ("广中西路", "Guangzhong", "arterial", [(-2600, -600), (0, -690), (2600, -790)], False),
    (
        "沪太路",
        "Hutai",
        "arterial",
        [(-2600, 2300), (-1100, 950), (200, -330), (1500, -2600)],
        False,
    ),
    ("共康路", "Gongkang", "secondary", [(-1120, -2600), (-1160, -100), (-1090, 2600)], True),
    ("阳曲路", "Yangqu", "secondary", [(150, -2600), (190, -700), (130, 600), (170, 2600)], True),
    ("三泉路", "Sanquan", "secondary", [(1390, -2600), (1350, -200), (1420, 2600)], True),
    (
        "场中路",
        "Changzhong",
        "secondary",
        [(-2600, -60), (-700, -20), (200, 60), (1200, -60), (2600, -40)],
        True,
    ),
    (
        "临汾路",
        "Linfen",
        "secondary",
        [(-2600, 1140), (-300, 1230), (700, 1120), (1500, 1260), (2600, 1180)],
        True,
    ),
    (
        "岭南路",
        "Lingnan",
        "secondary",
        [(-600, -1000), (400, -1070), (1400, -1040), (2600, -1100)],
        True,
    ),
    (
        "彭江路",
        "Pengjiang",
        "secondary",
        [(-2600, 1750), (-1300, 1700), (-700, 1800), (300, 1720), (2600, 1780)],
        True,
    ),
]
# the Chinese stem (used for committee, unit and team names) and the English road name
MAJOR_STEM = {"共和新路": "共和", "广中西路": "广中"}
MAJOR_EN = {"共和新路": "Gonghe Xin Road", "广中西路": "Guangzhong West Road"}
# partial roads: (name, from road, to road)
PARTIAL = {
    "阳曲路": ("广中西路", "临汾路"),
    "岭南路": ("共和新路", None),
}


def make_major_roads(boundary: Polygon) -> list[dict]:
    roads = []
    for name, stem, cls, pts, smooth in MAJOR_ROADS:
        p = np.asarray(pts, dtype=float)
        if smooth:
            p = chaikin(p, 3)
        roads.append({"name": name, "stem": stem, "class": cls, "geom": LineString(p)})
    by_name = {r["name"]: r for r in roads}
    far = shapely.buffer(boundary.exterior, 200).union(boundary).exterior
    for name, (a, b) in PARTIAL.items():
        ga = by_name[a]["geom"]
        gb = by_name[b]["geom"] if b else far
        by_name[name]["geom"] = trim_between(by_name[name]["geom"], ga, gb)
    return roads


# --------------------------------------------------------------------------
# 3. local streets
# --------------------------------------------------------------------------

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
    def __init__(self, taken: set[str]) -> None:
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


def local_streets(superblocks: list[Polygon], pool: NamePool) -> list[dict]:
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


# --------------------------------------------------------------------------
# 4. noding, street segments, blocks, cells
# --------------------------------------------------------------------------


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


def face_adjacency(faces: list[Polygon]) -> dict[int, dict[int, float]]:
    tree = shapely.STRtree(faces)
    adj: dict[int, dict[int, float]] = defaultdict(dict)
    a, b = tree.query(faces, predicate="intersects")
    for i, j in zip(a, b, strict=True):
        if i < j:
            shared = shapely.length(shapely.intersection(faces[i].boundary, faces[j].boundary))
            if shared > 1e-6:
                adj[int(i)][int(j)] = shared
                adj[int(j)][int(i)] = shared
    return adj


def merge_slivers(faces: list[Polygon]) -> list[Polygon]:
    adj = face_adjacency(faces)
    parent = list(range(len(faces)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in sorted(range(len(faces)), key=lambda k: faces[k].area):
        f = faces[i]
        thin = 4 * math.pi * f.area / f.length**2 < 0.12 and f.area < 6_000
        if (f.area < SLIVER_M2 or thin) and adj[i]:
            j = max(adj[i], key=lambda k: adj[i][k])
            parent[find(i)] = find(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(faces)):
        groups[find(i)].append(i)
    out = []
    for root in sorted(groups):
        members = groups[root]
        out.append(
            faces[members[0]]
            if len(members) == 1
            else shapely.coverage_union_all([faces[m] for m in members])
        )
    return out


def merge_crumbs(
    cells: list[Polygon], block: np.ndarray, below: float = 800.0
) -> tuple[list[Polygon], np.ndarray]:
    adj = face_adjacency(cells)
    parent = list(range(len(cells)))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in sorted(range(len(cells)), key=lambda k: (cells[k].area, k)):
        if cells[i].area >= below:
            continue
        same = {j: ln for j, ln in adj[i].items() if block[j] == block[i]}
        if same:
            j = max(sorted(same), key=lambda q: same[q])
            parent[find(i)] = find(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(cells)):
        groups[find(i)].append(i)
    out, out_block = [], []
    for root in sorted(groups):
        members = groups[root]
        out.append(
            cells[members[0]]
            if len(members) == 1
            else shapely.coverage_union_all([cells[m] for m in members])
        )
        out_block.append(block[root])
    return out, np.array(out_block)


def split_lines(poly: Polygon, depth: int = 0) -> list[LineString]:
    """Internal lanes that cut a large block into cells of about 10,000-20,000 m²."""
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
    if not parts:
        return []
    pieces = polygonize_faces(
        [poly.exterior, *[i.exterior for i in poly.interiors], *parts], inside=poly
    )
    out = list(parts)
    for piece in pieces:
        out.extend(split_lines(piece, depth + 1))
    return out


# --------------------------------------------------------------------------
# 5. grouping by region growing
# --------------------------------------------------------------------------


def grow_regions(
    ids: list[int],
    adj: dict[int, dict[int, float]],
    area: dict[int, float],
    xy: dict[int, np.ndarray],
    k: int,
    group_of: dict[int, int] | None = None,
    penalty: float = 0.0,
    tolerance: float = 0.04,
) -> list[list[int]]:
    """Split the connected set ``ids`` into ``k`` contiguous, area-balanced, compact regions.

    Region growing from k seeds over the adjacency graph (a multi-source
    Dijkstra: an additively weighted graph Voronoi diagram, so every region is
    connected). Stepping across a boundary between two groups (e.g. a main
    road between superblocks) costs ``1 + penalty`` times the distance. The
    seeds' head starts are tuned until the areas balance, and the seeds are
    moved to their regions' centres a few times (Lloyd).
    """
    import heapq

    ids = sorted(ids)
    if k == 1:
        return [ids]
    idset = set(ids)
    pts = np.array([xy[i] for i in ids])
    w = np.array([area[i] for i in ids])
    target = w.sum() / k
    scale = math.sqrt(target)

    def step(a: int, b: int) -> float:
        d = float(np.hypot(*(xy[a] - xy[b])))
        if group_of is not None and group_of[a] != group_of[b]:
            d *= 1.0 + penalty
        return d

    def voronoi(seeds: list[int], head: np.ndarray) -> dict[int, int]:
        best: dict[int, float] = {}
        label: dict[int, int] = {}
        heap = [(float(head[r]), r, s) for r, s in enumerate(seeds)]
        heapq.heapify(heap)
        while heap:
            d, r, n = heapq.heappop(heap)
            if n in label:
                continue
            label[n] = r
            for m in sorted(adj[n]):
                if m in idset and m not in label:
                    nd = d + step(n, m)
                    if nd < best.get(m, math.inf):
                        best[m] = nd
                        heapq.heappush(heap, (nd, r, m))
        return label

    # k-means++ style seeding weighted by area, then Lloyd rounds
    centers = [pts[int(np.argmax(np.hypot(*(pts - pts.mean(0)).T)))]]
    for _ in range(k - 1):
        d2 = np.min([np.sum((pts - cc) ** 2, axis=1) for cc in centers], axis=0)
        centers.append(pts[int(np.argmax(d2 * w))])
    centers = np.array(centers)
    for _ in range(10):
        lab = np.argmin(((pts[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
        for r in range(k):
            if (lab == r).any():
                centers[r] = np.average(pts[lab == r], axis=0, weights=w[lab == r])

    def nearest_seeds(cs: np.ndarray) -> list[int]:
        seeds: list[int] = []
        for r in range(k):
            order = np.argsort(((pts - cs[r]) ** 2).sum(1))
            seeds.append(next(ids[o] for o in order if ids[o] not in seeds))
        return seeds

    best_label, best_dev = None, math.inf
    seeds = nearest_seeds(centers)
    for _outer in range(4):
        head = np.zeros(k)
        for _ in range(60):
            label = voronoi(seeds, head)
            ra = np.zeros(k)
            for n, r in label.items():
                ra[r] += area[n]
            dev = float(np.abs(ra / target - 1).max())
            if dev < best_dev:
                best_label, best_dev = dict(label), dev
            if dev < tolerance:
                break
            head += 0.25 * scale * (ra / target - 1)
            head -= head.min()
        if best_dev < tolerance:
            break
        # Lloyd: move each seed to the block nearest its region's centre
        cs = np.array(
            [
                np.average(
                    [xy[n] for n in ids if label[n] == r],
                    axis=0,
                    weights=[area[n] for n in ids if label[n] == r],
                )
                for r in range(k)
            ]
        )
        seeds = nearest_seeds(cs)
    assert best_label is not None and len(best_label) == len(ids), "disconnected input"
    members = [sorted(n for n in ids if best_label[n] == r) for r in range(k)]
    assert all(members), "an empty region"
    return members


def reading_order(points: list[np.ndarray], band: float = 400.0) -> list[int]:
    """Indices sorted north to south in bands, then west to east."""
    return sorted(
        range(len(points)), key=lambda i: (-math.floor(points[i][1] / band), points[i][0])
    )


# --------------------------------------------------------------------------
# the territory
# --------------------------------------------------------------------------


def stem_of(name: str) -> str:
    """共和新路 → 共和, 汶水路 → 汶水, 场中路 → 场中: the part a committee or team is named after."""
    if name in MAJOR_STEM:
        return MAJOR_STEM[name]
    return name[:-1] if name.endswith("路") else name


def road_en(name: str, roads: list[dict]) -> str:
    if name in MAJOR_EN:
        return MAJOR_EN[name]
    return f"{pinyin_of_stem(stem_of(name), roads)} Road"


def build_territory() -> dict:
    boundary = make_boundary()
    major = make_major_roads(boundary)
    major_segments, major_bedges = node_network(major, boundary)
    superblocks = polygonize_faces(
        [s["geom"] for s in major_segments] + major_bedges, inside=boundary
    )
    superblocks = merge_slivers(superblocks)
    taken = {stem_of(r["name"]) for r in major}
    roads = major + local_streets(superblocks, NamePool(taken))
    segments, bedges = node_network(roads, boundary)
    faces = polygonize_faces([s["geom"] for s in segments] + bedges, inside=boundary)
    assert abs(sum(f.area for f in faces) - boundary.area) < 1e-3, "faces do not tile the town"
    blocks = merge_slivers(faces)

    # cells: one global polygonize of all block edges plus the internal lanes
    lanes = [ln for b in blocks for ln in split_lines(b)]
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


def group_territory(t: dict) -> dict:
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
        list(range(len(superblocks))), s_adj, s_area, s_xy, N_UNITS, tolerance=0.12
    )
    unit_blocks = [[b for b in range(len(blocks)) if block_sb[b] in set(m)] for m in unit_sbs]
    unit_xy = [
        np.average([b_xy[b] for b in m], axis=0, weights=[b_area[b] for b in m])
        for m in unit_blocks
    ]
    unit_blocks = [unit_blocks[i] for i in reading_order(unit_xy, band=1200)]
    units_area = [sum(b_area[b] for b in m) for m in unit_blocks]
    # 14 grids shared out by area (largest remainder)
    quota = np.array(units_area) / sum(units_area) * N_GRIDS
    n_grids = np.floor(quota).astype(int)
    for i in np.argsort(-(quota - n_grids))[: N_GRIDS - n_grids.sum()]:
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
    two = set(np.argsort(-np.array(g_area), kind="stable")[: N_COMMITTEES - N_GRIDS].tolist())
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

# 一办六组 (Zhujing): six working groups, each with a lead department
GROUPS = [
    ("WG01", "经济发展组", "Economic Development Group", "D16"),
    ("WG02", "公共管理组", "Public Management Group", "D12"),
    ("WG03", "公共服务组", "Public Services Group", "D17"),
    ("WG04", "公共安全组", "Public Safety Group", "D13"),
    ("WG05", "社区工作组", "Community Work Group", "D14"),
    ("WG06", "党建工作组", "Party-building Group", "D18"),
]

# code, name, name_en, kind, level, group
DEPARTMENTS = [
    (
        "D01",
        "综合行政执法队",
        "Comprehensive Administrative Law Enforcement Squad",
        "enforcement",
        "town",
        "WG02",
    ),
    ("D02", "示范派出所", "Shifan Police Station", "stationed", "town", "WG04"),
    ("D03", "示范消防救援站", "Shifan Fire and Rescue Station", "stationed", "town", "WG04"),
    ("D04", "交警示范中队", "Shifan Traffic Police Squadron", "stationed", "town", "WG04"),
    ("D05", "示范市场监管所", "Shifan Market Supervision Office", "stationed", "town", "WG01"),
    ("D06", "示范司法所", "Shifan Justice Office", "stationed", "town", "WG04"),
    ("D07", "应急管理联络组", "Emergency Management Liaison (on call)", "on_call", "town", "WG04"),
    ("D08", "住建联络组", "Housing and Construction Liaison (on call)", "on_call", "town", "WG05"),
    ("D09", "自然资源联络组", "Natural Resources Liaison (on call)", "on_call", "town", "WG01"),
    (
        "D10",
        "绿化市容联络组",
        "Landscaping and City Appearance Liaison (on call)",
        "on_call",
        "town",
        "WG02",
    ),
    ("D11", "文旅联络组", "Culture and Tourism Liaison (on call)", "on_call", "town", "WG03"),
    ("D12", "城市管理办公室", "City Management Office", "town_office", "town", "WG02"),
    ("D13", "平安建设办公室", "Public Safety Office", "town_office", "town", "WG04"),
    ("D14", "社区管理办公室", "Community Management Office", "town_office", "town", "WG05"),
    ("D15", "党政办公室", "Party and Government Office", "town_office", "town", ""),
    ("D16", "经济发展办公室", "Economic Development Office", "town_office", "town", "WG01"),
    ("D17", "社会事务办公室", "Social Affairs Office", "town_office", "town", "WG03"),
    ("D18", "党建工作办公室", "Party-building Office", "town_office", "town", "WG06"),
    ("D19", "网格化综合管理中心", "Grid Management Centre", "town_office", "town", ""),
    ("X01", "区生态环境局", "District Ecology and Environment Bureau", "county", "county", ""),
    ("X02", "区水务局", "District Water Affairs Bureau", "county", "county", ""),
    ("X03", "区住建委", "District Housing and Construction Commission", "county", "county", ""),
    ("X04", "区城管执法局", "District Urban Management Enforcement Bureau", "county", "county", ""),
    ("X05", "区市场监管局", "District Market Supervision Bureau", "county", "county", ""),
    ("X06", "区卫健委", "District Health Commission", "county", "county", ""),
    (
        "X07",
        "区规划资源局",
        "District Planning and Natural Resources Bureau",
        "county",
        "county",
        "",
    ),
    ("X08", "区建管委", "District Construction and Transport Commission", "county", "county", ""),
    ("X09", "区应急管理局", "District Emergency Management Bureau", "county", "county", ""),
    ("X10", "区文旅局", "District Culture and Tourism Bureau", "county", "county", ""),
    (
        "X11",
        "区绿化市容局",
        "District Landscaping and City Appearance Bureau",
        "county",
        "county",
        "",
    ),
    ("X12", "区公安分局", "District Public Security Sub-bureau", "county", "county", ""),
]

# the ten fields (领域) of the responsibility list
FIELDS = {
    "NR": ("自然资源", "natural resources"),
    "EE": ("生态环境", "ecology and environment"),
    "HC": ("住房城乡建设", "housing and construction"),
    "CM": ("城市管理", "city management"),
    "TR": ("交通运输", "transport"),
    "WA": ("水务", "water affairs"),
    "MS": ("市场监管", "market supervision"),
    "ES": ("应急管理", "emergency management and work safety"),
    "HE": ("卫生健康", "health"),
    "CT": ("文化旅游", "culture and tourism"),
}

# code, name, name_en, field, primary, cooperating, level, group, severity, allow_outside,
# limits (dispatch, accept, handle, verify) in working hours, season note
# code|name|name_en|field|primary|cooperating|level|group|severity|allow_outside|
# limits dispatch,accept,handle,verify (working hours)|season note
MATTERS_TABLE = """
CG01|乱设摊|Illegal street stalls|CM|D01|D05;D10|grid|WG02|1|0|0.5,1,4,8|weekends and evenings, more in summer
CG02|跨门营业|Business spilling out of the shop|CM|D01|D05|grid|WG02|1|0|0.5,1,8,8|
CG03|违规广告|Illegal banners and advertising|CM|D01|D10|grid|WG02|1|0|0.5,1,24,8|
CG04|垃圾暴露|Exposed garbage|CM|D10|D14|grid|WG02|1|0|0.5,1,4,8|more in summer
CG05|乱堆物|Materials piled in public space|CM|D01|D14|grid|WG02|1|0|0.5,1,24,8|
CG06|违章建筑|Illegal construction|CM|D01|D09;D08;X04|town|WG02|2|0|1,2,72,24|
CG07|破墙开门|Walls broken to open shop doors|HC|D01|D08;D05|town|WG02|2|0|1,2,48,24|
CG08|群租|Group renting|HC|D08|D02;D14|town|WG05|2|0|1,4,72,24|
CG09|危旧房|Dilapidated housing|HC|D08|D07;X03|town|WG05|2|0|0.5,1,24,24|flood season June-September
CG10|违规装修|Illegal renovation work|HC|D08|D01|town|WG05|1|0|1,2,48,24|
CG11|工地夜间施工|Night-time construction work|HC|D01|X03;X01|town|WG02|1|0|0.5,1,8,8|
CG12|无证照经营|Unlicensed business|MS|D05|D01|town|WG01|1|0|1,2,72,24|
CG13|食品安全隐患|Food safety risk|MS|D05|X05|town|WG01|2|0|0.5,1,24,24|more in summer
CG14|非法行医|Illegal medical practice|HE|X06|D05;D02|county|WG03|2|0|1,4,120,24|
CG15|病媒生物孳生|Breeding of rats and mosquitoes|HE|D17|D10;D14|town|WG03|1|0|1,2,48,24|summer
CG16|地下工厂|Underground factory|ES|D07|D03;D05;D02|town|WG04|3|0|0.5,1,24,24|
CG17|安全隐患|Safety hazard|ES|D07|D03;D13|town|WG04|2|0|0.5,1,24,24|
CG18|消防通道堵塞|Blocked fire lane|ES|D03|D01;D14|grid|WG04|2|0|0.5,1,4,8|
CG19|电动自行车违规充电|Illegal e-bike charging|ES|D03|D14;D02|grid|WG04|2|0|0.5,1,8,8|winter
CG20|烟花爆竹违规燃放|Illegal fireworks|ES|D02|D03|grid|WG04|2|0|0.25,0.5,2,4|Spring Festival and Lantern Festival
CG21|燃气安全隐患|Gas safety hazard|ES|D07|X09;D03|town|WG04|3|0|0.25,0.5,4,8|winter
CG22|占道停车|Illegal parking on the road|TR|D04|D01|grid|WG02|1|0|0.5,1,2,8|weekdays, rush hours
CG23|共享单车乱停放|Shared bicycles parked in disorder|TR|D12|D04|grid|WG02|1|0|0.5,1,4,8|rush hours
CG24|道路破损|Damaged road surface|TR|D12|X08|town|WG02|2|0|1,2,72,24|
CG25|非法客运|Unlicensed taxis|TR|D04|X08;D02|town|WG04|1|0|1,2,48,24|near metro stations
CG26|窨井盖缺失损坏|Missing or damaged manhole cover|WA|D12|X02;D04|grid|WG02|3|0|0.25,0.5,4,8|
CG27|路灯损坏|Broken street light|CM|D12|X08|town|WG02|1|0|1,2,48,24|
CG28|河道污染|River pollution|WA|D12|X02;X01|town|WG02|2|1|0.5,1,48,24|summer
CG29|道路积水|Waterlogged road|WA|D12|X02|town|WG02|2|0|0.25,0.5,8,8|plum rain and typhoon season June-September
CG30|违法排污|Illegal sewage discharge|WA|X02|X01;D01|county|WG02|2|1|1,4,120,24|summer
CG31|餐饮油烟扰民|Restaurant cooking fumes|EE|D01|X01|town|WG02|1|0|1,2,72,24|summer
CG32|工地扬尘|Construction dust|EE|D01|X01;X03|town|WG02|1|1|0.5,1,24,8|spring and autumn
CG33|露天焚烧|Open burning|EE|D01|X01;D03|grid|WG02|2|1|0.25,0.5,2,4|winter
CG34|噪声扰民|Noise nuisance|EE|D02|D01;X01|grid|WG04|1|0|0.5,1,4,8|summer nights
CG35|违法占地|Illegal occupation of land|NR|D09|D01;X07|town|WG01|2|0|1,4,72,24|
CG36|绿化损坏|Damaged greenery|NR|D10|D01|grid|WG02|1|0|0.5,1,24,8|summer
CG37|地面塌陷|Ground subsidence|NR|D09|X07;D12|county|WG04|3|0|0.25,0.5,8,8|flood season
CG38|无证娱乐场所|Unlicensed entertainment venue|CT|D11|D02;D05|town|WG03|1|0|1,2,72,24|
CG39|广场舞噪声|Square-dance noise|CT|D11|D02;D14|grid|WG03|1|0|0.5,1,4,8|summer evenings
CG40|违规户外演出|Unauthorised outdoor performance|CT|D11|D02;D01|grid|WG03|1|0|0.5,1,4,8|holidays
"""


def _parse_matters(text: str) -> list[tuple]:
    out = []
    for line in text.strip().splitlines():
        f = line.split("|")
        limits = tuple(float(x) if "." in x else int(x) for x in f[10].split(","))
        out.append((*f[:8], int(f[8]), int(f[9]), limits, f[11]))
    return out


MATTERS = _parse_matters(MATTERS_TABLE)

# the State Council holiday schedules (放假 and 调休 working weekends) for 2025 and 2026.
# 2027 is not the State Council's schedule (not known when this was written): it lists only
# the statutory days of 《全国年节及纪念日放假办法》 (as revised in 2024) on their 2027 dates
# (New Year 1 day; Spring Festival eve and days 1-3, 春节 2027-02-06; Qingming on the solar
# term; Labour Day 2 days; Dragon Boat 端午 and Mid-Autumn 中秋 on their lunar dates; National
# Day 3 days), without the bridging days and 调休 working weekends. Replace it when the
# schedule is published (usually in November of the year before).
HOLIDAYS_TABLE = """
2025-01-01 元旦 0
2025-01-26 春节 1
2025-01-28 春节 0
2025-01-29 春节 0
2025-01-30 春节 0
2025-01-31 春节 0
2025-02-01 春节 0
2025-02-02 春节 0
2025-02-03 春节 0
2025-02-04 春节 0
2025-02-08 春节 1
2025-04-04 清明节 0
2025-04-05 清明节 0
2025-04-06 清明节 0
2025-04-27 劳动节 1
2025-05-01 劳动节 0
2025-05-02 劳动节 0
2025-05-03 劳动节 0
2025-05-04 劳动节 0
2025-05-05 劳动节 0
2025-05-31 端午节 0
2025-06-01 端午节 0
2025-06-02 端午节 0
2025-09-28 国庆节、中秋节 1
2025-10-01 国庆节、中秋节 0
2025-10-02 国庆节、中秋节 0
2025-10-03 国庆节、中秋节 0
2025-10-04 国庆节、中秋节 0
2025-10-05 国庆节、中秋节 0
2025-10-06 国庆节、中秋节 0
2025-10-07 国庆节、中秋节 0
2025-10-08 国庆节、中秋节 0
2025-10-11 国庆节、中秋节 1
2026-01-01 元旦 0
2026-01-02 元旦 0
2026-01-03 元旦 0
2026-01-04 元旦 1
2026-02-14 春节 1
2026-02-15 春节 0
2026-02-16 春节 0
2026-02-17 春节 0
2026-02-18 春节 0
2026-02-19 春节 0
2026-02-20 春节 0
2026-02-21 春节 0
2026-02-22 春节 0
2026-02-23 春节 0
2026-02-28 春节 1
2026-04-04 清明节 0
2026-04-05 清明节 0
2026-04-06 清明节 0
2026-05-01 劳动节 0
2026-05-02 劳动节 0
2026-05-03 劳动节 0
2026-05-04 劳动节 0
2026-05-05 劳动节 0
2026-05-09 劳动节 1
2026-06-19 端午节 0
2026-06-20 端午节 0
2026-06-21 端午节 0
2026-09-20 国庆节 1
2026-09-25 中秋节 0
2026-09-26 中秋节 0
2026-09-27 中秋节 0
2026-10-01 国庆节 0
2026-10-02 国庆节 0
2026-10-03 国庆节 0
2026-10-04 国庆节 0
2026-10-05 国庆节 0
2026-10-06 国庆节 0
2026-10-07 国庆节 0
2026-10-10 国庆节 1
2027-01-01 元旦 0
2027-02-05 春节 0
2027-02-06 春节 0
2027-02-07 春节 0
2027-02-08 春节 0
2027-04-05 清明节 0
2027-05-01 劳动节 0
2027-05-02 劳动节 0
2027-06-09 端午节 0
2027-09-15 中秋节 0
2027-10-01 国庆节 0
2027-10-02 国庆节 0
2027-10-03 国庆节 0
"""
HOLIDAYS = [
    (d, n, int(w)) for d, n, w in (ln.split() for ln in HOLIDAYS_TABLE.strip().splitlines())
]

# working hours assumed for the step durations in reports.csv
WORK_PERIODS_MIN = [(9 * 60, 12 * 60), (13 * 60, 18 * 60)]

CN_NUM = "一二三四五六七八九十"


def cn_number(n: int) -> str:
    if n <= 10:
        return CN_NUM[n - 1]
    if n < 20:
        return "十" + CN_NUM[n - 11]
    return CN_NUM[n // 10 - 1] + "十" + (CN_NUM[n % 10 - 1] if n % 10 else "")


# --------------------------------------------------------------------------
# 6. layers with codes, names and checks
# --------------------------------------------------------------------------


def pinyin_of_stem(stem: str, roads: list[dict]) -> str:
    for r in roads:
        if stem_of(r["name"]) == stem:
            return r["stem"]
    return "".join(PINYIN.get(c, "") for c in stem).capitalize()


def check_coverage(children: list, parents: list, child_parent: list[int], what: str) -> None:
    """Children tile their parents: valid coverage, valid polygons, exact unions, no crossing."""
    arr = np.array(children, dtype=object)
    assert all(g.geom_type == "Polygon" for g in children), f"{what}: not all Polygon"
    assert shapely.is_valid(arr).all(), f"{what}: invalid geometry"
    assert shapely.coverage_is_valid(arr), f"{what}: not a valid coverage"
    for p, parent in enumerate(parents):
        kids = [children[i] for i, q in enumerate(child_parent) if q == p]
        assert kids, f"{what}: parent {p} has no children"
        union = shapely.union_all(kids)
        assert shapely.symmetric_difference(union, parent).area < 1e-6, (
            f"{what}: union != parent {p}"
        )
        for k in kids:
            assert shapely.difference(k, parent).area < 1e-6, f"{what}: a child crosses parent {p}"


def build_layers(t: dict, g: dict) -> dict:
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
        for uj in range(N_UNITS)
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
    fallback = ["三泉", "馨佳", "景凤", "宝华", "通河", "阳城", "康乐", "岭南", "华灵", "永和"]
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
    comm_code = [f"{TOWN_CODE}{ci + 1:03d}" for ci in range(len(comm_polys))]
    grid_code = [f"{TOWN_CODE}G{gi + 1:02d}" for gi in range(len(grid_polys))]
    unit_code = [f"{TOWN_CODE}U{u + 1}" for u in range(N_UNITS)]

    # ---- teams: two street workstations per unit, each 2-3 contiguous grids
    g_adj = face_adjacency(grid_polys)
    g_xy = [np.asarray(p.centroid.coords[0]) for p in grid_polys]
    team_grids: list[list[int]] = []
    for u in range(N_UNITS):
        gs = [gi for gi, uu in enumerate(grid_unit) if uu == u]
        assert 4 <= len(gs) <= 6, f"unit {u} has {len(gs)} grids"
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
    team_code = [f"WS{ti + 1:02d}" for ti in range(len(team_grids))]

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
    for u in range(N_UNITS):
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
    check_coverage(unit_polys, [town], [0] * N_UNITS, "units")

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
    trunk = by_name["共和新路"]
    for cross in ("汶水路", "广中西路"):
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
    for target in ([-900, 700], [400, 900], [-300, -400], [1300, -300]):
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


def to_storage(geoms: list) -> list:
    def f(c: np.ndarray) -> np.ndarray:
        x, y = TO_STORAGE.transform(c[:, 0] + X0, c[:, 1] + Y0)
        return np.c_[x, y]

    return list(shapely.transform(np.array(geoms, dtype=object), f))


def write_geopackage(t: dict, L: dict, path: Path) -> dict[str, gpd.GeoDataFrame]:
    roads, segs = t["roads"], t["segments"]
    crs = f"EPSG:{STORAGE_EPSG}"
    frames: dict[str, gpd.GeoDataFrame] = {}
    frames["jurisdiction"] = gpd.GeoDataFrame(
        {
            "code": [TOWN_CODE],
            "name": ["示范镇"],
            "name_en": ["Shifan"],
            "parent_code": [COUNTY_CODE],
        },
        geometry=to_storage([L["town"]]),
        crs=crs,
    )
    frames["units"] = gpd.GeoDataFrame(
        {
            "code": L["unit_code"],
            "name": [f"{n}基本管理单元" for n in L["unit_names"]],
            "name_en": [
                f"{pinyin_of_stem(n, roads)} Basic Management Unit" for n in L["unit_names"]
            ],
            "parent_code": [TOWN_CODE] * N_UNITS,
        },
        geometry=to_storage(L["unit_polys"]),
        crs=crs,
    )
    frames["grids"] = gpd.GeoDataFrame(
        {
            "code": L["grid_code"],
            "name": [f"第{cn_number(i + 1)}责任网格" for i in range(len(L["grid_code"]))],
            "name_en": [f"Responsibility Grid {i + 1}" for i in range(len(L["grid_code"]))],
            "parent_code": [L["unit_code"][u] for u in L["grid_unit"]],
            "team": [L["team_code"][L["grid_team"][gi]] for gi in range(len(L["grid_code"]))],
        },
        geometry=to_storage(L["grid_polys"]),
        crs=crs,
    )
    frames["committees"] = gpd.GeoDataFrame(
        {
            "code": L["comm_code"],
            "name": [f"{n}居委" for n in L["comm_names"]],
            "name_en": [
                f"{pinyin_of_stem(n, roads)} Residents' Committee" for n in L["comm_names"]
            ],
            "parent_code": [L["grid_code"][g] for g in L["comm_grid"]],
        },
        geometry=to_storage(L["comm_polys"]),
        crs=crs,
    )
    o = L["cell_order"]
    frames["cells"] = gpd.GeoDataFrame(
        {
            "code": [L["cell_code"][i] for i in o],
            "name": [L["cell_name"][i] for i in o],
            "parent_code": [L["comm_code"][L["cell_comm"][i]] for i in o],
        },
        geometry=to_storage([L["cells"][i] for i in o]),
        crs=crs,
    )
    so = L["seg_order"]
    frames["streets"] = gpd.GeoDataFrame(
        {
            "code": [f"{TOWN_CODE}S{k + 1:04d}" for k in range(len(so))],
            "name": [roads[segs[i]["road"]]["name"] for i in so],
            "road_class": [roads[segs[i]["road"]]["class"] for i in so],
            "parent_code": [L["grid_code"][L["seg_grid"][i]] for i in so],
            "team": [L["team_code"][L["grid_team"][L["seg_grid"][i]]] for i in so],
        },
        geometry=to_storage([segs[i]["geom"] for i in so]),
        crs=crs,
    )
    frames["pois"] = gpd.GeoDataFrame(
        {
            "code": [f"{TOWN_CODE}P{k + 1:02d}" for k in range(len(L["pois"]))],
            "name": [p["name"] for p in L["pois"]],
            "name_en": [p["name_en"] for p in L["pois"]],
            "kind": [p["kind"] for p in L["pois"]],
            "parent_code": [L["grid_code"][g] for g in L["poi_grid"]],
        },
        geometry=to_storage([Point(p["xy"]) for p in L["pois"]]),
        crs=crs,
    )

    # the stored layers, read back into the working CRS, still tile exactly
    for child, parent in (
        ("cells", "committees"),
        ("committees", "grids"),
        ("grids", "units"),
        ("units", "jurisdiction"),
    ):
        c, p = frames[child], frames[parent]
        assert shapely.coverage_is_valid(c.geometry.values), (
            f"{child} not a valid coverage in EPSG:4490"
        )
        assert c.is_valid.all()
        cw, pw = c.to_crs(WORK_EPSG), p.to_crs(WORK_EPSG)
        idx = {code: k for k, code in enumerate(p["code"])}
        check_coverage(
            list(cw.geometry),
            list(pw.geometry),
            [idx[x] for x in c["parent_code"]],
            f"{child} (stored)",
        )
    assert (frames["streets"].geom_type == "LineString").all()
    for name, f in frames.items():
        assert f["code"].is_unique, name

    if path.exists():
        path.unlink()
    for name in ("jurisdiction", "units", "grids", "committees", "cells", "streets", "pois"):
        frames[name].to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return frames


# --------------------------------------------------------------------------
# 7. a year of historical reports
# --------------------------------------------------------------------------

N_REPORTS = 24_000
START = pd.Timestamp("2025-11-01 00:00:00")
N_DAYS = 365  # 2025-11-01 .. 2026-10-31
CUTOFF_S = N_DAYS * 86400  # data extracted at 2026-11-01 00:00 (+08:00)
SOURCES = ("patrol", "hotline12345", "camera", "resident")
#: gridsvc.core.workflow.COLOUR_FACTOR: the share of a step limit by colour (yellow, orange, red)
COLOUR_FACTOR = np.array([1.0, 0.5, 0.25])
#: The share of its (colour-scaled) limit a step uses: median, lognormal sigma, and the
#: chance of a slow one (1.5-4 times). Tuned so that a month reads like the seeds (most
#: cases well within their limits, a few per cent overdue at a step; see data/README.md).
STEP_SHARE = {
    "dispatch": (0.25, 0.45, 0.004),
    "accept": (0.25, 0.45, 0.004),
    "handle": (0.3, 0.45, 0.004),
    "verify": (0.25, 0.45, 0.004),
}
#: Chance that a case is stuck in its handling for about the whole loop's time or more
STUCK_SHARE = 0.025
#: Chance of rework (返工): other matters, and the recurring ones (stalls, group renting,
#: parking, noise)
REOPEN_SHARE = (0.04, 0.07)

# weight, location model, hour profile, weekday profile, season, (patrol, hotline, camera, resident)
GEN = {
    "CG01": (15.0, "market", "stall", "weekend", "summer_mild", (0.55, 0.10, 0.30, 0.05)),
    "CG02": (7.0, "market", "day", "flat", "flat", (0.65, 0.10, 0.20, 0.05)),
    "CG03": (5.0, "street", "day", "weekday", "flat", (0.75, 0.05, 0.10, 0.10)),
    "CG04": (9.0, "area", "morning", "flat", "summer_mild", (0.60, 0.15, 0.10, 0.15)),
    "CG05": (5.0, "mixed", "day", "flat", "flat", (0.70, 0.10, 0.05, 0.15)),
    "CG06": (2.0, "old", "day", "weekday", "spring_autumn", (0.50, 0.30, 0.00, 0.20)),
    "CG07": (0.8, "street", "day", "weekday", "flat", (0.70, 0.20, 0.00, 0.10)),
    "CG08": (2.5, "old", "evening", "flat", "flat", (0.30, 0.50, 0.00, 0.20)),
    "CG09": (0.5, "old", "day", "flat", "rain", (0.60, 0.30, 0.00, 0.10)),
    "CG10": (1.2, "area", "day", "weekday", "flat", (0.30, 0.50, 0.00, 0.20)),
    "CG11": (1.2, "construction", "night", "flat", "flat", (0.05, 0.80, 0.00, 0.15)),
    "CG12": (2.0, "market", "day", "weekday", "flat", (0.70, 0.15, 0.00, 0.15)),
    "CG13": (0.8, "market", "day", "flat", "summer", (0.40, 0.40, 0.00, 0.20)),
    "CG14": (0.25, "old", "day", "weekday", "flat", (0.40, 0.50, 0.00, 0.10)),
    "CG15": (0.8, "area", "day", "flat", "summer", (0.50, 0.30, 0.00, 0.20)),
    "CG16": (0.25, "old", "day", "weekday", "flat", (0.60, 0.30, 0.00, 0.10)),
    "CG17": (2.5, "mixed", "day", "weekday", "flat", (0.70, 0.15, 0.05, 0.10)),
    "CG18": (2.5, "area", "day", "flat", "flat", (0.65, 0.15, 0.10, 0.10)),
    "CG19": (2.5, "old", "evening", "flat", "winter", (0.50, 0.25, 0.10, 0.15)),
    "CG20": (1.2, "area", "night", "flat", "fireworks", (0.30, 0.50, 0.10, 0.10)),
    "CG21": (0.5, "old", "evening", "flat", "winter", (0.30, 0.50, 0.00, 0.20)),
    "CG22": (9.0, "street", "commute", "weekday", "flat", (0.50, 0.15, 0.30, 0.05)),
    "CG23": (4.0, "metro", "commute", "weekday", "flat", (0.60, 0.05, 0.30, 0.05)),
    "CG24": (1.5, "street", "day", "flat", "rain_mild", (0.70, 0.20, 0.00, 0.10)),
    "CG25": (0.8, "metro", "evening", "flat", "flat", (0.60, 0.20, 0.20, 0.00)),
    "CG26": (1.8, "street", "allday", "flat", "rain_mild", (0.60, 0.30, 0.00, 0.10)),
    "CG27": (2.5, "street", "night", "flat", "winter_mild", (0.60, 0.25, 0.00, 0.15)),
    "CG28": (1.5, "river", "day", "flat", "summer", (0.70, 0.20, 0.00, 0.10)),
    "CG29": (1.0, "street", "allday", "flat", "rain", (0.40, 0.40, 0.15, 0.05)),
    "CG30": (0.3, "river", "day", "flat", "summer", (0.60, 0.30, 0.00, 0.10)),
    "CG31": (2.0, "market", "evening", "flat", "summer", (0.20, 0.60, 0.00, 0.20)),
    "CG32": (1.2, "construction", "day", "weekday", "spring_autumn", (0.40, 0.50, 0.00, 0.10)),
    "CG33": (0.4, "area", "evening", "flat", "winter", (0.50, 0.30, 0.10, 0.10)),
    "CG34": (3.0, "area", "night", "flat", "summer", (0.10, 0.75, 0.00, 0.15)),
    "CG35": (0.3, "area", "day", "weekday", "flat", (0.80, 0.10, 0.00, 0.10)),
    "CG36": (1.5, "street", "day", "flat", "summer", (0.75, 0.10, 0.05, 0.10)),
    "CG37": (0.15, "street", "allday", "flat", "rain", (0.50, 0.40, 0.00, 0.10)),
    "CG38": (0.3, "market", "evening", "flat", "flat", (0.30, 0.50, 0.00, 0.20)),
    "CG39": (1.5, "area", "evening_late", "flat", "summer", (0.10, 0.70, 0.00, 0.20)),
    "CG40": (0.4, "metro", "evening", "weekend", "flat", (0.50, 0.30, 0.10, 0.10)),
}

TEMPLATES = {
    "CG01": [
        "{road}{no}号门口有流动摊贩占道经营",
        "{road}人行道上有人摆摊卖水果",
        "{road}{no}号附近早点摊占用人行道",
    ],
    "CG02": ["{road}{no}号商铺跨门营业，货物堆到人行道", "{road}{no}号饭店在门外摆桌经营"],
    "CG03": [
        "{road}{no}号附近悬挂违规横幅",
        "{road}沿街立柱张贴小广告",
        "{road}{no}号门前摆放落地广告牌",
    ],
    "CG04": ["{road}{no}号旁垃圾箱满溢，垃圾暴露", "{road}沿线有生活垃圾堆放未清运"],
    "CG05": ["{road}{no}号楼道外乱堆杂物", "{road}{no}号旁建筑垃圾占用公共区域"],
    "CG06": ["{road}{no}号屋顶正在搭建违章建筑", "{road}{no}号底楼擅自扩建"],
    "CG07": ["{road}{no}号居民楼底层破墙开门作商铺", "{road}{no}号住宅擅自开门开窗"],
    "CG08": ["{road}{no}号疑似群租，进出人员多", "{road}{no}号一套房内隔出多间出租"],
    "CG09": ["{road}{no}号老房外墙开裂，有坠落风险", "{road}{no}号房屋漏雨，墙体松动"],
    "CG10": ["{road}{no}号装修拆除承重墙", "{road}{no}号违规装修噪声大"],
    "CG11": ["{road}工地夜间施工噪声扰民", "{road}{no}号附近工地夜间打桩"],
    "CG12": ["{road}{no}号店铺无营业执照经营", "{road}{no}号小作坊无证经营"],
    "CG13": ["{road}{no}号熟食店卫生条件差", "{road}{no}号饭店疑似使用过期食材"],
    "CG14": ["{road}{no}号出租屋内有人非法行医", "{road}{no}号无证诊所挂牌看病"],
    "CG15": ["{road}{no}号周边老鼠出没", "{road}{no}号积水处蚊虫孳生"],
    "CG16": ["{road}{no}号民房内疑似地下加工厂", "{road}{no}号仓库内有人违规生产"],
    "CG17": ["{road}{no}号店招松动有坠落隐患", "{road}{no}号临街电线私拉乱接"],
    "CG18": ["{road}{no}号小区消防通道被车辆堵塞", "{road}{no}号楼道堆物堵塞消防通道"],
    "CG19": ["{road}{no}号有居民飞线给电动车充电", "{road}{no}号楼道内电动自行车充电"],
    "CG20": ["{road}{no}号附近有人燃放烟花爆竹", "{road}禁放区域燃放鞭炮"],
    "CG21": ["{road}{no}号餐馆煤气罐摆放不规范", "{road}{no}号闻到燃气泄漏气味"],
    "CG22": ["{road}{no}号门前机动车占道停放", "{road}沿线车辆违停影响通行"],
    "CG23": ["{road}{no}号附近共享单车乱停放", "{road}人行道共享单车堆积"],
    "CG24": ["{road}{no}号门前路面坑洼", "{road}人行道地砖破损"],
    "CG25": ["{road}地铁口有黑车拉客", "{road}{no}号附近非法营运车辆候客"],
    "CG26": ["{road}{no}号门前窨井盖缺失", "{road}窨井盖破损下陷，存在安全隐患"],
    "CG27": ["{road}{no}号附近路灯不亮", "{road}沿线多盏路灯损坏"],
    "CG28": ["走马塘{road}段河面漂浮垃圾", "走马塘{road}段水体发黑发臭"],
    "CG29": ["{road}{no}号附近道路积水严重", "{road}下立交积水"],
    "CG30": ["走马塘{road}段有排水口偷排污水", "{road}{no}号向雨水管道排放污水"],
    "CG31": ["{road}{no}号餐饮店油烟扰民", "{road}{no}号烧烤店油烟直排"],
    "CG32": ["{road}工地裸土未覆盖，扬尘大", "{road}{no}号工地渣土车带泥上路"],
    "CG33": ["{road}{no}号附近有人焚烧垃圾", "{road}绿地内露天焚烧树叶"],
    "CG34": ["{road}{no}号夜间噪声扰民", "{road}{no}号商铺高音喇叭扰民"],
    "CG35": ["{road}{no}号空地被擅自圈占", "{road}{no}号擅自占用集体土地堆放物料"],
    "CG36": ["{road}{no}号绿化带被踩踏毁坏", "{road}行道树被擅自砍伐"],
    "CG37": ["{road}{no}号门前路面塌陷", "{road}人行道出现塌陷坑洞"],
    "CG38": ["{road}{no}号无证歌舞厅营业", "{road}{no}号棋牌室疑似无证经营"],
    "CG39": ["{road}{no}号广场舞音响声音过大", "{road}绿地广场舞噪声扰民"],
    "CG40": ["{road}{no}号商场门口违规搭台演出", "{road}路边有人违规演出占道"],
}


def hour_profile(kind: str) -> np.ndarray:
    h = np.arange(24) + 0.5
    bumps = {
        "stall": [(7.0, 1.2, 1.0), (11.8, 1.0, 0.5), (18.8, 1.8, 1.6)],
        "day": [(10.0, 1.5, 1.0), (15.0, 1.8, 1.0)],
        "morning": [(8.0, 1.5, 1.2), (14.0, 2.0, 0.6)],
        "evening": [(19.5, 2.0, 1.0), (12.0, 2.0, 0.3)],
        "night": [(22.3, 1.8, 1.0), (1.0, 1.5, 0.35)],
        "evening_late": [(20.0, 1.3, 1.0)],
        "commute": [(8.0, 1.0, 1.0), (18.0, 1.2, 1.0), (13.0, 3.0, 0.3)],
        "allday": [(12.0, 4.0, 1.0)],
    }[kind]
    p = np.full(24, 0.02 if kind != "allday" else 0.3)
    for mu, sd, w in bumps:
        d = np.abs(h - mu)
        d = np.minimum(d, 24 - d)
        p += w * np.exp(-0.5 * (d / sd) ** 2)
    return p / p.sum()


SEASONS = {
    "flat": [1] * 12,
    "summer": [0.5, 0.5, 0.6, 0.8, 1.2, 1.8, 2.4, 2.4, 1.6, 1.0, 0.6, 0.5],
    "summer_mild": [0.8, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.3, 1.2, 1.1, 0.9, 0.8],
    "winter": [1.8, 1.6, 1.1, 0.8, 0.6, 0.5, 0.5, 0.5, 0.6, 0.8, 1.2, 1.6],
    "winter_mild": [1.3, 1.2, 1.0, 0.9, 0.85, 0.8, 0.8, 0.85, 0.9, 1.0, 1.15, 1.3],
    "rain": [0.35, 0.35, 0.4, 0.5, 1.0, 3.5, 3.0, 2.5, 2.2, 0.8, 0.4, 0.35],
    "rain_mild": [0.85, 0.85, 0.85, 0.9, 1.0, 1.6, 1.5, 1.4, 1.3, 1.0, 0.85, 0.85],
    "spring_autumn": [0.8, 0.8, 1.3, 1.4, 1.2, 0.8, 0.8, 0.8, 1.2, 1.3, 1.2, 0.8],
}


def calendar_days() -> pd.DataFrame:
    days = pd.DataFrame({"date": pd.date_range(START, periods=N_DAYS + 400, freq="D")})
    hol = {pd.Timestamp(d): w for d, _, w in HOLIDAYS}
    wd = days["date"].dt.day_of_week.to_numpy()
    is_work = np.array([hol.get(d, int(w < 5)) == 1 for d, w in zip(days["date"], wd, strict=True)])
    days["workday"] = is_work
    days["month"] = days["date"].dt.month
    return days


def day_weights(days: pd.DataFrame, dow: str, season: str) -> np.ndarray:
    d = days.iloc[:N_DAYS]
    if season == "fireworks":
        w = np.full(N_DAYS, 0.01)
        spikes = {
            "2025-12-31": 3,
            "2026-01-01": 1.5,
            "2026-02-16": 30,
            "2026-02-17": 15,
            "2026-02-18": 8,
            "2026-02-19": 5,
            "2026-02-20": 4,
            "2026-02-21": 10,
            "2026-02-22": 3,
            "2026-02-23": 3,
            "2026-03-03": 10,
        }
        for i, date in enumerate(d["date"]):
            if pd.Timestamp("2026-02-08") <= date <= pd.Timestamp("2026-03-05"):
                w[i] = 1.0
            w[i] = spikes.get(date.strftime("%Y-%m-%d"), w[i])
        return w / w.sum()
    w = np.array([SEASONS[season][m - 1] for m in d["month"]], dtype=float)
    work = d["workday"].to_numpy()
    if dow == "weekend":
        w *= np.where(work, 0.85, 1.6)
    elif dow == "weekday":
        w *= np.where(work, 1.15, 0.6)
    # Shanghai empties over the Spring Festival
    date = d["date"]
    w *= np.where((date >= "2026-02-15") & (date <= "2026-02-23"), 0.55, 1.0)
    w *= np.where(
        ((date >= "2026-02-10") & (date < "2026-02-15"))
        | ((date > "2026-02-23") & (date <= "2026-02-28")),
        0.8,
        1.0,
    )
    return w / w.sum()


def make_reports(
    t: dict, L: dict, frames: dict[str, gpd.GeoDataFrame], days: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    boundary = t["boundary"]
    roads, segs = t["roads"], t["segments"]
    cells = L["cells"]
    n_comm = len(L["comm_polys"])
    density = rng.lognormal(0.0, 0.35, n_comm)
    old = np.zeros(n_comm)
    old[rng.choice(n_comm, 6, replace=False)] = 1.0
    cell_area = np.array([c.area for c in cells])
    cell_comm = np.array(L["cell_comm"])
    cell_arr = np.array(cells, dtype=object)
    bounds = shapely.bounds(cell_arr)
    seg_arr = np.array([s["geom"] for s in segs], dtype=object)
    seg_len = shapely.length(seg_arr)
    seg_cls_w = np.array(
        [{"arterial": 1.5, "secondary": 1.2, "local": 1.0}[roads[s["road"]]["class"]] for s in segs]
    )
    pois = L["pois"]
    poi_xy = np.array([p["xy"] for p in pois])
    poi_kind = np.array([p["kind"] for p in pois])
    ring = boundary.exterior

    def inside(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return shapely.contains_xy(boundary, x, y)

    def sample_area(n: int, old_factor: float) -> np.ndarray:
        w = cell_area * density[cell_comm] * (1 + old_factor * old[cell_comm])
        idx = rng.choice(len(cells), n, p=w / w.sum())
        out = np.empty((n, 2))
        todo = np.arange(n)
        while len(todo):
            b = bounds[idx[todo]]
            x = rng.uniform(b[:, 0], b[:, 2])
            y = rng.uniform(b[:, 1], b[:, 3])
            ok = shapely.contains_xy(cell_arr[idx[todo]], x, y)
            out[todo[ok]] = np.c_[x[ok], y[ok]]
            todo = todo[~ok]
        return out

    def sample_street(n: int) -> np.ndarray:
        w = seg_len * seg_cls_w
        idx = rng.choice(len(segs), n, p=w / w.sum())
        d = rng.uniform(0, 1, n) * seg_len[idx]
        p = shapely.get_coordinates(shapely.line_interpolate_point(seg_arr[idx], d))
        a = shapely.get_coordinates(
            shapely.line_interpolate_point(seg_arr[idx], np.maximum(d - 0.5, 0))
        )
        b = shapely.get_coordinates(
            shapely.line_interpolate_point(seg_arr[idx], np.minimum(d + 0.5, seg_len[idx]))
        )
        tan = (b - a) / np.maximum(np.hypot(*(b - a).T), 1e-9)[:, None]
        off = np.clip(rng.normal(0, 4.0, n), -9, 9)
        return p + np.c_[-tan[:, 1], tan[:, 0]] * off[:, None]

    def sample_hotspot(n: int, kinds: dict[str, float], sd: float) -> np.ndarray:
        w = np.array([kinds.get(k, 0.0) for k in poi_kind])
        idx = rng.choice(len(pois), n, p=w / w.sum())
        return poi_xy[idx] + rng.normal(0, sd, (n, 2))

    def sample_river(n: int) -> np.ndarray:
        # the 走马塘 river runs along the northern boundary
        out = np.empty((n, 2))
        todo = np.arange(n)
        ymax = boundary.bounds[3]
        while len(todo):
            s = rng.uniform(0, ring.length, len(todo))
            p = shapely.get_coordinates(shapely.line_interpolate_point(ring, s))
            a = shapely.get_coordinates(shapely.line_interpolate_point(ring, s - 1.0))
            b = shapely.get_coordinates(shapely.line_interpolate_point(ring, s + 1.0))
            tan = (b - a) / np.maximum(np.hypot(*(b - a).T), 1e-9)[:, None]
            nrm = np.c_[-tan[:, 1], tan[:, 0]]
            probe = p + nrm * 0.5
            nrm[~inside(probe[:, 0], probe[:, 1])] *= -1  # now points into the town
            depth = np.where(
                rng.random(len(todo)) < 0.8,
                rng.uniform(3, 40, len(todo)),
                -rng.uniform(3, 30, len(todo)),
            )
            q = p + nrm * depth[:, None]
            ok = p[:, 1] > ymax - 420
            out[todo[ok]] = q[ok]
            todo = todo[~ok]
        return out

    def sample(loc: str, n: int) -> np.ndarray:
        if n == 0:
            return np.empty((0, 2))
        if loc == "area":
            return sample_area(n, 0.0)
        if loc == "old":
            return sample_area(n, 5.0)
        if loc == "street":
            return sample_street(n)
        if loc == "river":
            return sample_river(n)
        mix = {
            "market": ({"market": 3.0, "metro_station": 1.0}, 70.0, 0.65, "street"),
            "metro": ({"metro_station": 1.0}, 90.0, 0.70, "street"),
            "construction": ({"construction_site": 1.0}, 55.0, 0.75, "area"),
            "mixed": ({"market": 1.0}, 80.0, 0.0, "street"),
        }[loc]
        kinds, sd, share, other = mix
        if loc == "mixed":
            k = rng.random(n) < 0.5
            out = np.empty((n, 2))
            out[k] = sample_area(int(k.sum()), 0.0)
            out[~k] = sample_street(int((~k).sum()))
            return out
        k = rng.random(n) < share
        out = np.empty((n, 2))
        out[k] = sample_hotspot(int(k.sum()), kinds, sd)
        out[~k] = sample(other, int((~k).sum()))
        return out

    codes = [m[0] for m in MATTERS]
    weights = np.array([GEN[c][0] for c in codes])
    counts = rng.multinomial(N_REPORTS, weights / weights.sum())
    parts = []
    for code, n in zip(codes, counts, strict=True):
        _, loc, hours, dow, season, src = GEN[code]
        day = rng.choice(N_DAYS, n, p=day_weights(days, dow, season))
        hour = rng.choice(24, n, p=hour_profile(hours))
        sec = day * 86400 + hour * 3600 + rng.integers(0, 3600, n)
        source = rng.choice(len(SOURCES), n, p=np.array(src) / sum(src))
        # patrols work 07:00-21:00; outside that the same problem comes by phone or camera
        off_shift = (source == 0) & ((hour < 7) | (hour >= 21))
        source[off_shift] = rng.choice([1, 2, 3], off_shift.sum(), p=[0.6, 0.25, 0.15])
        xy = sample(loc, n)
        if loc != "river":  # hotspot scatter may leave the town: pull those back onto streets
            bad = ~inside(xy[:, 0], xy[:, 1])
            while bad.any():
                xy[bad] = sample_street(int(bad.sum()))
                bad = ~inside(xy[:, 0], xy[:, 1])
        parts.append(
            pd.DataFrame(
                {"category": code, "sec": sec, "source": source, "x": xy[:, 0], "y": xy[:, 1]}
            )
        )
    df = pd.concat(parts, ignore_index=True)
    df = df.sort_values(["sec", "category", "x"], kind="stable").reset_index(drop=True)
    n = len(df)

    # anomalies: a few hundred metres outside the town, exactly on grid edges, lon/lat swapped
    kind = np.array(["normal"] * n, dtype=object)
    perm = rng.permutation(n)
    n_out, n_edge, n_swap = round(0.003 * n), round(0.005 * n), round(0.002 * n)
    kind[perm[:n_out]] = "outside"
    kind[perm[n_out : n_out + n_edge]] = "edge"
    kind[perm[n_out + n_edge : n_out + n_edge + n_swap]] = "swapped"
    out_idx = np.flatnonzero(kind == "outside")
    s = rng.uniform(0, ring.length, len(out_idx))
    p = shapely.get_coordinates(shapely.line_interpolate_point(ring, s))
    cxy = np.asarray(boundary.centroid.coords[0])
    direction = (p - cxy) / np.hypot(*(p - cxy).T)[:, None]
    q = p + direction * rng.uniform(120, 600, len(out_idx))[:, None]
    assert not inside(q[:, 0], q[:, 1]).any()
    df.loc[out_idx, ["x", "y"]] = q

    # geographic coordinates (CGCS2000 ≈ WGS-84)
    lon, lat = TO_STORAGE.transform(df["x"].to_numpy() + X0, df["y"].to_numpy() + Y0)
    lon, lat = np.round(lon, 7), np.round(lat, 7)
    # edge points: exact vertices of shared grid edges, or points interpolated on them, in EPSG:4490
    grids = frames["grids"].geometry.values
    g_adj = face_adjacency(L["grid_polys"])
    shared_segments = []
    for a in sorted(g_adj):
        for b in sorted(g_adj[a]):
            if a < b:
                line = shapely.intersection(grids[a].boundary, grids[b].boundary)
                pieces = line_parts(line)
                if len(pieces) > 1:
                    pieces = line_parts(shapely.line_merge(MultiLineString(pieces)))
                for part in pieces:
                    c = np.asarray(part.coords)
                    for k in range(len(c) - 1):
                        shared_segments.append((c[k], c[k + 1], k > 0))
    seg_w = np.array([np.hypot(*(b - a)) for a, b, _ in shared_segments])
    edge_idx = np.flatnonzero(kind == "edge")
    pick = rng.choice(len(shared_segments), len(edge_idx), p=seg_w / seg_w.sum())
    for i, k in zip(edge_idx, pick, strict=True):
        a, b, inner = shared_segments[k]
        if inner and rng.random() < 0.5:
            lon[i], lat[i] = a  # a vertex shared by both grids
        else:
            tt = rng.uniform(0.05, 0.95)
            lon[i], lat[i] = a + tt * (b - a)  # on the shared edge, to floating-point precision
        # the working-CRS point (for reporter and description) follows the edge point
        xw, yw = TO_WORK.transform(lon[i], lat[i])
        df.loc[i, ["x", "y"]] = [xw - X0, yw - Y0]

    crs = np.where(rng.random(n) < 0.10, "wgs84", "gcj02")
    g = crs == "gcj02"
    glon, glat = wgs84_to_gcj02(lon[g], lat[g])
    lon, lat = lon.astype(float), lat.astype(float)
    lon[g], lat[g] = glon, glat
    normal = kind != "edge"
    lon[normal], lat[normal] = np.round(lon[normal], 6), np.round(lat[normal], 6)
    sw = kind == "swapped"
    lon[sw], lat[sw] = lat[sw].copy(), lon[sw].copy()

    # who reported: the patrol of the grid the point is in, a camera, the hotline, a resident
    xy = df[["x", "y"]].to_numpy()
    grid_of = L["grid_at"](xy)
    outside_pts = grid_of < 0
    if outside_pts.any():
        gtree = shapely.STRtree(L["grid_polys"])
        grid_of[outside_pts] = gtree.nearest(shapely.points(xy[outside_pts]))
    patrol = grid_of * 4 + rng.integers(0, 4, n) + 1
    reporter = np.where(
        df["source"] == 0,
        [f"P{p:03d}" for p in patrol],
        np.where(
            df["source"] == 1,
            "12345",
            np.where(
                df["source"] == 2,
                [f"C{c:03d}" for c in rng.integers(1, 151, n)],
                [f"M{m:05d}" for m in rng.integers(1, 3001, n)],
            ),
        ),
    )

    # description: a template with the nearest street's name
    seg_tree = shapely.STRtree(seg_arr)
    near = seg_tree.nearest(shapely.points(xy))
    road_name = np.array([roads[segs[k]["road"]]["name"] for k in near])
    tpl_pick = rng.random(n)
    nums = rng.integers(1, 1200, n)
    desc = [
        TEMPLATES[c][int(tp * len(TEMPLATES[c]))].format(road=r, no=no)
        for c, tp, r, no in zip(df["category"], tpl_pick, road_name, nums, strict=True)
    ]

    # severity: the list's default, now and then raised or lowered
    matter = {m[0]: m for m in MATTERS}
    base = np.array([matter[c][8] for c in df["category"]])
    r = rng.random(n)
    # (general matters raised to serious in 7 %, serious ones to urgent in 1.5 %: urgent cases
    # start red, so they stay a small share)
    raised = r < np.where(base == 1, 0.07, 0.015)
    severity = np.clip(base + raised - ((r > 0.97) & (base > 1)), 1, 3)

    # the closed loop, on the clocks the supervision reads it on (gridsvc.core.workflow and
    # services.cases.clock_for): grid-level matters in natural time (street teams work in
    # shifts), town and county matters in working hours on the holiday calendar; the grid
    # centre dispatches around the clock. Each step uses a share of its limit as scaled by
    # the case's colour when the step begins (red cases get a quarter of the time), and a
    # step past its limit climbs the colour, so the next step gets less time.
    work = np.zeros(len(days) * 1440, dtype=np.int64)
    for di, w in enumerate(days["workday"]):
        if w:
            for a, b in WORK_PERIODS_MIN:
                work[di * 1440 + a : di * 1440 + b] = 1
    cumw = np.concatenate([[0], np.cumsum(work)])

    def add_work_hours(start: np.ndarray, hours: np.ndarray) -> np.ndarray:
        m = start // 60
        target = cumw[m] + hours * 60.0
        idx = np.searchsorted(cumw, target, side="left")
        return np.maximum(idx * 60 + rng.integers(0, 60, len(start)), start + 60)

    def work_hours(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (cumw[b // 60] - cumw[a // 60]) / 60.0

    level = np.array([matter[c][6] for c in df["category"]])
    lim = np.array([matter[c][10] for c in df["category"]], dtype=float)
    natural = level == "grid"
    sec = df["sec"].to_numpy().astype(np.int64)
    colour = severity - 1  # 0 yellow, 1 orange, 2 red
    late_steps = np.zeros(n, dtype=np.int64)

    def share(median: float, sigma: float, tail: float) -> np.ndarray:
        """The share of its limit a step uses: lognormal, with a rare slow tail."""
        u = rng.lognormal(np.log(median), sigma, n)
        return u * np.where(rng.random(n) < tail, rng.uniform(1.5, 4.0, n), 1.0)

    def step(start: np.ndarray, limit_col: int, u: np.ndarray, clock_natural: np.ndarray):
        nonlocal colour, late_steps
        limit = lim[:, limit_col] * COLOUR_FACTOR[colour]
        hours = u * limit
        nat = start + np.maximum((hours * 3600).astype(np.int64), 30)
        end = np.where(clock_natural, nat, add_work_hours(start, hours))
        used = np.where(natural, (end - start) / 3600.0, work_hours(start, end))
        late = used > limit
        late_steps = late_steps + late
        colour = np.minimum(colour + late, 2)
        return end

    everywhere = np.ones(n, dtype=bool)
    dispatched = step(sec, 0, share(*STEP_SHARE["dispatch"]), everywhere)
    accepted = step(dispatched, 1, share(*STEP_SHARE["accept"]), natural)
    # a few cases get stuck in the handling (an owner away, parts to order, a dispute) for
    # about the whole loop's time or more: late at that step, and most of them closed late
    loop = (lim.sum(axis=1) + lim[:, 3]) * COLOUR_FACTOR[severity - 1]
    stuck = rng.random(n) < STUCK_SHARE
    stuck_u = loop / (lim[:, 2] * COLOUR_FACTOR[colour]) * rng.uniform(0.7, 2.2, n)
    handled = step(accepted, 2, np.where(stuck, stuck_u, share(*STEP_SHARE["handle"])), natural)
    # rework (返工): a check finds the work not done, it is done again; the handling the
    # supervision sees ends with the second one, and the closure follows it
    reopened = rng.random(n) < np.where(
        np.isin(df["category"], ["CG01", "CG08", "CG22", "CG34"]), REOPEN_SHARE[1], REOPEN_SHARE[0]
    )
    check = rng.lognormal(np.log(0.05), 0.5, n) * lim[:, 3]
    again = rng.lognormal(np.log(0.12), 0.5, n) * lim[:, 2] * COLOUR_FACTOR[colour]
    handled = np.where(reopened, handled + ((check + again) * 3600).astype(np.int64), handled)
    closed = step(handled, 3, share(*STEP_SHARE["verify"]), natural)
    # a few escalated county matters of the last two months still wait for the county's answer
    waiting = (level == "county") & (sec > CUTOFF_S - 60 * 86400) & (rng.random(n) < 0.1)
    closed = np.where(waiting, np.iinfo(np.int64).max, closed)

    def stamp(s: np.ndarray) -> list[str]:
        ok = s <= CUTOFF_S
        ts = START + pd.to_timedelta(np.where(ok, s, 0), unit="s")
        txt = ts.strftime("%Y-%m-%dT%H:%M:%S+08:00")
        return [x if o else "" for x, o in zip(txt, ok, strict=True)]

    reported_at = stamp(sec)
    dispatched_at = stamp(dispatched)
    accepted_at = stamp(np.where(waiting & (rng.random(n) < 0.3), np.iinfo(np.int64).max, accepted))
    handled_s = np.where(
        waiting & np.array([a == "" for a in accepted_at]) | (waiting & (rng.random(n) < 0.6)),
        np.iinfo(np.int64).max,
        handled,
    )
    handled_at = stamp(handled_s)
    closed_at = stamp(closed)
    reopened = reopened & np.array([c != "" for c in closed_at])
    status = np.where(np.array([c == "" for c in closed_at]), "open", "closed")

    dates = [r[:10].replace("-", "") for r in reported_at]
    seq: Counter = Counter()
    ids = []
    for d in dates:
        seq[d] += 1
        ids.append(f"R{d}{seq[d]:05d}")

    return pd.DataFrame(
        {
            "report_id": ids,
            "reported_at": reported_at,
            "category": df["category"],
            "lon": lon,
            "lat": lat,
            "crs": crs,
            "description": desc,
            "reporter": reporter,
            "source": [SOURCES[s] for s in df["source"]],
            "severity": severity,
            "status": status,
            "dispatched_at": dispatched_at,
            "accepted_at": accepted_at,
            "handled_at": handled_at,
            "closed_at": closed_at,
            "reopened": reopened.astype(int),
        }
    ), kind


# --------------------------------------------------------------------------
# 8. tables and main
# --------------------------------------------------------------------------

STAFFING = [
    "5+1+X: 城管执法队员5名, 社区民警1名, 市容协管员{a}名, 房管员{b}名, 环卫作业人员{c}名",
]


def write_tables(L: dict, roads: list[dict]) -> dict[str, pd.DataFrame]:
    teams = pd.DataFrame(
        {
            "code": L["team_code"],
            "name": [f"{n}街区工作站" for n in L["team_names"]],
            "name_en": [f"{pinyin_of_stem(n, roads)} Street Workstation" for n in L["team_names"]],
            "grids": [";".join(L["grid_code"][g] for g in gs) for gs in L["team_grids"]],
            "staffing": [
                STAFFING[0].format(
                    a=2 + len(gs), b=1 + (len(gs) > 2), c=3 * len(gs) + int(rng.integers(0, 3))
                )
                for gs in L["team_grids"]
            ],
        }
    )
    departments = pd.DataFrame(
        DEPARTMENTS, columns=["code", "name", "name_en", "kind", "level", "group"]
    )
    groups = pd.DataFrame(GROUPS, columns=["code", "name", "name_en", "lead_department"])
    rl = pd.DataFrame(
        [
            {
                "code": m[0],
                "name": m[1],
                "name_en": m[2],
                "field": FIELDS[m[3]][0],
                "field_en": FIELDS[m[3]][1],
                "primary_department": m[4],
                "cooperating_departments": m[5],
                "level": m[6],
                "group": m[7],
                "default_severity": m[8],
                "allow_outside": m[9],
                "limit_dispatch_h": m[10][0],
                "limit_accept_h": m[10][1],
                "limit_handle_h": m[10][2],
                "limit_verify_h": m[10][3],
                "season": m[11],
            }
            for m in MATTERS
        ]
    )
    holidays = pd.DataFrame(sorted(HOLIDAYS), columns=["date", "name", "is_workday"])
    # consistency of the organisation tables
    dept = set(departments["code"])
    assert set(groups["lead_department"]) <= dept
    assert set(rl["primary_department"]) <= dept
    assert all(set(c.split(";")) <= dept for c in rl["cooperating_departments"])
    assert set(rl["group"]) <= set(groups["code"])
    assert set(departments["group"]) - {""} <= set(groups["code"])
    assert rl["field"].nunique() == 10 and len(rl) >= 34
    assert holidays["date"].is_unique
    return {
        "teams": teams,
        "departments": departments,
        "groups": groups,
        "responsibility_list": rl,
        "holidays": holidays,
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    t = build_territory()
    g = group_territory(t)
    L = build_layers(t, g)
    frames = write_geopackage(t, L, OUT / "shifan.gpkg")
    tables = write_tables(L, t["roads"])
    days = calendar_days()
    reports, kind = make_reports(t, L, frames, days)
    tables["reports"] = reports
    for name, df in tables.items():
        df.to_csv(OUT / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")

    assert 300 <= len(frames["streets"]) <= 600, len(frames["streets"])
    assert len(frames["grids"]) == N_GRIDS and len(frames["units"]) == N_UNITS
    assert len(tables["teams"]) == N_TEAMS and len(reports) >= 20_000
    assert all(2 <= len(gs.split(";")) <= 3 for gs in tables["teams"]["grids"])

    # ---- summary
    seg = len(frames["streets"])
    cell_a = np.array([c.area for c in L["cells"]])
    print("示范镇 Shifan demo town written to", OUT.relative_to(ROOT))
    print(f"  jurisdiction area      {L['town'].area / 1e6:.3f} km² (EPSG:{WORK_EPSG})")
    for name, polys in (
        ("units", L["unit_polys"]),
        ("grids", L["grid_polys"]),
        ("committees", L["comm_polys"]),
    ):
        a = np.array([p.area for p in polys]) / 1e6
        print(
            f"  {name:<11} {len(polys):>5}  area km² min {a.min():.3f} median {np.median(a):.3f} max {a.max():.3f}"
        )
    print(
        f"  cells       {len(L['cells']):>5}  area m² min {cell_a.min():,.0f} median {np.median(cell_a):,.0f} "
        f"max {cell_a.max():,.0f}"
    )
    rc = frames["streets"]["road_class"].value_counts()
    print(
        f"  street segments {seg} ({', '.join(f'{k} {v}' for k, v in rc.items())}), "
        f"{frames['streets']['name'].nunique()} named roads, "
        f"{frames['streets'].to_crs(WORK_EPSG).length.sum() / 1000:.1f} km"
    )
    print(
        f"  teams {len(tables['teams'])}, departments {len(tables['departments'])}, groups {len(tables['groups'])}, "
        f"matters {len(tables['responsibility_list'])}, holiday rows {len(tables['holidays'])}, "
        f"pois {len(frames['pois'])}"
    )
    st = reports["status"].value_counts()
    print(
        f"  reports {len(reports)} ({', '.join(f'{k} {v}' for k, v in st.items())}; "
        f"crs wgs84 {int((reports['crs'] == 'wgs84').sum())}; on grid edges {int((kind == 'edge').sum())}, "
        f"outside {int((kind == 'outside').sum())}, lon/lat swapped {int((kind == 'swapped').sum())}; "
        f"reopened {int(reports['reopened'].sum())})"
    )
    size = sum(f.stat().st_size for f in OUT.iterdir()) / 1e6
    print(f"  data/demo size {size:.1f} MB")


if __name__ == "__main__":
    main()
