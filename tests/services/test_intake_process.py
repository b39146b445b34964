"""Reports written by the intake writer process, as ``gridsvc serve`` runs it.

Two CaseServices stand for two server processes; each hands its reports to
one IntakeServer (on a thread here, a process of its own under ``serve``)
through its Unix socket. What a patrol gets back must be what a local
writer gives: the stored case, its number, duplicates across both workers,
one case per Idempotency-Key; and a writer that is gone is a clear 503-class
error with nothing written, not a hang.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from case_kit import DISPATCHER, INSIDE, PATROL, Clock, run, service, submit
from sqlalchemy import Engine, text

from gridsvc.config import ROOT
from gridsvc.core.errors import StorageUnavailable
from gridsvc.services.cases import CaseService, Report
from gridsvc.services.intake_process import (
    SOCKET_NAME,
    IntakeServer,
    RemoteIntake,
    WriterProcess,
    answers,
)

#: read afresh on every GET: not part of what was answered at intake
COMPUTED_ON_READ = {"supervision", "possible_duplicates"}


class Writer:
    """An IntakeServer on a thread, on a socket in a short private directory."""

    def __init__(self, engine: Engine) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="gi-"))  # a socket path must stay short
        self.path = self.folder / SOCKET_NAME
        self.engine = engine
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> Writer:
        self.stop.clear()
        server = IntakeServer(self.engine, 50.0, timedelta(hours=72))
        self.thread = threading.Thread(target=server.serve, args=(self.path, self.stop))
        self.thread.start()
        # the socket's file is there before the server listens, and a halted server's stays:
        # ready is when it takes a connection (a restart under load was refused otherwise)
        deadline = time.monotonic() + 10
        while not answers(self.path) and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def halt(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def writer(engine: Engine) -> Iterator[Writer]:
    w = Writer(engine).start()
    yield w
    w.halt()


def worker(engine: Engine, clock: Clock, writer: Writer) -> CaseService:
    """A CaseService as a server process under ``gridsvc serve`` builds it."""
    return service(engine, clock, RemoteIntake(writer.path, timeout=10))


def at(category: str, dx: float = 0.0, dy: float = 0.0) -> Report:
    return Report(INSIDE[0] + dx, INSIDE[1] + dy, "cgcs2000", category, "巡查发现")


def ids(view: dict[str, Any]) -> list[int]:
    return [d["id"] for d in view["possible_duplicates"]]


def counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        cases = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
        events = conn.execute(text("SELECT count(*) FROM case_events")).scalar_one()
    return int(cases), int(events)


def test_the_answer_is_the_stored_case(engine: Engine, clock: Clock, writer: Writer) -> None:
    one = worker(engine, clock, writer)
    answer = submit(one, at("CG01"), PATROL)
    assert answer.status_code == 201
    body = answer.body
    assert body["number"].endswith(f"-{body['id']:07d}")
    stored = one.get(body["id"])
    drop = COMPUTED_ON_READ | {"etag"}
    assert {k: v for k, v in stored.items() if k not in drop} == {
        k: v for k, v in body.items() if k not in drop
    }
    assert [e["action"] for e in stored["history"]] == ["report"]


def test_duplicates_are_found_across_workers(engine: Engine, clock: Clock, writer: Writer) -> None:
    one, two = worker(engine, clock, writer), worker(engine, clock, writer)
    a = submit(one, at("CG09", 0.003), PATROL).body
    b = submit(two, at("CG09", 0.003), PATROL).body
    c = submit(one, at("CG09", 0.003), PATROL).body
    assert ids(b) == [a["id"]]
    assert sorted(ids(c)) == sorted([a["id"], b["id"]])
    one.act(a["id"], "cancel", DISPATCHER, a["etag"], {"reason": "误报"})  # in the worker
    d = submit(two, at("CG09", 0.003), PATROL).body
    assert sorted(ids(d)) == sorted([b["id"], c["id"]])  # the writer sees the cancellation


def test_one_key_sent_to_two_workers_at_once_opens_one_case(
    engine: Engine, clock: Clock, writer: Writer
) -> None:
    one, two = worker(engine, clock, writer), worker(engine, clock, writer)
    before = counts(engine)

    async def both() -> list[Any]:
        report = at("CG12", -0.002)
        return list(
            await asyncio.gather(
                one.submit(report, PATROL, "retry-from-a-bad-network"),
                two.submit(report, PATROL, "retry-from-a-bad-network"),
                return_exceptions=True,
            )
        )

    answers = run(both())
    bodies = [a.body for a in answers if not isinstance(a, Exception)]
    # each worker answers the one case, or 409 while the other still holds the key
    assert bodies and len({b["id"] for b in bodies}) == 1
    assert all(type(a).__name__ == "Conflict" for a in answers if isinstance(a, Exception))
    assert counts(engine) == (before[0] + 1, before[1] + 1)
    again = submit(two, at("CG12", -0.002), PATROL, "retry-from-a-bad-network")
    assert again.body["id"] == bodies[0]["id"]


def test_a_writer_that_is_gone_is_unavailable_and_nothing_is_written(
    engine: Engine, clock: Clock
) -> None:
    w = Writer(engine).start()
    one = worker(engine, clock, w)
    assert submit(one, at("CG14"), PATROL).status_code == 201
    w.halt()
    before = counts(engine)
    with pytest.raises(StorageUnavailable, match="intake writer"):
        submit(one, at("CG14"), PATROL)
    assert counts(engine) == before
    w.start()  # started again (as serve's keeper does): the worker links up anew
    assert submit(one, at("CG14"), PATROL).status_code == 201
    w.halt()


# ---- the process itself ---------------------------------------------------------------------


def _env(engine: Engine) -> dict[str, str]:
    return os.environ | {"GRIDSVC_DATABASE_URL": str(engine.url)}


def _wait(predicate: Any, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0): it has exited all the same
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_the_writer_exits_with_the_serve_process_that_started_it(engine: Engine) -> None:
    """``gridsvc serve`` killed with -9 must not leave its writer holding the database."""
    folder = Path(tempfile.mkdtemp(prefix="gi-"))
    parent = subprocess.Popen(
        [
            sys.executable, "-c",
            "import os, subprocess, sys, time\n"
            "w = subprocess.Popen([sys.executable, '-m', 'gridsvc.intake_writer', '--socket',"
            f" {str(folder / SOCKET_NAME)!r}, '--parent-pid', str(os.getpid())])\n"
            "print(w.pid, flush=True)\n"
            "time.sleep(600)\n",
        ],
        cwd=ROOT, env=_env(engine), stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert parent.stdout is not None
    writer_pid = int(parent.stdout.readline())
    try:
        assert _wait(lambda: (folder / SOCKET_NAME).exists()), "the writer did not start"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        assert _wait(lambda: not _alive(writer_pid), 10), "the writer outlived its parent"
    finally:
        if _alive(writer_pid):
            os.kill(writer_pid, signal.SIGKILL)


def test_serve_starts_the_writer_again_when_it_dies(
    engine: Engine, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDSVC_DATABASE_URL", str(engine.url))
    process = WriterProcess()
    path = process.start()
    try:
        first = process._proc
        assert first is not None
        one = service(engine, clock, RemoteIntake(path, timeout=10))
        assert submit(one, at("CG17"), PATROL).status_code == 201
        os.kill(first.pid, signal.SIGKILL)
        assert _wait(lambda: process._proc is not first and process._proc is not None)
        assert _wait(lambda: submit_ok(one)), "no report was taken after the restart"
    finally:
        process.stop()
    assert not path.parent.exists()  # its private directory is cleaned away


def submit_ok(svc: CaseService) -> bool:
    try:
        return submit(svc, at("CG17"), PATROL).status_code == 201
    except StorageUnavailable:
        return False


def test_a_slow_commit_is_logged_with_its_size_and_time(
    engine: Engine,
    clock: Clock,
    writer: Writer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An operator (and bench_api) learns from the log that reports waited for the disk."""
    import gridsvc.services.intake_process as intake_process

    one = worker(engine, clock, writer)
    with caplog.at_level("WARNING", logger="gridsvc.intake"):
        submit(one, at("CG22"), PATROL)
        assert not [r for r in caplog.records if "commit of" in r.getMessage()]
        monkeypatch.setattr(intake_process, "SLOW_COMMIT_S", 0.0)  # every commit is "slow"
        submit(one, at("CG22"), PATROL)
    slow = [r.getMessage() for r in caplog.records if "commit of" in r.getMessage()]
    assert len(slow) == 1 and re.fullmatch(
        r"intake writer: a commit of 1 reports took \d+ ms", slow[0]
    )
