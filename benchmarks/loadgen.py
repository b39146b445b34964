"""The load generator and the disk probe of ``bench_api.py``, kept apart from what it measures.

Client and server share this machine's two cores, so the client must cost far
less than the server: a minimal keep-alive HTTP/1.1 client on asyncio streams,
a closed loop (:func:`load`) and an open loop (:func:`paced`, latency from each
request's due moment), no cycle collection while measuring; and an fsync probe
in a process of its own that tells a disk stall from a slow service.
"""

from __future__ import annotations

import asyncio
import gc
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np


def reference_loop_ms() -> float:
    """How fast this host runs Python now: the best of 3 runs of a fixed loop, in ms.

    The host's speed is not fixed: on 2026-12-02 the same loop took 1.6 times as long
    in one hour as in the next, and every figure below moves with it. Printed beside
    the figures so runs from different hours and days can be told apart.
    """

    def once() -> float:
        start, total = time.perf_counter(), 0
        for i in range(2_000_000):
            total += i
        return time.perf_counter() - start

    return min(once() for _ in range(3)) * 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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

    with quiet_collector():
        await asyncio.gather(*(worker(k) for k in range(clients)))
    return ok, latencies, failed


async def paced(
    port: int, make_request, rate: float, seconds: float, connections: int = 64, seed: int = 11
) -> tuple[int, list[float], int]:  # type: ignore[no-untyped-def]
    """Open loop: ``rate * seconds`` requests at random moments of the window; latency from
    the moment each was due. (Uniform random moments are a Poisson stream given its count.)

    Returns (successes, latencies in s, failures).
    """
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await Connection.open(port))
    latencies: list[float] = []
    counts = {"ok": 0, "failed": 0}

    async def one(i: int, due: float) -> None:
        conn = await pool.get()  # if every connection is busy, the wait counts too
        status = await conn.request(make_request(i))
        latencies.append(time.perf_counter() - due)
        counts["ok" if status in (200, 201) else "failed"] += 1
        pool.put_nowait(conn)

    rng = random.Random(seed)
    moments = sorted(rng.uniform(0, seconds) for _ in range(round(rate * seconds)))
    running: set[asyncio.Task[None]] = set()
    with quiet_collector():
        start = time.perf_counter()
        for i, offset in enumerate(moments):
            due = start + offset
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(i, due))
            running.add(task)
            task.add_done_callback(running.discard)
        await asyncio.gather(*running)
    while not pool.empty():
        pool.get_nowait().writer.close()
    return counts["ok"], latencies, counts["failed"]


@contextmanager
def quiet_collector() -> Iterator[None]:
    """No cycle collection in the load generator while it measures.

    geopandas, pyarrow and the points make the client a big heap; a full
    collection stopped it for 50-70 ms, and every request due meanwhile was
    charged to the server.
    """
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


# A process of its own (not a thread of this client, whose event loop it would hold up):
# 8 KB rewritten in place and fdatasync'ed, as a commit to a reused log is, 20 times a
# second; every call's start and duration go to a file.
PROBE = """
import os, sys, time
path, out, pause = sys.argv[1], sys.argv[2], float(sys.argv[3])
fd = os.open(path, os.O_RDWR | os.O_CREAT)
os.write(fd, bytes(1 << 20))
os.fsync(fd)
with open(out, "w") as log:
    for i in iter(int, 1):
        os.pwrite(fd, os.urandom(8192), (i % 128) * 8192)
        t = time.time()
        os.fdatasync(fd)
        log.write(f"{t} {time.time() - t}\\n")
        log.flush()
        time.sleep(pause)
"""


class DiskProbe:
    """fsyncs of a file of its own beside the service's database, timed.

    A report's 201 waits for an fsync, so a disk that stalls shows in p99
    however the service is built. The probe tells the two apart: when the
    reports' p99 is long and the probe's fsyncs stalled at the same time, it
    was the disk (on this VM, 100-500 ms stalls came and went by the minute).
    """

    def __init__(self, folder: Path, pause: float = 0.05) -> None:
        self.log = folder / "disk-probe.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", PROBE, str(folder / "disk-probe.bin"), str(self.log), str(pause)]
        )

    def fsyncs(self, start: float, end: float) -> list[float]:
        """The probe's fsync times (ms) between two moments (``time.time()``)."""
        return [
            float(d) * 1000
            for t, d in (line.split() for line in self.log.read_text().splitlines())
            if start <= float(t) < end
        ]

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


STALL_MS = 30  # a probe's fsync this long is the disk stalling: it writes 8 KB in place


def stalls(fsyncs: list[float]) -> int:
    return sum(d > STALL_MS for d in fsyncs)


def disk_line(fsyncs: list[float]) -> str:
    """What the probe saw under a load, in words."""
    if not fsyncs:
        return "no probe finished"
    return (
        f"fsync p99 {np.percentile(fsyncs, 99):.1f} ms, max {max(fsyncs):.0f} ms, "
        f"{stalls(fsyncs)} over {STALL_MS} ms ({len(fsyncs)} probes)"
    )
