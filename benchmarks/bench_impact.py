"""Impact-preview benchmark: re-matching 1,000,000 cases after a redraw of a 20,000-grid city.

Run with ``make bench`` (or ``python benchmarks/bench_impact.py [--small]``).
The redraw reassigns the team of every 20th grid and merges 500 pairs of
neighbouring grids, as a district-wide redraw would. It times, in one run:
building the draft's matcher, re-matching every case under it (the bulk
matcher, what ``Planning.impact`` uses), finding the cases that move, and the
same re-match with ``geopandas.sjoin``. Target: the re-match under 5 s.
What is not measured here yet: reading the cases from the database and the
HTTP answer around it.
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


if __name__ == "__main__":
    main()
