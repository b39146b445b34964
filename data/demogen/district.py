"""data/demo-district: 示范区 (310106), three towns that tile it, a year of history in each.

示范镇 is built exactly as in data/demo. 示西镇 lies west of it, 示南镇 south (and
south-west); nothing lies east, so points east of 示范镇 stay outside the district. A
neighbour's outline walks 示范镇's outline vertex by vertex, its main roads continue
示范镇's from the very vertices where they leave it, and its local streets and lanes keep
off every shared edge: the towns, and every level below them, form one exact coverage.
The towns differ on purpose: 示西镇 is slow (more overdue), 示南镇 reworks much.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Polygon

from .frame import COUNTY_CODE, ROOT, SEED, STORAGE_EPSG, to_storage
from .history import STEP_SHARE, HistorySpec, make_reports
from .organisation import organisation_tables, teams_table
from .responsibility import responsibility_table
from .roads import stem_of
from .shifan import shifan
from .storage import DISTRICT_LEVELS, write_geopackage
from .territory import TownSpec
from .town import build_town, write_csv
from .workdays import calendar_days, holidays_table

OUT = ROOT / "data" / "demo-district"
#: 示范镇's outline (clockwise): the west edge runs from vertex A up to B, the south edge
#: from C west to A
A, B, C = 197, 218, 168
#: the shared edge of 示西镇 and 示南镇, from A west; the roads crossing it pass its vertices
WS_EDGE = [(-2300.0, -795.0), (-3300.0, -800.0), (-4150.0, -790.0)]


def _road(name: str, stem: str, cls: str, pts) -> dict:
    return {"name": name, "stem": stem, "class": cls, "geom": LineString(pts)}


def _exit(ring: np.ndarray, i: int, road: LineString) -> tuple[float, float]:
    """示范镇's outline vertex ``i``, checked to be where ``road`` leaves the town."""
    assert road.distance(shapely.Point(ring[i])) < 1e-6, i
    return tuple(ring[i])


def neighbours(town: Polygon, shifan_roads: list[dict]) -> tuple[TownSpec, TownSpec]:
    """示西镇 and 示南镇, drawn around 示范镇's outline ``town`` (local metres)."""
    ring = np.asarray(town.exterior.coords)[:-1]
    assert not town.exterior.is_ccw
    road = {r["name"]: r["geom"] for r in shifan_roads}
    a = tuple(ring[A])
    west_outer = [(-1700, 1450), (-2600, 1600), (-3500, 1500), (-4200, 1350), (-4250, 300)]
    west = Polygon([*map(tuple, ring[A : B + 1]), *west_outer, *WS_EDGE[::-1]])
    south_outer = [(-4250, -1800), (-4100, -2750), (-1500, -2850), (850, -2750)]
    south = Polygon([*map(tuple, ring[C : A + 1]), *WS_EDGE, *south_outer])
    assert west.is_valid and south.is_valid
    assert west.intersection(town).area < 1e-6 and south.intersection(west).area < 1e-6
    west_roads = [
        _road(
            "汶水路",
            "Wenshui",
            "arterial",
            [_exit(ring, 208, road["汶水路"]), (-2600, 590), (-4500, 560)],
        ),
        _road(
            "广中西路",
            "Guangzhong",
            "arterial",
            [_exit(ring, 198, road["广中西路"]), (-2600, -600), (-4500, -560)],
        ),
        _road(
            "场中路",
            "Changzhong",
            "secondary",
            [_exit(ring, 203, road["场中路"]), (-2600, -60), (-4500, -80)],
        ),
        _road("华西路", "Huaxi", "secondary", [WS_EDGE[0], (-2330, 400), (-2350, 1800)]),
        _road("宁西路", "Ningxi", "secondary", [WS_EDGE[1], (-3280, 500), (-3250, 1800)]),
        _road("康西路", "Kangxi", "secondary", [(-1750, 1150), (-3000, 1120), (-4500, 1160)]),
    ]
    south_roads = [
        _road(
            "共和新路",
            "Gonghe",
            "arterial",
            [_exit(ring, 180, road["共和新路"]), (-470, -2600), (-465, -3000)],
        ),
        _road(
            "共康路",
            "Gongkang",
            "secondary",
            [_exit(ring, 188, road["共康路"]), (-1125, -2000), (-1120, -3000)],
        ),
        _road(
            "沪太路",
            "Hutai",
            "arterial",
            [_exit(ring, 169, road["沪太路"]), (1500, -2600), (1700, -2950)],
        ),
        _road("华西路", "Huaxi", "secondary", [WS_EDGE[0], (-2280, -3000)]),
        _road("宁西路", "Ningxi", "secondary", [WS_EDGE[1], (-3320, -3000)]),
        _road("南场路", "Nanchang", "secondary", [(-4500, -1950), (-1500, -1900), (1300, -1980)]),
    ]
    assert WS_EDGE[-1] != a
    west_spec = TownSpec(
        code=f"{COUNTY_CODE}114",
        name="示西镇",
        name_en="Shixi",
        boundary=west,
        major_roads=west_roads,
        n_grids=12,
        n_committees=18,
        metro=("汶水路", ("华西路", "宁西路")),
        markets=((-2800, 1000), (-3500, 0), (-2200, -300)),
        fallback=("西园", "西苑", "西城", "西林", "西桥", "西华"),
    )
    south_spec = TownSpec(
        code=f"{COUNTY_CODE}115",
        name="示南镇",
        name_en="Shinan",
        boundary=south,
        major_roads=south_roads,
        n_grids=12,
        n_committees=18,
        metro=("共和新路", ("南场路",)),
        markets=((-3500, -1500), (-1800, -2300), (0, -2100)),
        fallback=("南园", "南苑", "南城", "南林", "南桥", "南华"),
    )
    return west_spec, south_spec


#: 示西镇: every step takes about twice its share of the limit, and more get stuck
SLOW = {k: (min(m * 2.6, 0.9), s, 0.03) for k, (m, s, _) in STEP_SHARE.items()}
HISTORY = {
    "310106113": HistorySpec(n_reports=10_000),
    "310106114": HistorySpec(n_reports=8_000, step_share=SLOW, stuck=0.09, river=False),
    "310106115": HistorySpec(n_reports=8_000, reopen=(0.22, 0.32), river=False),
}


def write_district(out: Path = OUT) -> None:
    """Generate data/demo-district (or ``out``) and print one line per town."""
    out.mkdir(parents=True, exist_ok=True)
    specs = [shifan()]
    built, teams, taken = [], [], set()
    first_team, patrols, shared = 1, 0, None
    days = calendar_days()
    rngs = [np.random.default_rng(SEED + k) for k in range(3)]
    for k in range(3):
        spec = specs[k]
        spec.taken, spec.first_team = set(taken), first_team
        t, L, frames = build_town(spec, rngs[k], shared)
        built.append((spec, t, L, frames))
        teams.append(teams_table(L, t["roads"], rngs[k]))
        taken |= {stem_of(r["name"]) for r in t["roads"]}
        first_team += len(L["team_code"])
        if k == 0:
            specs.extend(neighbours(L["town"], t["roads"]))
        if k < 2:  # the next town keeps off every edge it shares with another town
            nxt = specs[k + 1]
            shared = shapely.union_all(
                [
                    shapely.intersection(nxt.boundary.exterior, o.boundary.exterior)
                    for o in specs
                    if o is not nxt
                ]
            )
    towns = [b[2]["town"] for b in built]
    bad = shapely.coverage_invalid_edges(np.array(towns, dtype=object))
    assert shapely.coverage_is_valid(np.array(towns, dtype=object)), [str(e)[:300] for e in bad]
    district = shapely.coverage_union_all(towns)
    assert district.geom_type == "Polygon"
    reports = []
    for spec, t, L, frames in built:
        h = HISTORY[spec.code]
        h.outside_of, h.patrol_offset = district, patrols
        h.camera_offset = 150 * len(reports)
        df, _ = make_reports(t, L, frames, days, rngs[len(reports)], h)
        reports.append(df)
        patrols += 4 * spec.n_grids
    frames = _district_frames(district, built)
    write_geopackage(frames, out / "shifan.gpkg", DISTRICT_LEVELS)
    tables = {"teams": pd.concat(teams, ignore_index=True), **organisation_tables()}
    tables["responsibility_list"] = responsibility_table(tables["departments"], tables["groups"])
    tables["holidays"] = holidays_table()
    tables["reports"] = _renumbered(reports)
    write_csv(tables, out)
    print("示范区 Shifan demo district written to", out)
    for (spec, _, L, _), df in zip(built, reports, strict=True):
        print(
            f"  {spec.code} {spec.name}: {L['town'].area / 1e6:.2f} km², {len(L['grid_code'])} grids, "
            f"{len(df)} reports, reopened {int(df['reopened'].sum())}"
        )
    size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    print(f"  {out.name} size {size:.1f} MB")


def _district_frames(district: Polygon, built: list) -> dict[str, gpd.GeoDataFrame]:
    """The district's layers: 示范区, its towns (each town's jurisdiction row), and every
    town's units, grids, committees, cells, streets and POIs together."""
    crs = f"EPSG:{STORAGE_EPSG}"
    frames = {
        "jurisdiction": gpd.GeoDataFrame(
            {
                "code": [COUNTY_CODE],
                "name": ["示范区"],
                "name_en": ["Shifan District"],
                "parent_code": ["310100"],
            },
            geometry=to_storage([district]),
            crs=crs,
        )
    }
    frames["towns"] = pd.concat([b[3]["jurisdiction"] for b in built], ignore_index=True)
    for name in ("units", "grids", "committees", "cells", "streets", "pois"):
        frames[name] = pd.concat([b[3][name] for b in built], ignore_index=True)
    return frames


def _renumbered(reports: list[pd.DataFrame]) -> pd.DataFrame:
    """All towns' reports in the order they came in, ids R<date><seq> across the district."""
    df = pd.concat(reports, ignore_index=True)
    df = df.sort_values("reported_at", kind="stable").reset_index(drop=True)
    seq = df.groupby(df["reported_at"].str[:10]).cumcount() + 1
    df["report_id"] = [
        f"R{d[:10].replace('-', '')}{s:05d}" for d, s in zip(df["reported_at"], seq, strict=True)
    ]
    return df
