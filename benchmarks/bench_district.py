"""Scale, measured (issue 23 item 7): a Shanghai-sized city on SQLite and PostgreSQL.

Run with ``python benchmarks/bench_district.py [--cases 10000000] [--db sqlite,postgresql]
[--runs 5] [--requests 500] [--only maps]``. The city is synthetic (``synthetic_city.build_territory``):
16 districts of about 14 towns, 20,000 grids, and ``--cases`` cases over a year
(default 1,000,000; the issue's target is 10,000,000). Two deployments per backend
are loaded through the service's own loader (``load_demo``: validation, published
layers, reference tables):

* **the city**: every town of the 16 districts and every case (the hotspot map of
  all cases, and town-scoped ``/api/v1/cases`` pages among 224 towns);
* **one district** (the first): its towns and its share of the cases, what a
  district's deployment holds (a district's month of evaluation, its hotspot map).

Cases are generated in chunks (memory bounded) and written in bulk, COPY on
PostgreSQL and ``executemany`` in one transaction per chunk on SQLite, with the
columns and events the service writes. Each measure runs ``--runs`` times
(min / median / max; the first run, with cold caches, included) beside a baseline
measured in the same run on the same rows:

* evaluation ``by=town`` and ``by=grid`` of the last full month (the service's
  ``EvaluationService``) against a plain SELECT of the month's cases and events and a
  pandas groupby of reported, closed and median hours to closure (what any
  evaluation must at least read and group);
* the hotspot map (``MapService.hotspots`` + ``render``, HTML bytes) against a plain
  SELECT of the points and a geopandas ``sjoin`` onto the grids with a groupby per
  grid and month (the map's aggregation, without Gi*, heat or HTML);
* a town-scoped ``GET /api/v1/cases`` page (the real app under TestClient, a town
  dispatcher's key; first pages and cursor pages) against the same page read with a
  plain SELECT.

When ``--cases`` is below the target the figures are also scaled to 10 M per case,
printed as an **extrapolation**, not a measurement. ``uptime`` is printed with each
section: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import district_data as dd  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from servers import Backend, PostgreSQL  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402
from synthetic_city import Territory, build_territory  # noqa: E402

from gridsvc.api.app import create_app  # noqa: E402
from gridsvc.config import Settings  # noqa: E402
from gridsvc.core.workflow import Role  # noqa: E402
from gridsvc.services.evaluation import EvaluationQuery, EvaluationService  # noqa: E402
from gridsvc.services.keys import create_key  # noqa: E402
from gridsvc.services.maps import Look, MapFilter, MapService, render  # noqa: E402
from gridsvc.services.setup import read_calendar, read_matters  # noqa: E402
from gridsvc.store.engine import make_engine, upgrade  # noqa: E402

TARGET_CASES = 10_000_000
MONTH = (date(2026, 11, 1), date(2026, 11, 30))  # the last full month of the year
EVAL_TARGET_S, MAP_TARGET_S, MAP_TARGET_MB, PAGE_P99_MS = 2.0, 5.0, 5.0, 50.0


@dataclass
class Row:
    """One line of the results table."""

    measure: str
    scale: str
    figures: dict[str, str] = field(default_factory=dict)  # backend → figure
    baseline: dict[str, str] = field(default_factory=dict)
    ratio: dict[str, str] = field(default_factory=dict)
    target: str = ""
    verdict: dict[str, str] = field(default_factory=dict)


def uptime() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def runs(func: Callable[[], Any], n: int) -> tuple[list[float], Any]:
    """Wall times of ``n`` calls (seconds) and the last result."""
    times, result = [], None
    for _ in range(n):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return times, result


def spread(times: list[float], unit: float = 1.0, fmt: str = "{:.2f}") -> str:
    t = np.asarray(times) * unit
    return "/".join(fmt.format(v) for v in (t.min(), np.median(t), t.max()))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- building the deployments -------------------------------------------------------------


@dataclass
class Deployment:
    """A loaded database: the engine and how many cases it holds."""

    name: str
    url: str
    engine: Engine
    cases: int = 0


def build(
    backend: Backend, territory: Territory, cases: int, folder: Path, district: int
) -> tuple[Deployment, Deployment]:
    """The city and one district on ``backend``, loaded through the service, then the cases."""
    made = []
    for name, layers in (("city", territory.layers()), ("district", territory.layers(district))):
        url = backend.database()
        upgrade(url)
        engine = make_engine(url)
        start = time.perf_counter()
        versions = dd.load_territory(engine, dd.territory_dir(folder / f"{name}-dir", layers))
        print(f"  {name}: layers loaded and published in {time.perf_counter() - start:.1f} s")
        made.append((Deployment(name, url, engine), versions))
    (city, city_versions), (one, one_versions) = made
    if city_versions != one_versions:  # both fresh databases number their versions alike
        raise SystemExit(f"layer versions differ: {city_versions} and {one_versions}")
    maker = dd.CaseMaker(territory, city_versions)
    start, generating = time.perf_counter(), 0.0
    chunks = maker.chunks(cases)
    while True:
        t0 = time.perf_counter()
        chunk = next(chunks, None)
        if chunk is None:
            break
        mine = dd.subset(chunk, district)
        generating += time.perf_counter() - t0
        dd.write_chunk(city.engine, chunk)
        dd.write_chunk(one.engine, mine)
        city.cases += len(chunk.cases)
        one.cases += len(mine.cases)
    for d in (city, one):
        dd.finish(d.engine)
    total = time.perf_counter() - start
    print(
        f"  {cases:,} cases generated in {generating:.1f} s and written in "
        f"{total - generating:.1f} s ({total / cases * 1e6:.0f} µs a case in all; "
        f"{one.cases:,} in the district), peak RSS {rss_mb():.0f} MB, {uptime()}"
    )
    return city, one


# ---- the measures --------------------------------------------------------------------------


def evaluation(d: Deployment, by: str, n: int) -> tuple[list[float], int]:
    with d.engine.connect() as conn:
        matters, calendar = read_matters(conn), read_calendar(conn)
    service = EvaluationService(d.engine, matters, calendar, clock=lambda: dd.NOW)
    query = EvaluationQuery(MONTH[0], MONTH[1], by=by)
    times, report = runs(lambda: service.evaluate(query), n)
    return times, len(report.table)


def evaluation_baseline(d: Deployment, by: str, n: int) -> list[float]:
    """Plain SELECTs of the month's cases and events, a pandas groupby of simple counts."""
    column = {"town": "town_code", "grid": "grid_code"}[by]
    start, end = MONTH[0].isoformat(), MONTH[1].isoformat()
    bounds = {"a": f"{start} 00:00:00", "b": f"{end} 23:59:59"}  # UTC: near enough for a base

    def once() -> pd.DataFrame:
        with d.engine.connect() as conn:
            cases = pd.DataFrame(
                conn.execute(
                    text(
                        f"SELECT id, {column} AS k, status, created_at FROM cases "
                        "WHERE created_at >= :a AND created_at < :b"
                    ),
                    bounds,
                ).all(),
                columns=["id", "k", "status", "created_at"],
            )
            closes = pd.DataFrame(
                conn.execute(
                    text(
                        "SELECT e.case_id, e.at FROM case_events e JOIN cases c ON c.id = e.case_id "
                        "WHERE c.created_at >= :a AND c.created_at < :b AND e.action = 'close'"
                    ),
                    bounds,
                ).all(),
                columns=["id", "closed_at"],
            )
        frame = cases.merge(closes, on="id", how="left")
        hours = (
            pd.to_datetime(frame["closed_at"], utc=True)
            - pd.to_datetime(frame["created_at"], utc=True)
        ).dt.total_seconds() / 3600
        frame = frame.assign(hours=hours, closed=frame["status"] == "closed")
        return frame.groupby("k").agg(
            reported=("id", "size"), closed=("closed", "sum"), median_h=("hours", "median")
        )

    return runs(once, n)[0]


def hotspot_map(d: Deployment, n: int) -> tuple[list[float], int]:
    with d.engine.connect() as conn:
        matters = read_matters(conn)
    service = MapService(d.engine, matters)
    times, html = runs(lambda: render(service.hotspots(MapFilter(), Look())), n)
    return times, len(html.encode())


def hotspot_baseline(d: Deployment, grids: gpd.GeoDataFrame, n: int) -> list[float]:
    """Plain SELECT of the points, geopandas sjoin onto the grids, counts per grid and month."""

    def once() -> pd.DataFrame:
        with d.engine.connect() as conn:
            rows = conn.execute(text("SELECT lon, lat, created_at FROM cases")).all()
        frame = pd.DataFrame(rows, columns=["lon", "lat", "created_at"])
        points = gpd.GeoDataFrame(
            frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4490
        )
        joined = gpd.sjoin(points, grids[["code", "geometry"]], predicate="within")
        month = pd.to_datetime(joined["created_at"], utc=True).dt.strftime("%Y-%m")
        return joined.groupby(["code", month]).size()

    return runs(once, n)[0]


def town_pages(d: Deployment, requests: int) -> tuple[list[float], list[float], str]:
    """p50/p99 of town-scoped /api/v1/cases pages through the app, and the plain SELECT's."""
    with d.engine.connect() as conn:
        town = conn.execute(
            text("SELECT town_code FROM cases GROUP BY town_code ORDER BY count(*) DESC LIMIT 1")
        ).scalar_one()
    key = create_key(d.engine, Role.DISPATCHER, "bench town dispatcher", town=town)
    app = create_app(Settings(database_url=d.url, lang="zh", rate_per_minute=1_000_000))
    ours, base = [], []
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {key}"}
        cursor: int | None = None
        for i in range(requests):
            params: dict[str, Any] = {"limit": 50}
            if cursor is not None and i % 10:
                params["cursor"] = cursor
            start = time.perf_counter()
            answer = client.get("/api/v1/cases", params=params, headers=headers)
            ours.append(time.perf_counter() - start)
            if answer.status_code != 200:
                raise SystemExit(f"/api/v1/cases answered {answer.status_code}: {answer.text}")
            page = answer.json()
            if any(item["town_code"] != town for item in page["items"]):
                raise SystemExit("a town-scoped page returned another town's case")
            cursor = page["next_cursor"]
            start = time.perf_counter()
            with d.engine.connect() as conn:
                sql = "SELECT * FROM cases WHERE town_code = :t"
                bind: dict[str, Any] = {"t": town}
                if "cursor" in params:
                    sql += " AND id < :c"
                    bind["c"] = params["cursor"]
                conn.execute(text(sql + " ORDER BY id DESC LIMIT 50"), bind).all()
            base.append(time.perf_counter() - start)
    return ours, base, str(town)


# ---- the run -------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def measure(
    backend: Backend, territory: Territory, args: argparse.Namespace, table: dict[str, Row]
) -> None:
    print(f"[{backend.title}] {uptime()}")
    with tempfile.TemporaryDirectory(prefix="bench-district-") as tmp:
        city, one = build(backend, territory, args.cases, Path(tmp), args.district)
        scale = args.cases / TARGET_CASES
        name = backend.name
        for by in ("town", "grid"):
            ours, groups = evaluation(one, by, args.runs)
            base = evaluation_baseline(one, by, args.runs)
            row = table.setdefault(
                f"eval-{by}",
                Row(f"district month, evaluation by={by}", "", target=f"< {EVAL_TARGET_S:g} s"),
            )
            row.scale = f"{one.cases:,} district cases/yr"
            row.figures[name] = spread(ours) + " s"
            row.baseline[name] = spread(base) + " s"
            row.ratio[name] = f"{np.median(ours) / np.median(base):.1f}x"
            med = float(np.median(ours))
            row.verdict[name] = verdict(med < EVAL_TARGET_S)
            if scale < 1:
                row.verdict[name] += f" (10 M extrapolated: {med / scale:.1f} s)"
            print(f"  evaluation by={by}: {groups} rows, {row.figures[name]} "
                  f"(baseline {row.baseline[name]}), {uptime()}")  # fmt: skip
        hotspot_rows(backend, territory, args, table, (one, city))
        ours, base, town = town_pages(city, args.requests)
        row = table.setdefault(
            "page",
            Row("town-scoped /api/v1/cases page (50)", "", target=f"p99 < {PAGE_P99_MS:g} ms"),
        )
        row.scale = f"{city.cases:,} cases, town {town}"
        p50, p99 = np.percentile(ours, 50) * 1e3, np.percentile(ours, 99) * 1e3
        b50, b99 = np.percentile(base, 50) * 1e3, np.percentile(base, 99) * 1e3
        row.figures[name] = f"p50 {p50:.1f} / p99 {p99:.1f} ms"
        row.baseline[name] = f"p50 {b50:.1f} / p99 {b99:.1f} ms (SELECT)"
        row.ratio[name] = f"{p99 / b99:.1f}x"
        row.verdict[name] = verdict(p99 < PAGE_P99_MS)
        print(f"  town pages: {row.figures[name]} (baseline {row.baseline[name]}), {uptime()}")
        for d in (city, one):
            d.engine.dispose()


def hotspot_rows(
    backend: Backend,
    territory: Territory,
    args: argparse.Namespace,
    table: dict[str, Row],
    deployments: tuple[Deployment, ...],
) -> None:
    """The hotspot map of each deployment beside its baseline, as rows of ``table``."""
    grids = territory.layers()["grids"]
    scale, name = args.cases / TARGET_CASES, backend.name
    for d in deployments:
        label = d.name
        ours, size = hotspot_map(d, args.runs)
        base = hotspot_baseline(d, grids, max(1, args.runs // 2))
        mb = size / 1e6
        row = table.setdefault(
            f"map-{label}",
            Row(f"{label} hotspot map (build+render)", "",
                target=f"< {MAP_TARGET_S:g} s, < {MAP_TARGET_MB:g} MB"),
        )  # fmt: skip
        row.scale = f"{d.cases:,} cases"
        row.figures[name] = f"{spread(ours)} s, {mb:.2f} MB"
        row.baseline[name] = spread(base) + " s (sjoin+groupby)"
        row.ratio[name] = f"{np.median(ours) / np.median(base):.1f}x"
        med = float(np.median(ours))
        row.verdict[name] = verdict(med < MAP_TARGET_S and mb < MAP_TARGET_MB)
        if scale < 1:  # per case, though the grids' part does not grow: an upper bound
            row.verdict[name] += f" (10 M extrapolated: < {med / scale:.1f} s)"
        print(f"  {label} hotspot map: {row.figures[name]} (baseline {row.baseline[name]}), "
              f"peak RSS {rss_mb():.0f} MB, {uptime()}")  # fmt: skip


def measure_maps(
    backend: Backend, territory: Territory, args: argparse.Namespace, table: dict[str, Row]
) -> None:
    """``--only maps``: the two deployments built, only their hotspot maps measured."""
    print(f"[{backend.title}] {uptime()}")
    with tempfile.TemporaryDirectory(prefix="bench-district-") as tmp:
        city, one = build(backend, territory, args.cases, Path(tmp), args.district)
        hotspot_rows(backend, territory, args, table, (one, city))
        for d in (city, one):
            d.engine.dispose()


def print_table(table: dict[str, Row], names: list[str]) -> None:
    print()
    print("| measure | scale | " + " | ".join(names) + " | baseline | ratio | target | verdict |")
    print("|---|---|" + "---|" * len(names) + "---|---|---|---|")
    for row in table.values():
        cells = [row.figures.get(n, "-") for n in names]
        base = "; ".join(f"{n}: {row.baseline[n]}" for n in names if n in row.baseline)
        ratio = "; ".join(f"{n}: {row.ratio[n]}" for n in names if n in row.ratio)
        verdicts = "; ".join(f"{n}: {row.verdict[n]}" for n in names if n in row.verdict)
        print(f"| {row.measure} | {row.scale} | " + " | ".join(cells)
              + f" | {base} | {ratio} | {row.target} | {verdicts} |")  # fmt: skip
    print("(figures min/median/max over the runs, cold first run included; verdicts on the median)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--cases", type=int, default=1_000_000, help="cases over the year (target 10,000,000)"
    )
    parser.add_argument("--grids", type=int, default=20_000)
    parser.add_argument("--districts", type=int, default=16)
    parser.add_argument("--towns", type=int, default=14, help="towns per district")
    parser.add_argument("--district", type=int, default=0, help="which district is measured alone")
    parser.add_argument("--db", default="sqlite,postgresql", help="backends, comma-separated")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--only", choices=["maps"], help="measure only the hotspot maps")
    args = parser.parse_args()  # fmt: skip
    names = [n.strip() for n in args.db.split(",") if n.strip()]
    print(f"district benchmark: {args.districts} districts x {args.towns} towns, "
          f"{args.grids:,} grids, {args.cases:,} cases; {os.cpu_count()} cores, {uptime()}")  # fmt: skip
    start = time.perf_counter()
    territory = build_territory(args.grids, args.districts, args.towns)
    print(f"  territory: {len(territory.districts)} districts, {len(territory.towns)} towns, "
          f"{len(territory.grids):,} grids in {time.perf_counter() - start:.1f} s")  # fmt: skip
    table: dict[str, Row] = {}
    for name in names:
        with tempfile.TemporaryDirectory(prefix="bench-district-db-") as folder:
            backend = PostgreSQL(Path(folder)) if name == "postgresql" else Backend(Path(folder))
            try:
                (measure_maps if args.only == "maps" else measure)(backend, territory, args, table)
            finally:
                backend.close()
    print_table(table, names)


if __name__ == "__main__":
    main()
