"""The real service as a subprocess, patrols loading it, and the checks after a crash.

Shared by the fault tests (imported explicitly, not a conftest): kill -9 on
SQLite (``test_durability``) and on PostgreSQL (``test_pg_faults``), and two
hosts on one database (``test_hosts``).

:class:`Service` runs ``uvicorn`` or ``gridsvc serve`` on a free port in a
session of its own, so a kill takes its workers (and on SQLite its intake writer)
with it. :class:`Patrols` are a few concurrent clients sending reports, each
with an Idempotency-Key of its own, until told to stop, and keep every answer.
:func:`check_after_restart` is what a crash must leave: every acknowledged
case as it was, and every key sent (answered or not) one case when sent again.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from gridsvc.config import ROOT
from gridsvc.store.engine import make_engine

INSIDE = (121.442747, 31.339568)
START_TIMEOUT_S = 60.0
#: read afresh on every GET: not part of what was acknowledged
COMPUTED_ON_READ = {"supervision", "possible_duplicates"}
REPORTS = "/api/v1/reports"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: how the service is run: one uvicorn process writing its own reports, or ``gridsvc
#: serve`` (on SQLite with the intake writer process writing for its server processes)
COMMANDS = {
    "uvicorn": [sys.executable, "-m", "uvicorn", "--factory", "gridsvc.api.app:create_app",
                "--log-level", "warning"],
    "serve --workers 2": [sys.executable, "-m", "gridsvc", "serve", "--workers", "2",
                          "--no-access-log"],
    "serve": [sys.executable, "-m", "gridsvc", "serve", "--no-access-log"],
}  # fmt: skip


class Service:
    """The service on a port, in a process group of its own, logging to a file."""

    def __init__(self, env: dict[str, str], log: Path, how: str = "uvicorn") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [*COMMANDS[how], "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # kill takes the workers and the writer with it
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"the service exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if httpx.get(self.url + "/", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        pytest.fail(f"the service did not answer within {START_TIMEOUT_S} s:\n{self.tail()}")

    def workers(self) -> list[int]:
        """The server processes uvicorn's supervisor started (``--workers N``), by pid."""
        found = []
        for entry in Path("/proc").iterdir():
            with contextlib.suppress(OSError, IndexError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                command = (entry / "cmdline").read_bytes()
                if ppid == self.proc.pid and b"resource_tracker" not in command:
                    found.append(int(entry.name))
        return sorted(found)

    def kill_worker(self) -> int:
        """SIGKILL one server process (the supervisor starts another); its pid."""
        pids = self.workers()
        assert pids, f"no worker process under {self.proc.pid}:\n{self.tail()}"
        os.kill(pids[0], signal.SIGKILL)
        return pids[0]

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no flush, no goodbye."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self) -> int:
        """SIGTERM to the main process only, as systemd or docker stop send it; its exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


SEEN = datetime.now(UTC).replace(microsecond=0)  # one moment: a retry's body is the same


def report_body(i: int) -> dict[str, Any]:
    """Different reports: categories, severities, CRSs, text, client times."""
    categories = ["CG01", "CG12", "CG14", "CG22", "CG26", "CG17"]
    body: dict[str, Any] = {
        "lon": INSIDE[0] + (i % 7) * 0.0003,
        "lat": INSIDE[1] - (i % 5) * 0.0003,
        "crs": "cgcs2000" if i % 3 else "wgs84",
        "category": categories[i % len(categories)],
        "description": f"第{i}号巡查上报: 现场情况 #{i}",
        "reporter": f"网格员{i % 4}",
        "address": f"示范路{i}号",
        # within the window a report's client_time may take (30 days back to a day ahead)
        "client_time": (SEEN - timedelta(minutes=i % 600)).isoformat(),
    }
    if i % 4 == 0:
        body["severity"] = 3
    return body


def idempotency_key(i: int) -> str:
    return f"durable-{i:05d}"


def stable(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k not in COMPUTED_ON_READ}


class Patrols:
    """``clients`` threads sending report after report to ``url`` until :meth:`stop`.

    Report ``i`` always has the same body and Idempotency-Key, so it can be sent
    again after a crash. Kept: the 201s' bodies (``acked``), every ``i`` sent
    whatever became of it (``sent``), the count of each status (``statuses``;
    0 for no answer) and the answers that were neither 201 nor a lost connection
    (``refused``).
    """

    def __init__(self, url: str, key: str, clients: int = 4) -> None:
        self.url, self.auth = url, {"Authorization": f"Bearer {key}"}
        self.acked: dict[int, dict[str, Any]] = {}
        self.sent: set[int] = set()
        self.statuses: Counter[int] = Counter()
        self.refused: list[httpx.Response] = []
        self._numbers = itertools.count()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._patrol, daemon=True) for _ in range(clients)]

    def __enter__(self) -> Patrols:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def wait_acked(self, count: int, timeout: float = 60.0) -> None:
        """Until ``count`` reports in all got their 201 (a test failure after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while len(self.acked) < count:
            assert time.monotonic() < deadline, (
                f"only {len(self.acked)} of {count} reports acknowledged; {dict(self.statuses)}"
            )
            time.sleep(0.02)

    def wait_status(self, status: int, timeout: float = 30.0) -> None:
        """Until some answer had ``status``."""
        deadline = time.monotonic() + timeout
        while not self.statuses[status]:
            assert time.monotonic() < deadline, f"no {status} within {timeout} s: {self.statuses}"
            time.sleep(0.02)

    def _patrol(self) -> None:
        with httpx.Client(base_url=self.url, headers=self.auth, timeout=10) as client:
            while not self._stop.is_set():
                with self._lock:
                    i = next(self._numbers)
                    self.sent.add(i)
                try:
                    answer = client.post(
                        REPORTS,
                        json=report_body(i),
                        headers={"Idempotency-Key": idempotency_key(i)},
                    )
                except httpx.ConnectError:
                    with self._lock:
                        self.sent.discard(i)  # never reached a server: nothing to send again
                    time.sleep(0.01)
                    continue
                except httpx.HTTPError:
                    with self._lock:
                        self.statuses[0] += 1  # in flight when a process died: never answered
                    time.sleep(0.01)
                    continue
                with self._lock:
                    self.statuses[answer.status_code] += 1
                    if answer.status_code == 201:
                        self.acked[i] = answer.json()
                    else:
                        self.refused.append(answer)
                        time.sleep(0.01)  # a refusal is quick: do not spin on it


def check_after_restart(url: str, key: str, patrols: Patrols, database_url: str) -> None:
    """What a crash must leave, checked through the restarted service at ``url``.

    Every acknowledged case reads back as it was acknowledged; every report sent,
    answered or not, sent again with its Idempotency-Key is a 201 for one case (the
    acknowledged one's own), so the database then holds exactly one case per key,
    each with its report event (each intake was one transaction).
    """
    assert patrols.acked, "nothing was acknowledged before the crash"
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10) as c:
        for i, before in sorted(patrols.acked.items()):
            now = c.get(f"/api/v1/cases/{before['id']}")
            assert now.status_code == 200, (i, now.text)
            assert stable(now.json()) == stable(before), f"report {i} changed across the crash"
        for i in sorted(patrols.sent):
            again = c.post(
                REPORTS, json=report_body(i), headers={"Idempotency-Key": idempotency_key(i)}
            )
            assert again.status_code == 201, (i, again.text)
            if i in patrols.acked:
                assert again.json()["id"] == patrols.acked[i]["id"], f"report {i} made a new case"
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            cases = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
            orphans = conn.execute(
                text(
                    "SELECT count(*) FROM cases c WHERE NOT EXISTS "
                    "(SELECT 1 FROM case_events e WHERE e.case_id = c.id)"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    assert cases == len(patrols.sent), f"{cases} cases for {len(patrols.sent)} keys sent"
    assert orphans == 0
