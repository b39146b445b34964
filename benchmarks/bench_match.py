"""Bulk matching benchmark: gridsvc against geopandas.sjoin / sjoin_nearest, same run, same data.

Run with ``make bench`` (or ``python benchmarks/bench_match.py [--small]``).
For the demo town and for a synthetic city of 20,000 grids, 50,000 street
segments and 1,000,000 points it prints points/s for

* point → grid: ``PolygonLocator.locate`` from raw lon/lat arrays, against
  ``geopandas.sjoin(predicate="within")`` from the same arrays (GeoSeries
  creation included, as a user would have to); sjoin is run twice and the
  faster (warm) run is the baseline;
* nearest street within 50 m: projection + ``StreetIndex.nearest`` against
  projection + ``geopandas.sjoin_nearest(max_distance=50)``;
* the whole ``Matcher.match_points`` (grid, unit, committee, street, outside
  distances) against a bare ``sjoin(within)`` of the same points, the cost of a
  point in no grid (the outside search), and a single ``match_point`` call;

with the ratios, the disagreements with geopandas (ties on shared edges and
equidistant streets are counted apart: sjoin's "within" leaves a point on an
edge unmatched, and sjoin_nearest returns all tied streets), the build times
and the memory of the lookup tables.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic_city import build_city  # noqa: E402

from gridsvc.config import Settings  # noqa: E402
from gridsvc.core.crs import CGCS2000, transformer  # noqa: E402
from gridsvc.core.layers import Layer, LayerKind  # noqa: E402
from gridsvc.core.matching import Matcher  # noqa: E402
from gridsvc.town import load_town_file  # noqa: E402

RADIUS_M = 50.0


def timed(func: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6


def sjoin_grid(grids: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=CGCS2000)
    joined = gpd.sjoin(points, grids[["geometry"]], predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    return joined["index_right"].fillna(-1).astype(np.int64).to_numpy()


def sjoin_street(
    streets_m: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray, epsg: int
) -> tuple[np.ndarray, np.ndarray]:
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=CGCS2000).to_crs(epsg)
    joined = gpd.sjoin_nearest(
        points, streets_m[["geometry"]], max_distance=RADIUS_M, how="left", distance_col="d"
    )
    joined = joined[~joined.index.duplicated()]
    return joined["index_right"].fillna(-1).astype(np.int64).to_numpy(), joined["d"].to_numpy()


def grid_section(
    name: str, matcher: Matcher, grids: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray
) -> dict[str, float]:
    locator = matcher.grids.locator
    t_ours, ours = timed(lambda: locator.locate(lon, lat), repeat=3)
    t_cold, theirs = timed(lambda: sjoin_grid(grids, lon, lat))
    t_warm, theirs = timed(lambda: sjoin_grid(grids, lon, lat))
    t_sjoin = min(t_cold, t_warm)
    differ = np.flatnonzero(ours != theirs)
    on_edge = _edge_ties(locator.polygons, lon[differ], lat[differ])
    n = lon.size
    print(f"[{name}] point → grid, {n:,} points, {len(grids):,} grids")
    print(f"  gridsvc locate        {n / t_ours:>14,.0f} points/s  ({t_ours:.3f} s)")
    print(
        f"  geopandas.sjoin       {n / t_sjoin:>14,.0f} points/s  ({t_sjoin:.3f} s; cold run {t_cold:.3f} s)"
    )
    print(f"  ratio                 {t_sjoin / t_ours:>14.1f} ×")
    print(
        f"  disagreements         {differ.size - on_edge:>14,d}  (+ {on_edge} points on shared edges: documented tie rule)"
    )
    return {"grid_ratio": t_sjoin / t_ours, "grid_disagree": differ.size - on_edge}


def _edge_ties(polygons: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> int:
    """Points lying on some polygon boundary (sjoin 'within' leaves them unmatched)."""
    if lon.size == 0:
        return 0
    pts = shapely.points(lon, lat)
    tree = shapely.STRtree(shapely.boundary(polygons))
    return int(np.unique(tree.query(pts, predicate="intersects")[0]).size)


def street_section(
    name: str, matcher: Matcher, streets: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray
) -> dict[str, float]:
    index = matcher._streets
    assert index is not None
    to_work = transformer(CGCS2000, f"EPSG:{matcher.work_epsg}")

    def ours() -> tuple[np.ndarray, np.ndarray]:
        return index.nearest(*to_work.transform(lon, lat))

    t_ours, (best, dist) = timed(ours, repeat=3)
    streets_m = streets.to_crs(matcher.work_epsg)
    t_sj, (theirs, their_d) = timed(lambda: sjoin_street(streets_m, lon, lat, matcher.work_epsg))
    differ = best != theirs
    tie = differ & np.isclose(dist, their_d, rtol=0, atol=1e-6)
    n = lon.size
    print(f"[{name}] nearest street within {RADIUS_M:.0f} m, {len(streets):,} segments")
    print(
        f"  gridsvc nearest       {n / t_ours:>14,.0f} points/s  ({t_ours:.3f} s, projection included)"
    )
    print(f"  geopandas.sjoin_nearest {n / t_sj:>12,.0f} points/s  ({t_sj:.3f} s)")
    print(f"  ratio                 {t_sj / t_ours:>14.1f} ×")
    print(
        f"  disagreements         {int((differ & ~tie).sum()):>14,d}  (+ {int(tie.sum())} equidistant ties, lowest code wins)"
    )
    return {"street_ratio": t_sj / t_ours, "street_disagree": int((differ & ~tie).sum())}


def whole_section(
    name: str, matcher: Matcher, grids: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray
) -> dict[str, float]:
    """The whole ``match_points`` against a bare ``sjoin(within)`` of the same points
    (issue 21's ≥ 5× row), and what a point outside every grid costs on its own."""
    t_all, _ = timed(lambda: matcher.match_points(lon, lat), repeat=2)
    t_sjoin, _ = timed(lambda: sjoin_grid(grids, lon, lat), repeat=2)  # the warm run counts
    grid = matcher.grids.locator.locate(lon, lat)
    sample = np.random.default_rng(3).integers(0, lon.size, 2000)
    inside = [i for i in sample if grid[i] >= 0][:1000]
    start = time.perf_counter()
    for i in inside:
        matcher.match_point(lon[i], lat[i])
    single = (time.perf_counter() - start) / max(len(inside), 1)
    print(
        f"[{name}] whole match_points  {lon.size / t_all:>10,.0f} points/s ({t_all:.3f} s); "
        f"one match_point {single * 1e6:,.0f} µs"
    )
    print(f"  vs bare sjoin(within) {t_sjoin:.3f} s: ratio {t_sjoin / t_all:.2f} × (target ≥ 5 ×)")
    # the same number of points, all in some grid, then all in none (the outside search)
    out_idx, in_idx = np.flatnonzero(grid < 0), np.flatnonzero(grid >= 0)
    k = min(out_idx.size, in_idx.size, 100_000)
    figures = {"whole_ratio": t_sjoin / t_all}
    if k:
        t_in, _ = timed(lambda: matcher.match_points(lon[in_idx[:k]], lat[in_idx[:k]]), repeat=2)
        t_out, _ = timed(lambda: matcher.match_points(lon[out_idx[:k]], lat[out_idx[:k]]), repeat=2)
        print(
            f"  {out_idx.size / lon.size:.1%} of the points in no grid; per point, {k:,} of each: "
            f"inside {t_in / k * 1e6:.2f} µs, outside {t_out / k * 1e6:.2f} µs "
            f"(outside search ≈ {(t_out - t_in) / k * 1e6:.2f} µs)"
        )
        figures["outside_us"] = (t_out - t_in) / k * 1e6
    return figures


def build(name: str, make: Callable[[], Matcher]) -> Matcher:
    before = rss_mb()
    t_build, matcher = timed(make)
    gc.collect()
    grown = rss_mb() - before
    print(
        f"[{name}] index built in {t_build:.1f} s; lookup tables {matcher.nbytes / 1e6:,.0f} MB "
        f"(grid index {matcher.grids.locator.nbytes / 1e6:,.0f} MB); process grew {grown:,.0f} MB"
    )
    return matcher


def demo_town(points: int) -> None:
    town = load_town_file(Settings().town_file)
    matcher = build("demo town", lambda: town.matcher(RADIUS_M))
    grids = town.layers[LayerKind.GRIDS].frame
    minx, miny, maxx, maxy = grids.total_bounds
    rng = np.random.default_rng(11)
    lon, lat = rng.uniform(minx, maxx, points), rng.uniform(miny, maxy, points)
    grid_section("demo town", matcher, grids, lon, lat)
    street_section("demo town", matcher, town.layers[LayerKind.STREETS].frame, lon, lat)
    whole_section("demo town", matcher, grids, lon, lat)


def synthetic(grids: int, streets: int, points: int) -> dict[str, float]:
    start = time.perf_counter()
    city = build_city(grids=grids, streets=streets, points=points)
    print(
        f"[city] synthetic city generated in {time.perf_counter() - start:.1f} s: "
        f"{len(city.grids):,} grids, {len(city.streets):,} street segments, {city.lon.size:,} points"
    )
    grid_layer = Layer(LayerKind.GRIDS, city.grids)
    street_layer = Layer(LayerKind.STREETS, city.streets)
    matcher = build(
        "city", lambda: Matcher(grid_layer, streets=street_layer, street_radius_m=RADIUS_M)
    )
    figures = grid_section("city", matcher, city.grids, city.lon, city.lat)
    figures |= street_section("city", matcher, city.streets, city.lon, city.lat)
    figures |= whole_section("city", matcher, city.grids, city.lon, city.lat)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--small", action="store_true", help="a 2,000-grid city and 100,000 points (a quick check)"
    )
    parser.add_argument(
        "--town-only", action="store_true", help="the demo town alone (no synthetic city)"
    )
    args = parser.parse_args()
    scale = 10 if args.small else 1
    demo_town(1_000_000 // scale)
    if args.town_only:
        return
    figures = synthetic(20_000 // scale, 50_000 // scale, 1_000_000 // scale)
    print(
        f"targets: point→grid ≥ 10× sjoin (got {figures['grid_ratio']:.1f}×), "
        f"nearest street ≥ 3× sjoin_nearest (got {figures['street_ratio']:.1f}×), 0 disagreements "
        f"(got {figures['grid_disagree']} and {figures['street_disagree']})"
    )


if __name__ == "__main__":
    main()
