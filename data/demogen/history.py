"""A year of historical reports (reports.csv): where and when each arose, who reported
it, and the closed loop's timestamps on the clocks the supervision reads them on."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiLineString, Polygon

from gridsvc.core.crs import wgs84_to_gcj02

from .frame import TO_STORAGE, TO_WORK, X0, Y0
from .geometry import face_adjacency, line_parts
from .profiles import GEN, TEMPLATES, day_weights, hour_profile
from .responsibility import MATTERS
from .workdays import CUTOFF_S, N_DAYS, START, WORK_PERIODS_MIN

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


@dataclass
class HistorySpec:
    """How one town's year of reports differs from another's."""

    n_reports: int = 24_000
    step_share: dict[str, tuple[float, float, float]] = field(default_factory=lambda: STEP_SHARE)
    stuck: float = STUCK_SHARE
    reopen: tuple[float, float] = REOPEN_SHARE
    #: the 走马塘 river runs along the town's north edge (else river matters arise anywhere)
    river: bool = True
    #: "outside" anomalies must lie outside this (a district: not in a neighbouring town)
    outside_of: Polygon | None = None
    #: patrols and cameras of the towns before this one in the district
    patrol_offset: int = 0
    camera_offset: int = 0


def make_reports(
    t: dict,
    L: dict,
    frames: dict[str, gpd.GeoDataFrame],
    days: pd.DataFrame,
    rng: np.random.Generator,
    h: HistorySpec,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The town's reports and each one's anomaly kind (normal, outside, edge, swapped)."""
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
            return sample_river(n) if h.river else sample_area(n, 0.0)
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
    counts = rng.multinomial(h.n_reports, weights / weights.sum())
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
    if h.outside_of is not None:  # in a neighbouring town: left where it was, normal
        far = ~shapely.contains_xy(h.outside_of, q[:, 0], q[:, 1])
        kind[out_idx[~far]] = "normal"
        out_idx, q = out_idx[far], q[far]
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
    patrol = grid_of * 4 + rng.integers(0, 4, n) + 1 + h.patrol_offset
    reporter = np.where(
        df["source"] == 0,
        [f"P{p:03d}" for p in patrol],
        np.where(
            df["source"] == 1,
            "12345",
            np.where(
                df["source"] == 2,
                [f"C{c:03d}" for c in rng.integers(1, 151, n) + h.camera_offset],
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
    dispatched = step(sec, 0, share(*h.step_share["dispatch"]), everywhere)
    accepted = step(dispatched, 1, share(*h.step_share["accept"]), natural)
    # a few cases get stuck in the handling (an owner away, parts to order, a dispute) for
    # about the whole loop's time or more: late at that step, and most of them closed late
    loop = (lim.sum(axis=1) + lim[:, 3]) * COLOUR_FACTOR[severity - 1]
    stuck = rng.random(n) < h.stuck
    stuck_u = loop / (lim[:, 2] * COLOUR_FACTOR[colour]) * rng.uniform(0.7, 2.2, n)
    handled = step(accepted, 2, np.where(stuck, stuck_u, share(*h.step_share["handle"])), natural)
    # rework (返工): a check finds the work not done, it is done again; the handling the
    # supervision sees ends with the second one, and the closure follows it
    reopened = rng.random(n) < np.where(
        np.isin(df["category"], ["CG01", "CG08", "CG22", "CG34"]), h.reopen[1], h.reopen[0]
    )
    check = rng.lognormal(np.log(0.05), 0.5, n) * lim[:, 3]
    again = rng.lognormal(np.log(0.12), 0.5, n) * lim[:, 2] * COLOUR_FACTOR[colour]
    handled = np.where(reopened, handled + ((check + again) * 3600).astype(np.int64), handled)
    closed = step(handled, 3, share(*h.step_share["verify"]), natural)
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
