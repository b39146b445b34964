"""A report that got its 201 survives the process being killed (kill -9, no shutdown).

The real service runs as a subprocess on a fresh SQLite file: uvicorn with
the app factory (one process writing its own reports), and ``gridsvc serve``
with two server processes and the intake writer process. Patrols submit reports from a few concurrent clients; once 30
are acknowledged the process is killed with SIGKILL while others are still in
flight. After a restart every acknowledged case must be there with the same
fields and history, and an acknowledged Idempotency-Key must still replay.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from gridsvc.config import ROOT
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key
from gridsvc.store.engine import make_engine, upgrade

INSIDE = (121.442747, 31.339568)
ACKNOWLEDGED = 30
START_TIMEOUT_S = 60.0
#: read afresh on every GET: not part of what was acknowledged
COMPUTED_ON_READ = {"supervision", "possible_duplicates"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: how the service is run: one uvicorn process writing its own reports, or ``gridsvc
#: serve`` with two server processes and the intake writer process writing for both
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


@pytest.fixture
def services(tmp_path: Path) -> Iterator[tuple[list[Service], dict[str, str], str]]:
    """A factory's worth of state; every process started is killed at the end, whatever happens."""
    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    engine = make_engine(url)
    key = create_key(engine, Role.PATROL, "patrol-durable")
    engine.dispose()
    env = os.environ | {
        "GRIDSVC_DATABASE_URL": url,
        "GRIDSVC_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
        "GRIDSVC_RATE_PER_MINUTE": "1000000",
    }
    started: list[Service] = []
    try:
        yield started, env, key
    finally:
        for service in started:
            service.kill()


SEEN = datetime.now(UTC).replace(microsecond=0)  # one moment: a retry's body is the same


def report_body(i: int) -> dict[str, Any]:
    """Thirty-odd different reports: categories, severities, CRSs, text, client times."""
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


def stable(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k not in COMPUTED_ON_READ}


@pytest.mark.parametrize("how", list(COMMANDS))
def test_every_acknowledged_report_survives_kill_9(
    services: tuple[list[Service], dict[str, str], str], tmp_path: Path, how: str
) -> None:
    started, env, key = services
    log = tmp_path / "service.log"
    first = Service(env, log, how)
    started.append(first)
    first.wait_ready()

    acked: dict[int, dict[str, Any]] = {}
    keys: dict[int, str] = {}
    lock = threading.Lock()
    enough = threading.Event()
    auth = {"Authorization": f"Bearer {key}"}

    def submit(i: int) -> None:
        if enough.is_set():
            return
        headers = auth | {"Idempotency-Key": f"durable-{i:03d}"}
        try:
            response = httpx.post(
                first.url + "/api/v1/reports", json=report_body(i), headers=headers, timeout=10
            )
        except httpx.HTTPError:
            return  # in flight when the process died: never acknowledged
        if response.status_code == 201:
            with lock:
                acked[i] = response.json()
                keys[i] = headers["Idempotency-Key"]
                if len(acked) >= ACKNOWLEDGED:
                    enough.set()

    with ThreadPoolExecutor(max_workers=4) as pool:
        for i in range(ACKNOWLEDGED + 20):
            pool.submit(submit, i)
        assert enough.wait(timeout=60), f"only {len(acked)} reports acknowledged:\n{first.tail()}"
        first.kill()  # while the other workers may still be sending
    assert len(acked) >= ACKNOWLEDGED

    second = Service(env, log, how)
    started.append(second)
    second.wait_ready()
    with httpx.Client(base_url=second.url, headers=auth, timeout=10) as client:
        for i, before in acked.items():
            response = client.get(f"/api/v1/cases/{before['id']}")
            assert response.status_code == 200, (i, response.text)
            assert stable(response.json()) == stable(before), f"report {i} changed across kill -9"
        # An acknowledged Idempotency-Key still answers the original case after the restart.
        i = min(acked)
        retry = client.post(
            "/api/v1/reports", json=report_body(i), headers={"Idempotency-Key": keys[i]}
        )
        assert retry.status_code == 201 and retry.json()["id"] == acked[i]["id"]

    engine = make_engine(env["GRIDSVC_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            ids = {row[0] for row in conn.execute(text("SELECT id FROM cases"))}
            orphans = conn.execute(
                text(
                    "SELECT count(*) FROM cases c WHERE NOT EXISTS "
                    "(SELECT 1 FROM case_events e WHERE e.case_id = c.id)"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    assert {v["id"] for v in acked.values()} <= ids
    assert orphans == 0  # no case without its report event: each intake is one transaction
    second.kill()


@pytest.mark.parametrize("how", ["serve", "serve --workers 2"])
def test_serve_ends_with_exit_0_on_sigterm(
    services: tuple[list[Service], dict[str, str], str], tmp_path: Path, how: str
) -> None:
    """Finding (issue 19, 5): serve died by the signal (-15) after a graceful stop."""
    started, env, key = services
    service = Service(env, tmp_path / "serve.log", how)
    started.append(service)
    service.wait_ready()
    assert service.terminate() == 0, service.tail()
    assert "Application shutdown complete" in service.tail()
