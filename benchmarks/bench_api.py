"""Intake benchmark: durable reports/s and latency of the real service on SQLite.

Run with ``make bench`` (or ``python benchmarks/bench_api.py [--seconds 20]
[--clients 16] [--workers 1]``). It migrates a fresh SQLite database, loads
the demo town, creates a patrol key, starts ``uvicorn`` as a subprocess and
sends reports from concurrent keep-alive clients for a fixed time. Only 201
answers count, and at the end the database is checked to hold exactly that
many cases (durable: WAL with synchronous=FULL, so each 201 was on disk).
The same load then runs against ``GET /api/v1/match`` for comparison.
Client and server share this machine's two cores, so the figures are a
lower bound for a server with the machine to itself.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gridsvc.config import DEMO_DIR  # noqa: E402
from gridsvc.layerio import read_layer  # noqa: E402

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def start(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    cmd = [
        str(BIN / "python"),
        "-m",
        "uvicorn",
        "--factory",
        "gridsvc.api.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    proc = subprocess.Popen(
        cmd, env=env, start_new_session=True
    )  # its own group: kill takes the workers
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
    raise SystemExit("the service did not start within 60 s")


class Connection:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams.

    httpx spends about a millisecond of CPU per request, and client and server
    share two cores here, so the load generator must cost far less than the
    server; this one only writes a request and reads a Content-Length body.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def request(self, raw: bytes) -> int:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status


def http_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def load(
    port: int, make_request, clients: int, seconds: float
) -> tuple[int, list[float], int]:  # type: ignore[no-untyped-def]
    """Run ``clients`` loops for ``seconds``; (successes, latencies in s, failures)."""
    latencies: list[float] = []
    ok = failed = 0
    stop = time.monotonic() + seconds

    async def worker(k: int) -> None:
        nonlocal ok, failed
        conn = await Connection.open(port)
        i = k
        while time.monotonic() < stop:
            raw = make_request(i)
            start_t = time.perf_counter()
            status = await conn.request(raw)
            latencies.append(time.perf_counter() - start_t)
            if status in (200, 201):
                ok += 1
            else:
                failed += 1
            i += clients
        conn.writer.close()

    await asyncio.gather(*(worker(k) for k in range(clients)))
    return ok, latencies, failed


def report_line(name: str, ok: int, latencies: list[float], failed: int, seconds: float) -> None:
    ms = np.array(latencies) * 1000
    print(
        f"  {name:<28} {ok / seconds:>8,.0f} /s   p50 {np.percentile(ms, 50):6.1f} ms   "
        f"p99 {np.percentile(ms, 99):6.1f} ms   ({ok:,} ok, {failed:,} failed)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes (>1 is killed as a process group)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        env = {
            **os.environ,
            "GRIDSVC_DATABASE_URL": f"sqlite:///{db}",
            "GRIDSVC_ATTACHMENTS_DIR": tmp,
            "GRIDSVC_RATE_PER_MINUTE": "10000000",
        }
        key = prepare(env)
        port = free_port()
        points = town_points(200_000)
        headers = {"Authorization": f"Bearer {key}"}

        post_headers = {**headers, "Content-Type": "application/json"}

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

        proc = start(env, port, args.workers)
        if args.workers > 1:
            time.sleep(10)  # the first worker answers; the others are still loading the town
        try:
            print(
                f"[api] {args.clients} clients, {args.seconds:.0f} s each, {args.workers} worker(s), SQLite WAL + synchronous=FULL"
            )
            ok, lat, failed = asyncio.run(load(port, post, args.clients, args.seconds))
            report_line("POST /api/v1/reports", ok, lat, failed, args.seconds)
            ok_m, lat_m, failed_m = asyncio.run(load(port, match, args.clients, args.seconds))
            report_line("GET /api/v1/match", ok_m, lat_m, failed_m, args.seconds)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # kill -9 the server and every worker
            proc.wait(timeout=30)
        stored = sqlite3.connect(db).execute("select count(*) from cases").fetchone()[0]
        print(
            f"  durable: {stored:,} cases in the database after kill -9, {ok:,} acknowledged "
            f"({'all there' if stored == ok else 'MISMATCH'})"
        )
        ms99 = float(np.percentile(np.array(lat) * 1000, 99))
        print(
            f"target: ≥ 500 durable reports/s with p99 < 20 ms (got {ok / args.seconds:,.0f}/s, p99 {ms99:.1f} ms)"
        )


if __name__ == "__main__":
    main()
