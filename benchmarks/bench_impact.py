"""Impact-preview benchmark: re-matching 1,000,000 cases after a redraw of a 20,000-grid city.

Run with ``make bench`` (or ``python benchmarks/bench_impact.py [--small]``).
The redraw reassigns the team of every 20th grid and merges 500 pairs of
neighbouring grids, as a district-wide redraw would. It times, in one run:
building the draft's matcher, re-matching every case under it (the bulk
matcher, what ``Planning.impact`` uses), finding the cases that move, and the
same re-match with ``geopandas.sjoin``. Target: the re-match under 5 s.
Then the whole request as the service runs it: the cases are put in a SQLite
database (as open cases of the last 90 days) and ``Planning.impact`` is timed
from the database read to the JSON answer's bytes, and ``Planning.publish``
(validation, impact, the switch and every reassignment) after it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic_city import build_city  # noqa: E402

from gridsvc.core.crs import CGCS2000  # noqa: E402
from gridsvc.core.layers import Layer, LayerKind  # noqa: E402
from gridsvc.core.matching import Matcher  # noqa: E402
from gridsvc.core.redraw import rematch, unchanged_map  # noqa: E402


def redraw(grids: gpd.GeoDataFrame, merges: int) -> gpd.GeoDataFrame:
    """Every 20th grid changes team; ``merges`` grids absorb a touching neighbour."""
    out = grids.copy()
    out.loc[out.index % 20 == 0, "team"] = "T-NEW"
    tree = shapely.STRtree(out.geometry.values)
    taken: set[int] = set()
    geoms = out.geometry.values.copy()
    drop = []
    for i in range(0, len(out), max(len(out) // merges, 1)):
        if i in taken:
            continue
        near = [j for j in tree.query(geoms[i], predicate="touches") if j != i and j not in taken]
        if not near:
            continue
        j = int(near[0])
        geoms[i] = shapely.coverage_union_all([geoms[i], geoms[j]])
        taken |= {i, j}
        drop.append(j)
    out["geometry"] = geoms
    return out.drop(index=drop).reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="2,000 grids and 100,000 cases")
    args = parser.parse_args()
    scale = 10 if args.small else 1
    city = build_city(grids=20_000 // scale, streets=1_000, points=1_000_000 // scale)
    current = Matcher(Layer(LayerKind.GRIDS, city.grids))
    before = current.grids.locator.locate(city.lon, city.lat)
    old_codes = city.grids["code"].to_numpy()[before.clip(0)]
    old_teams = city.grids["team"].to_numpy()[before.clip(0)]

    start = time.perf_counter()
    draft = redraw(city.grids, 500 // scale)
    t_redraw = time.perf_counter() - start

    start = time.perf_counter()
    same = unchanged_map(
        city.grids["code"], city.grids.geometry.values, draft["code"], draft.geometry.values
    )
    incremental = rematch(before, city.lon, city.lat, same, draft["code"], draft.geometry.values)
    t_incremental = time.perf_counter() - start

    start = time.perf_counter()
    matcher = Matcher(Layer(LayerKind.GRIDS, draft))
    t_build = time.perf_counter() - start
    start = time.perf_counter()
    after = matcher.grids.locator.locate(city.lon, city.lat)
    t_match = time.perf_counter() - start
    start = time.perf_counter()
    new_codes = draft["code"].to_numpy()[after.clip(0)]
    new_teams = draft["team"].to_numpy()[after.clip(0)]
    inside = (before >= 0) & (after >= 0)
    moved = inside & ((old_codes != new_codes) | (old_teams != new_teams))
    per_grid = pd.Series(new_codes[inside]).value_counts()
    t_diff = time.perf_counter() - start

    start = time.perf_counter()
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(city.lon, city.lat), crs=CGCS2000)
    joined = gpd.sjoin(points, draft[["code", "team", "geometry"]], predicate="within", how="left")
    t_sjoin = time.perf_counter() - start
    joined = joined[~joined.index.duplicated()]
    agree = np.mean(joined["code"].fillna("").to_numpy()[inside] == new_codes[inside])

    n = city.lon.size
    print(
        f"[impact] {len(city.grids):,} grids redrawn to {len(draft):,} ({t_redraw:.1f} s to draw), {n:,} cases"
    )
    differ = int((incremental != after).sum())
    print(
        f"  incremental re-match       {t_incremental:7.2f} s   (only points in changed grids; "
        f"{differ} disagreements with a full re-match)"
    )
    print(f"  draft index built          {t_build:7.2f} s")
    print(f"  re-match under the draft   {t_match:7.2f} s   ({n / t_match:,.0f} cases/s)")
    print(
        f"  diff (moved, per grid)     {t_diff:7.2f} s   ({int(moved.sum()):,} cases move, {len(per_grid):,} grids)"
    )
    print(f"  build + re-match + diff    {t_build + t_match + t_diff:7.2f} s")
    print(
        f"  geopandas.sjoin re-match   {t_sjoin:7.2f} s   (ratio {t_sjoin / t_match:.1f}×, agreement {agree:.6f})"
    )
    print(
        f"target: re-match of {n:,} cases under 5 s (incremental {t_incremental:.2f} s; "
        f"full index {t_build + t_match:.2f} s incl. build)"
    )
    whole_request(city, draft)


def whole_request(city, draft: gpd.GeoDataFrame) -> None:  # type: ignore[no-untyped-def]
    """Planning.impact over a database holding every case: read, re-match, diff, workload, JSON."""
    import shutil
    import sqlite3
    import tempfile
    from datetime import UTC, datetime, timedelta

    import orjson

    from gridsvc.services.planning import Planning
    from gridsvc.store import reference
    from gridsvc.store.engine import make_engine, upgrade

    folder = Path(tempfile.mkdtemp(prefix="bench-impact-"))
    url = f"sqlite:///{folder / 'g.db'}"
    upgrade(url)
    engine = make_engine(url)
    start = time.perf_counter()
    with engine.begin() as conn:
        reference.publish_layer(conn, Layer(LayerKind.GRIDS, city.grids), "city")
        draft_id = reference.add_draft(
            conn, Layer(LayerKind.GRIDS, draft), "redraw", datetime.now(UTC)
        )
    locator = Matcher(Layer(LayerKind.GRIDS, city.grids)).grids.locator
    index = locator.locate(city.lon, city.lat)
    codes = city.grids["code"].to_numpy()[index.clip(0)]
    teams = city.grids["team"].to_numpy()[index.clip(0)]
    recent = (datetime.now(UTC) - timedelta(days=30)).isoformat(sep=" ")
    rows = (
        (f"B{i:07d}", "dispatched", recent, 1, "CG01", "", 1, "yellow", "patrol", "", "",
         recent, recent, float(x), float(y), float(x), float(y), "cgcs2000", b"",
         str(c) if k >= 0 else None, str(t) if k >= 0 else None, "grid", "D01", "[]", 0, "{}")
        for i, (x, y, c, t, k) in enumerate(zip(city.lon, city.lat, codes, teams, index, strict=True))
    )  # fmt: skip
    db = sqlite3.connect(folder / "g.db")
    db.executemany(
        "INSERT INTO cases (number, status, status_since, version, category, description, "
        "severity, colour, source, reporter, address, created_at, updated_at, lon, lat, raw_lon, "
        "raw_lat, raw_crs, geom_wkb, grid_code, team, level, department, cooperating, "
        "reopen_count, layer_versions) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    db.commit()
    db.close()
    print(f"  database of {city.lon.size:,} cases written in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    impact = Planning(engine).impact(LayerKind.GRIDS, draft_id)
    t_impact = time.perf_counter() - start
    start = time.perf_counter()
    body = orjson.dumps(impact, option=orjson.OPT_SERIALIZE_NUMPY)
    t_json = time.perf_counter() - start
    print(
        f"  whole impact request       {t_impact + t_json:7.2f} s   (Planning.impact {t_impact:.2f} s "
        f"+ JSON {t_json:.2f} s; {impact['cases_checked']:,} cases read, "
        f"{len(impact['moved_cases']):,} move, {len(body) / 1e6:.1f} MB answer)"
    )
    with engine.connect() as conn:
        active = reference.active_versions(conn)[LayerKind.GRIDS]
    start = time.perf_counter()
    published = Planning(engine).publish(LayerKind.GRIDS, draft_id, draft_id, active)
    t_publish = time.perf_counter() - start
    print(
        f"  publish                    {t_publish:7.2f} s   (validation, impact again, switch and "
        f"{published['reassigned']:,} open cases reassigned with an event each, one transaction)"
    )
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
