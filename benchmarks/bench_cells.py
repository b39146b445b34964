"""CellLocator against PolygonLocator and geopandas.sjoin, same run, same data.

Run with ``python benchmarks/bench_cells.py``. For (a) a 20,000-grid Voronoi
city of 60 × 60 km and (b) 16 districts over ~17,000 km² with islands 50 km
off, all in metres (EPSG:4549), it prints build time and table memory of both
locators, bulk locate of 200,000 points against ``sjoin(predicate="within")``
(ratio and disagreements), the ``locate_one`` median, and the build time when
one tiny far island doubles the bounding box.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic_city import ORIGIN, _jittered_network  # noqa: E402

from gridsvc.core.cells import CellLocator  # noqa: E402
from gridsvc.core.locator import PolygonLocator  # noqa: E402

CELL_M = 2.5
POINTS = 200_000


def faces(seeds: int, side: float, step: float, seed: int) -> np.ndarray:
    """A jittered Voronoi coverage of ``seeds`` faces over a square of ``side`` metres."""
    rng = np.random.default_rng(seed)
    extent = shapely.box(ORIGIN[0], ORIGIN[1], ORIGIN[0] + side, ORIGIN[1] + side)
    out = shapely.get_parts(shapely.polygonize(_jittered_network(rng, seeds, extent, step)))
    return out[shapely.area(out) > 1.0]


def districts() -> np.ndarray:
    """16 districts over 130 × 130 km and three islands 50 km east, vertices every 30 m."""
    land = faces(16, 130_000.0, 30.0, 11)
    x, y = ORIGIN[0] + 180_000.0, ORIGIN[1] + 60_000.0
    islands = [shapely.Point(x, y + k * 9_000.0).buffer(2_000.0, 64) for k in range(3)]
    return np.r_[land, np.asarray(islands, dtype=object)]


def timed(func):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def sjoin_within(polygons: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=4549)
    frame = gpd.GeoDataFrame(geometry=polygons, crs=4549)
    joined = gpd.sjoin(points, frame, predicate="within", how="left")
    joined = joined[~joined.index.duplicated()]
    return joined["index_right"].fillna(-1).astype(np.int64).to_numpy()


def section(name: str, polygons: np.ndarray, raster: bool = True) -> None:
    print(f"[{name}] {len(polygons):,} polygons")
    cpu = time.process_time()
    t_cells, cells = timed(lambda: CellLocator(polygons, CELL_M))
    cpu = time.process_time() - cpu  # on a shared machine the CPU time is the steadier figure
    print(
        f"  CellLocator build     {t_cells:8.2f} s   tables {cells.nbytes / 1e6:8.1f} MB"
        f"   ({cpu:.2f} s CPU)"
    )
    if raster:
        t_r, r = timed(lambda: PolygonLocator(polygons, (CELL_M, CELL_M)))
        print(f"  PolygonLocator build  {t_r:8.2f} s   tables {r.nbytes / 1e6:8.1f} MB")
        del r
    minx, miny, maxx, maxy = shapely.total_bounds(polygons)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(minx, maxx, POINTS), rng.uniform(miny, maxy, POINTS)
    t_ours = min(timed(lambda: cells.locate(x, y))[0] for _ in range(3))
    ours = cells.locate(x, y)
    t_sj = min(timed(lambda: sjoin_within(polygons, x, y))[0] for _ in range(2))
    theirs = sjoin_within(polygons, x, y)
    print(f"  locate {POINTS:,} points  {t_ours * 1e3:8.1f} ms   sjoin {t_sj * 1e3:8.1f} ms")
    print(f"  ratio                 {t_sj / t_ours:8.1f} ×")
    print(f"  disagreements         {int((ours != theirs).sum()):8d}")
    one = []
    for i in range(5_000):
        start = time.perf_counter()
        cells.locate_one(float(x[i]), float(y[i]))
        one.append(time.perf_counter() - start)
    print(f"  locate_one median     {np.median(one) * 1e6:8.2f} µs")
    island = shapely.box(maxx + (maxx - minx), maxy, maxx + (maxx - minx) + 10.0, maxy + 10.0)
    t_far, _ = timed(lambda: CellLocator(np.r_[polygons, [island]], CELL_M))
    print(f"  build, bbox doubled   {t_far:8.2f} s   ({t_far / t_cells:.2f} × the build)")


def main() -> None:
    section("districts with far islands", districts())
    section("20,000-grid city, 60 × 60 km", faces(20_000, 60_000.0, 30.0, 7))


if __name__ == "__main__":
    main()
