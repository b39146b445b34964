"""Hotspot-map benchmark: 1,000,000 cases over a 20,000-grid city.

Run with ``make bench`` (or ``python benchmarks/bench_hotspots.py [--small]``).
Times building and rendering the whole hotspot map (counts, rate, Gi* per
grid and per month, heat, side table) to HTML and reports its size, beside
the obvious baseline measured in the same run: folium's HeatMap fed with the
raw points. Targets: under 5 s and under 5 MB.

``--stored FILE.db [--cases N]`` measures the service's path instead: the city
of ``bench_district.py`` (20,000 grids, 224 towns, ``--cases`` cases) in a SQLite
file, built once and kept, then ``MapService.hotspots`` + ``render`` beside the
same run's baseline (a plain SELECT of the points, geopandas sjoin, groupby per
grid and month). Kept, the same file measures the code before and after a change.
``--hold-postgresql --cases N`` builds the city in a throwaway PostgreSQL cluster,
measures it and keeps it until SIGTERM; ``--url URL`` measures it again.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import folium
import numpy as np
import pandas as pd
from folium.plugins import HeatMap

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic_city import build_city  # noqa: E402

from gridsvc.core.hotspots import contiguity, counts_by_code, gi_star  # noqa: E402
from gridsvc.core.locator import PolygonLocator  # noqa: E402
from gridsvc.maps.hotspots import HotspotOptions, hotspot_map  # noqa: E402
from gridsvc.services.maps import render  # noqa: E402

CATEGORIES = [f"CG{i:02d}" for i in range(1, 31)]


def cases_for(city, n: int, seed: int = 11) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Half the cases uniform, half in 40 clusters; a year of dates; grid by the locator."""
    rng = np.random.default_rng(seed)
    lon, lat = city.lon[:n].copy(), city.lat[:n].copy()
    half = n // 2
    centres = rng.integers(0, n, 40)
    pick = rng.integers(0, 40, half)
    lon[:half] = city.lon[centres][pick] + rng.normal(0, 0.003, half)
    lat[:half] = city.lat[centres][pick] + rng.normal(0, 0.003, half)
    grids = city.grids
    locator = PolygonLocator(grids.geometry.to_numpy(), (2.5e-5, 2.5e-5))
    index = locator.locate(lon, lat)
    codes = grids["code"].to_numpy(dtype=object)
    grid_code = np.where(index >= 0, codes[np.maximum(index, 0)], None)
    start = pd.Timestamp("2025-11-01", tz="Asia/Shanghai")
    created = start + pd.to_timedelta(rng.uniform(0, 365, n), unit="D")
    category = np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), n)]
    return pd.DataFrame(
        {
            "lon": lon,
            "lat": lat,
            "grid_code": grid_code,
            "category": category,
            "created_at": created,
        }
    )


def timed(label: str, func):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    print(f"  {label:<46} {seconds:7.2f} s")
    return seconds, result


def build_stored(url: str, cases_n: int, folder: Path) -> None:
    """The city of ``bench_district.py`` with ``cases_n`` cases in the empty database at ``url``."""
    import district_data as dd
    from synthetic_city import build_territory

    from gridsvc.store.engine import make_engine, upgrade

    start = time.perf_counter()
    territory = build_territory(20_000, 16, 14)
    upgrade(url)
    engine = make_engine(url)
    versions = dd.load_territory(engine, dd.territory_dir(folder, territory.layers()))
    maker = dd.CaseMaker(territory, versions)
    for done, chunk in enumerate(maker.chunks(cases_n), 1):
        dd.write_chunk(engine, chunk)
        if done % 10 == 0:
            print(f"  {done * 100_000:,} cases written, {time.perf_counter() - start:.0f} s")
    dd.finish(engine)
    engine.dispose()
    print(f"  built the city ({cases_n:,} cases) in {time.perf_counter() - start:.0f} s")


def measure_stored(url: str, runs_n: int) -> None:
    """``MapService.hotspots`` + ``render`` on a built city, and the same run's baseline."""
    import bench_district as bd
    from synthetic_city import build_territory

    from gridsvc.store.engine import make_engine

    grids = build_territory(20_000, 16, 14).layers()["grids"]
    engine = make_engine(url)
    city = bd.Deployment("city", url, engine)
    with engine.connect() as conn:
        city.cases = int(conn.exec_driver_sql("SELECT count(*) FROM cases").scalar_one())
    print(f"  {engine.dialect.name}: {city.cases:,} cases, {bd.uptime()}")
    ours, size = bd.hotspot_map(city, runs_n)
    print(f"  hotspot map: {bd.spread(ours)} s, {size / 1e6:.2f} MB, {bd.uptime()}")
    base = bd.hotspot_baseline(city, grids, max(1, runs_n // 2))
    ratio = np.median(ours) / np.median(base)
    print(f"  baseline:    {bd.spread(base)} s (sjoin+groupby); ratio {ratio:.2f}x, {bd.uptime()}")
    engine.dispose()


def hold_postgresql(cases_n: int, runs_n: int) -> None:
    """A throwaway PostgreSQL cluster with the city, measured once, then kept until SIGTERM
    (or Ctrl-C) so that ``--url`` can measure it again, e.g. from another worktree."""
    import signal
    import tempfile

    from servers import PostgreSQL

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with tempfile.TemporaryDirectory(prefix="bench-hotspots-pg-") as folder:
        backend = PostgreSQL(Path(folder))
        try:
            url = backend.database()
            print(f"  url: {url}", flush=True)
            build_stored(url, cases_n, Path(folder) / "layers")
            measure_stored(url, runs_n)
            print("  holding the cluster: send SIGTERM to stop it", flush=True)
            signal.pause()
        finally:
            backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="2,000 grids and 100,000 cases")
    parser.add_argument("--stored", type=Path, help="a kept SQLite city (built if missing)")
    parser.add_argument("--url", help="measure the city already built at this database URL")
    parser.add_argument(
        "--hold-postgresql", action="store_true", help="build the city on PostgreSQL and keep it"
    )
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases of a built city")
    parser.add_argument("--runs", type=int, default=3, help="runs on a built city")
    args = parser.parse_args()
    if args.hold_postgresql:
        hold_postgresql(args.cases, args.runs)
        return
    if args.stored or args.url:
        url = args.url or f"sqlite:///{args.stored}"
        if args.stored and not args.stored.exists():
            build_stored(url, args.cases, args.stored.with_suffix(".layers"))
        measure_stored(url, args.runs)
        return
    grids_n, cases_n = (2_000, 100_000) if args.small else (20_000, 1_000_000)
    print(f"hotspot map: {grids_n:,} grids, {cases_n:,} cases (2 cores)")
    city = build_city(grids=grids_n, streets=1_000, points=cases_n)
    cases = cases_for(city, cases_n)
    grids = city.grids
    print(f"  {len(grids):,} grids built, {cases['grid_code'].notna().sum():,} cases inside")

    # the parts, to see where the time goes
    _, graph = timed(
        "queen contiguity (STRtree, libpysal Graph)", lambda: contiguity(grids.geometry)
    )
    counts = counts_by_code(cases["grid_code"], grids["code"].tolist())
    timed("Gi* once (esda, analytical)", lambda: gi_star(counts, graph))

    options = HotspotOptions()
    build_s, m = timed(
        "build the hotspot map (all layers)", lambda: hotspot_map(grids, cases, options)
    )
    render_s, html = timed("render it to HTML (vendored assets)", lambda: render(m))
    ours_s, ours_mb = build_s + render_s, len(html.encode()) / 1e6

    def raw_heat() -> str:
        baseline = folium.Map(tiles=None, prefer_canvas=True)
        HeatMap(np.column_stack([cases["lat"], cases["lon"]]).tolist()).add_to(baseline)
        return str(baseline.get_root().render())

    raw_s, raw_html = timed("baseline: folium HeatMap of the raw points", raw_heat)
    raw_mb = len(raw_html.encode()) / 1e6
    print()
    print(f"  gridsvc hotspot map: {ours_s:6.2f} s, {ours_mb:6.2f} MB  (target < 5 s, < 5 MB)")
    print(f"  raw HeatMap:         {raw_s:6.2f} s, {raw_mb:6.2f} MB  (one layer, no grids)")
    print(f"  ratio: {raw_s / ours_s:.1f}x the speed, {raw_mb / ours_mb:.1f}x smaller")
    ok = ours_s < 5 and ours_mb < 5
    print(f"  target {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
