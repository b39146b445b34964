"""``gridsvc serve --workers N`` builds the app once and forks its workers from it (issue 21).

Spawned (uvicorn's own workers), each worker imported the libraries, read the layers
and built the matcher again: a 20,000-grid town took 10.5 s of CPU and 630 MB PSS
for two workers where one took 5 s and 330 MB (benchmarks/bench_serve.py).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx

from tests.api.serving import INSIDE, Service


def _cmdline(pid: int) -> bytes | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # gone meanwhile
        return None


def _forked_workers(service: Service) -> list[int]:
    """The children that are the serve process itself forked (same command line): the
    workers, not the intake writer or a spawned interpreter."""
    mine = _cmdline(service.proc.pid)
    return [pid for pid in service.workers() if mine and _cmdline(pid) == mine]


def _wait(what: object, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if what():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_serve_forks_its_workers_from_one_built_app(tmp_path: Path) -> None:
    env = os.environ | {"GRIDSVC_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}"}
    service = Service(env, tmp_path / "serve.log", "serve --workers 2")
    try:
        service.wait_ready()
        _wait(lambda: service.tail().count("Application startup complete") >= 2)
        workers = _forked_workers(service)
        assert len(workers) == 2, service.tail()
        # one build, one index file beside the database, mapped by both workers
        (index,) = (tmp_path / "index-cache").glob("matcher-*.idx")
        for pid in workers:
            assert str(index) in Path(f"/proc/{pid}/maps").read_text()
        url = f"{service.url}/api/v1/match?lon={INSIDE[0]}&lat={INSIDE[1]}&crs=cgcs2000"
        answers = {httpx.get(url, timeout=10).json()["grid_code"] for _ in range(6)}
        assert len(answers) == 1 and None not in answers
        # a worker that dies is replaced by another fork of the same app
        os.kill(workers[0], signal.SIGKILL)
        _wait(lambda: len(set(_forked_workers(service)) - {workers[0]}) == 2)
        assert httpx.get(url, timeout=10).status_code == 200
        assert service.terminate() == 0, service.tail()
        _wait(lambda: not _forked_workers(service), 10)
    finally:
        service.kill()
