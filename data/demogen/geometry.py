"""Small geometry helpers in local metres, and the region growing that groups faces."""

from __future__ import annotations

import heapq
import math
from collections import defaultdict

import numpy as np
import shapely
from shapely import ops
from shapely.geometry import LineString, Polygon

#: streets overshoot the street they end on, then get pruned
OVERSHOOT_M = 0.5
#: faces smaller than this are merged into a neighbour
SLIVER_M2 = 1_500.0


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
        # Lloyd: move each seed to the block nearest its region's centre (a seed whose
        # region another took whole stays where it is)
        cs = np.array(
            [
                np.average(
                    [xy[n] for n in ids if label[n] == r],
                    axis=0,
                    weights=[area[n] for n in ids if label[n] == r],
                )
                if any(label[n] == r for n in ids)
                else xy[seeds[r]]
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
