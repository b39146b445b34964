"""Intake benchmark: durable reports/s and latency of the real service, SQLite and PostgreSQL.

Run with ``make bench`` (or ``python benchmarks/bench_api.py [--db sqlite|postgresql]
[--workers 1,2] [--seconds 15] [--rate 500] [--clients 16] [--writer process|thread]``).
For each backend and each worker count it makes a fresh database, loads the demo
town, creates a patrol key and starts ``gridsvc serve`` as a subprocess. Two loads,
each for a fixed time:

* **at the target rate** (open loop): reports arrive at ``--rate`` per second
  as a Poisson stream, the way independent patrols send them, over a pool of
  keep-alive connections. A request's latency counts from the moment it was
  due, not from when a connection got free, so a server that falls behind
  shows it in p99 instead of slowing the clients down (no coordinated
  omission). This is the figure the target is about: 500 reports/s, p99 < 20 ms.
* **capacity** (closed loop): ``--clients`` connections each send the next
  report as soon as the last is answered; the rate is the most the service
  takes, and latency there is queueing (clients / rate).

Only 201 answers count, and at the end the database is checked to hold
exactly the acknowledged cases after ``kill -9`` of the whole server. ``GET
/api/v1/match`` runs the same two loads for comparison. Two seconds of reports
at the target rate warm the service up first (counted for durability, not in
the figures). Client and server share this machine's two cores, so the
figures are a lower bound for a server with the machine to itself.

**Backends** (``--db``). ``sqlite``: WAL with ``synchronous=FULL`` and the
intake writer process (``gridsvc serve``). ``postgresql``: a throwaway cluster
of the benchmark's own (``tests/pg.py``: initdb in a temp dir, a Unix socket
only), with ``fsync``, ``full_page_writes`` and ``synchronous_commit`` on, so a
201 is on disk as with SQLite; each worker commits its own reports. It runs the
SQLite path too, in the same invocation, and prints both side by side: its
targets are relative to it (capacity at least 0.8x SQLite's at the same worker
count) and p99 under 50 ms at 500/s.

**Cost per report**: the CPU the service's processes (and, on PostgreSQL, the
database server's) used during the open loop at the target rate, divided by the
reports acknowledged: what ``docs/scale.md`` sizes a city from.

Under each load of reports, a line says what an fsync probe beside the
service saw on the same file system (:class:`loadgen.DiskProbe`): a long p99
with a stalled probe is the disk; with a quiet probe it is the service.

**Headroom** (``--headroom 2,3``): the same open loop at multiples of the
target rate. This host's speed is not fixed (the reference loop took 45-49 ms
on 2026-12-05 and 77-141 ms on 2026-12-02), and a report's cost is CPU in
processes sharing two cores, so a host k times slower at k times fewer
reports is about the same load. A p99 under the bound at 3x the rate says the
target would still be met on a host about three times slower; met only at 1x,
it is met by a hair. The disk does not scale that way: its stalls are the
probe's to show.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import shapely
from loadgen import (
    DiskProbe,
    disk_line,
    free_port,
    http_request,
    load,
    paced,
    reference_loop_ms,
    stalls,
)
from servers import TABLE_BYTES, Backend, PostgreSQL, cpu_seconds
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gridsvc.config import DEMO_DIR  # noqa: E402
from gridsvc.layerio import read_layer  # noqa: E402
from gridsvc.store.engine import make_engine  # noqa: E402

BIN = Path(sys.executable).parent
#: p99 bound at the target rate: SQLite's own target, and the issue's for PostgreSQL
BOUND_MS = {"sqlite": 20.0, "postgresql": 50.0}
#: PostgreSQL's capacity must be at least this share of the SQLite path's (issue 22)
PG_CAPACITY_SHARE = 0.8


def town_points(n: int, seed: int = 5) -> list[tuple[float, float]]:
    """Random points inside the demo town's jurisdiction."""
    jurisdiction = read_layer(DEMO_DIR / "shifan.gpkg", "jurisdiction").frame.geometry.iloc[0]
    minx, miny, maxx, maxy = jurisdiction.bounds
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(minx, maxx, n * 3), rng.uniform(miny, maxy, n * 3)
    inside = shapely.contains_xy(jurisdiction, x, y)
    return list(zip(x[inside][:n], y[inside][:n], strict=True))


def inside_categories() -> list[str]:
    """The demo town's matters: reports spread over the whole list, as in a real town."""
    with open(DEMO_DIR / "responsibility_list.csv", encoding="utf-8") as f:
        return [row["code"] for row in csv.DictReader(f)]


def prepare(env: dict[str, str]) -> str:
    gridsvc = str(BIN / "gridsvc")
    subprocess.run(
        [gridsvc, "demo", "load", "--no-history"], env=env, check=True, capture_output=True
    )
    out = subprocess.run(
        [gridsvc, "keys", "create", "--role", "patrol", "--name", "bench"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def start(
    env: dict[str, str], port: int, workers: int, writer: str, log: Path
) -> subprocess.Popen[bytes]:
    """``gridsvc serve`` (on SQLite with its intake writer process), or with
    ``writer="thread"`` uvicorn alone, each server process writing its own reports (the
    SQLite set-up before the writer process, kept for comparison)."""
    if writer == "process":
        cmd = [str(BIN / "gridsvc"), "serve", "--no-access-log"]
    else:
        cmd = [str(BIN / "python"), "-m", "uvicorn", "--factory", "gridsvc.api.app:create_app"]
        cmd += ["--log-level", "warning", "--no-access-log"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with open(log, "ab") as out:  # its own session: kill takes the workers and the writer
        proc = subprocess.Popen(
            cmd, env=env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(
                    f"http://127.0.0.1:{port}/api/v1/match?lon=121.45&lat=31.33", timeout=1
                ).status_code
                == 200
            ):
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the service did not start within 60 s:\n{log.read_text()[-3000:]}")


def slow_commits(log: Path) -> str:
    """What the writer process logged about stalls over 100 ms (commits, checkpoint catch-ups)."""
    text = log.read_text()
    took = [int(m) for m in re.findall(r"a commit of \d+ reports took (\d+) ms", text)]
    caught = [int(m) for m in re.findall(r"catching up with a checkpoint took (\d+) ms", text)]
    said = [
        f"{len(found)} {what} over 100 ms, longest {max(found)} ms"
        for what, found in (("commits", took), ("checkpoint catch-ups", caught))
        if found
    ]
    return "; ".join(said) + " (over the whole run)" if said else "no commit over 100 ms"


@dataclass
class Figures:
    """One load's answer: acknowledged per second and latency in ms."""

    rate: float
    p50: float
    p99: float
    top: float
    failed: int

    @classmethod
    def of(cls, ok: int, latencies: list[float], failed: int, seconds: float) -> Figures:
        ms = np.array(latencies) * 1000
        return cls(
            ok / seconds,
            float(np.percentile(ms, 50)),
            float(np.percentile(ms, 99)),
            float(ms.max()),
            failed,
        )


@dataclass
class Run:
    """One backend at one worker count: the figures the summary lines up."""

    backend: Backend
    workers: int
    loads: dict[str, Figures] = field(default_factory=dict)
    cpu_ms: tuple[float, float] = (0.0, 0.0)  # per report: the service's, the database's
    stored: int = 0
    acknowledged: int = 0
    open_stalls: int = 0
    #: bytes on disk a case, indexes included: its row, its report event's
    case_bytes: tuple[float, float] = (0.0, 0.0)
    wal_bytes: float = 0.0  # write-ahead log per report (PostgreSQL)

    @property
    def label(self) -> str:
        return f"{self.backend.title}, {self.workers} w"


def report_line(name: str, ok: int, latencies: list[float], failed: int, seconds: float) -> None:
    ms = np.array(latencies) * 1000
    print(
        f"  {name:<44} {ok / seconds:>7,.0f} /s   p50 {np.percentile(ms, 50):6.1f} ms   "
        f"p99 {np.percentile(ms, 99):6.1f} ms   max {ms.max():6.1f} ms   "
        f"({ok:,} ok, {failed:,} failed)"
    )


def within(latencies: list[float], failed: int, bound_ms: float) -> bool:
    """p99 under the bound with no report failed: the bound the target sets on latency."""
    return failed == 0 and float(np.percentile(np.array(latencies) * 1000, 99)) < bound_ms


def verdict(met: bool, disk_stalls: int) -> str:
    """Met or not; a miss while the probe stalled is put down to the disk, in so many words."""
    if met:
        return "met"
    if disk_stalls:
        return f"NOT met, while the disk stalled ({disk_stalls} probe fsyncs over 30 ms)"
    return "NOT met, with the disk quiet"


def numbers(text: str, kind: type = float) -> list:  # type: ignore[type-arg]
    """``"2,3"`` -> [2.0, 3.0]; the empty string -> none."""
    try:
        found = [kind(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of numbers") from None
    if any(k <= 0 for k in found):
        raise argparse.ArgumentTypeError(f"the numbers must be positive: {text!r}")
    return found


def run(backend: Backend, workers: int, args: argparse.Namespace, tmp: Path) -> Run:
    """Start the service on a fresh database, run every load, kill -9 it, count the cases."""
    url = backend.database()
    env = {
        **os.environ,
        "GRIDSVC_DATABASE_URL": url,
        "GRIDSVC_ATTACHMENTS_DIR": str(tmp),
        "GRIDSVC_RATE_PER_MINUTE": "10000000",
    }
    key = prepare(env)
    port = free_port()
    points = town_points(200_000)
    post_headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    categories = inside_categories()

    def post(i: int) -> bytes:
        lon, lat = points[i % len(points)]
        body = {
            "lon": lon,
            "lat": lat,
            "crs": "wgs84",
            "category": categories[(i * 7919) % len(categories)],
            "description": "bench",
        }
        return http_request("POST", "/api/v1/reports", post_headers, json.dumps(body).encode())

    def match(i: int) -> bytes:
        lon, lat = points[i % len(points)]
        return http_request("GET", f"/api/v1/match?lon={lon}&lat={lat}", {})

    result, bound = Run(backend, workers), BOUND_MS[backend.name]
    server_log = args.server_log or tmp / f"server-{backend.name}-{workers}.log"
    probe = DiskProbe(tmp)
    proc = start(env, port, workers, args.writer, server_log)
    if workers > 1:
        time.sleep(10)  # the first worker answers; the others are still loading the town
    writer = args.writer if backend.name == "sqlite" else "each worker"
    print(
        f"[api] {backend.storage}, {workers} worker(s), reports written by "
        f"{'a ' + writer if backend.name == 'sqlite' else writer}, {args.seconds:.0f} s per load"
    )
    seconds, acked = args.seconds, 0
    try:

        def measure(name: str, figures: tuple[int, list[float], int]) -> Figures:
            report_line(name, *figures, seconds)
            result.loads[name] = Figures.of(*figures, seconds)
            return result.loads[name]

        # warm up (first statements compiled, caches filled), as a running service is
        acked += asyncio.run(paced(port, post, args.rate, 2.0, seed=3))[0]
        ours = lambda pid, ppid, session: session == proc.pid  # noqa: E731
        began, cpu_before = time.time(), (cpu_seconds(ours, proc.pid), backend.cpu())
        wal_before = backend.wal_position()
        at_rate = asyncio.run(paced(port, post, args.rate, seconds))
        cpu_after = (cpu_seconds(ours, proc.pid), backend.cpu())
        result.wal_bytes = (backend.wal_position() - wal_before) / max(at_rate[0], 1)
        fsyncs = probe.fsyncs(began, time.time())
        result.open_stalls = stalls(fsyncs)
        first = measure(f"POST /api/v1/reports at {args.rate:.0f}/s (open)", at_rate)
        print(f"  {'':<44} the disk beside it: {disk_line(fsyncs)}")
        acked += at_rate[0]
        result.cpu_ms = tuple(  # type: ignore[assignment]
            (after - before) * 1000 / max(at_rate[0], 1)
            for before, after in zip(cpu_before, cpu_after, strict=True)
        )
        print(
            f"  {'':<44} CPU per report: service {result.cpu_ms[0]:.2f} ms"
            + (
                f", database {result.cpu_ms[1]:.2f} ms; WAL {result.wal_bytes:,.0f} bytes"
                if backend.name != "sqlite"
                else ""
            )
        )
        unbroken, held = within(at_rate[1], at_rate[2], bound), 1.0
        for k in sorted(args.headroom):
            began = time.time()
            figures = asyncio.run(paced(port, post, args.rate * k, seconds, seed=11 + int(k * 10)))
            measure(f"POST /api/v1/reports at {args.rate * k:.0f}/s (open, {k:g}x)", figures)
            print(f"  {'':<44} the disk beside it: {disk_line(probe.fsyncs(began, time.time()))}")
            acked += figures[0]
            unbroken = unbroken and within(figures[1], figures[2], bound)
            held = k if unbroken else held
        if args.headroom:
            print(
                f"  headroom: p99 < {bound:.0f} ms held up to {held:g}x the target rate"
                if within(at_rate[1], at_rate[2], bound)
                else "  headroom: none, the target rate itself missed the bound"
            )
        began = time.time()
        cap = asyncio.run(load(port, post, args.clients, seconds))
        measure(f"POST /api/v1/reports, {args.clients} clients (closed)", cap)
        print(f"  {'':<44} the disk beside it: {disk_line(probe.fsyncs(began, time.time()))}")
        acked += cap[0]
        measure(
            f"GET /api/v1/match at {args.rate:.0f}/s (open)",
            asyncio.run(paced(port, match, args.rate, seconds)),
        )
        measure(
            f"GET /api/v1/match, {args.clients} clients (closed)",
            asyncio.run(load(port, match, args.clients, seconds)),
        )
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # kill -9 the server and every worker
        proc.wait(timeout=30)
        probe.close()
    engine = make_engine(url)
    with engine.connect() as conn:
        result.stored = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
        result.case_bytes = tuple(  # type: ignore[assignment]
            conn.execute(text(TABLE_BYTES[backend.name]), {"table": table}).scalar_one()
            / max(result.stored, 1)
            for table in ("cases", "case_events")
        )
    engine.dispose()
    result.acknowledged = acked
    print(
        f"  durable: {result.stored:,} cases in the database after kill -9, {acked:,} "
        f"acknowledged ({'all there' if result.stored == acked else 'MISMATCH'}); "
        f"on disk a case {result.case_bytes[0]:,.0f} + its event {result.case_bytes[1]:,.0f} "
        "bytes (indexes included)"
    )
    if backend.name == "sqlite" and args.writer == "process":
        print(f"  intake writer: {slow_commits(server_log)}")
    met = first.rate >= args.rate and within(at_rate[1], at_rate[2], bound)
    print(
        f"  target ({backend.title}): ≥ {args.rate:.0f} durable reports/s with p99 < {bound:.0f} "
        f"ms: {verdict(met and result.stored == acked, result.open_stalls)} "
        f"({first.rate:,.0f}/s, p99 {first.p99:.1f} ms, {first.failed} failed)"
    )
    return result


def summary(runs: list[Run], args: argparse.Namespace) -> None:
    """The runs side by side, one column each, and PostgreSQL's targets against SQLite."""
    width = max(22, *(len(r.label) + 2 for r in runs))
    names = list(runs[0].loads)
    print("\nside by side (reports/s acknowledged; p50 / p99 in ms)")
    print(f"  {'':<44}" + "".join(f"{r.label:>{width}}" for r in runs))
    for name in names:
        cells = []
        for r in runs:
            f = r.loads.get(name)
            cells.append(f"{f.rate:,.0f} {f.p50:.1f}/{f.p99:.1f}" if f else "-")
        print(f"  {name:<44}" + "".join(f"{c:>{width}}" for c in cells))
    rows = {
        "CPU ms per report (service+database)": [
            f"{r.cpu_ms[0]:.2f}+{r.cpu_ms[1]:.2f}" for r in runs
        ],
        "cases after kill -9 / acknowledged": [f"{r.stored}/{r.acknowledged}" for r in runs],
        "bytes a case + its event (with indexes)": [
            f"{r.case_bytes[0]:,.0f}+{r.case_bytes[1]:,.0f}" for r in runs
        ],
        "WAL bytes a report": [f"{r.wal_bytes:,.0f}" if r.wal_bytes else "-" for r in runs],
    }
    for name, cells in rows.items():
        print(f"  {name:<44}" + "".join(f"{c:>{width}}" for c in cells))
    capacity = f"POST /api/v1/reports, {args.clients} clients (closed)"
    for r in runs:
        if r.backend.name != "postgresql":
            continue
        base = next(
            (s for s in runs if s.backend.name == "sqlite" and s.workers == r.workers), None
        )
        if base is None:
            continue
        share = r.loads[capacity].rate / base.loads[capacity].rate
        first = next(iter(r.loads.values()))
        met = share >= PG_CAPACITY_SHARE and first.p99 < BOUND_MS["postgresql"]
        print(
            f"target (PostgreSQL, {r.workers} w): capacity ≥ {PG_CAPACITY_SHARE}x SQLite's and "
            f"p99 < 50 ms at {args.rate:.0f}/s: {verdict(met, r.open_stalls)} "
            f"(capacity {share:.2f}x, p99 {first.p99:.1f} ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="postgresql: a throwaway durable cluster, beside the SQLite run in the same "
        "invocation",
    )
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rate", type=float, default=500.0, help="open-loop arrivals per second")
    parser.add_argument("--clients", type=int, default=16, help="closed-loop clients (capacity)")
    parser.add_argument(
        "--workers",
        type=lambda s: numbers(s, int),
        default=[1],  # as `gridsvc serve`: at 500/s, p99 was shorter than with 2 (README)
        help="server processes (gridsvc serve --workers), comma-separated: one run each",
    )
    parser.add_argument(
        "--writer",
        choices=["process", "thread"],
        default="process",
        help="on SQLite, who writes reports: the intake writer process (gridsvc serve) or a "
        "thread in each server process (uvicorn alone)",
    )
    parser.add_argument(
        "--headroom",
        type=numbers,
        default=[2.0, 3.0],
        help="also run the open loop at these multiples of --rate (comma-separated; '' for none)",
    )
    parser.add_argument(
        "--server-log",
        type=Path,
        help="keep the service's output in this file (by default it goes with the database)",
    )
    args = parser.parse_args()
    speed = reference_loop_ms()  # before anything starts: the machine to itself
    print(f"host: reference loop {speed:.0f} ms (lower is faster)")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        backends: list[Backend] = [Backend(tmp)]
        try:
            if args.db == "postgresql":
                backends.append(PostgreSQL(tmp))
            runs = [run(b, w, args, tmp) for w in args.workers for b in backends]
        finally:
            for backend in backends:
                backend.close()
    if len(runs) > 1:
        summary(runs, args)


if __name__ == "__main__":
    main()
