"""A report that got its 201 survives the process being killed (kill -9, no shutdown).

The real service runs as a subprocess on a fresh SQLite file: uvicorn with
the app factory (one process writing its own reports), and ``gridsvc serve``
with two server processes and the intake writer process. Patrols submit
reports from a few concurrent clients; once 30 are acknowledged the process is
killed with SIGKILL while others are still in flight. After a restart every
acknowledged case must be there with the same fields and history, and every
report sent again with its Idempotency-Key must be one case, the acknowledged
one's own (``serving.check_after_restart``; the same on PostgreSQL in
``test_pg_faults``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from serving import COMMANDS, Patrols, Service, check_after_restart

from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key
from gridsvc.store.engine import make_engine, upgrade

ACKNOWLEDGED = 30


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


@pytest.mark.parametrize("how", list(COMMANDS))
def test_every_acknowledged_report_survives_kill_9(
    services: tuple[list[Service], dict[str, str], str], tmp_path: Path, how: str
) -> None:
    started, env, key = services
    log = tmp_path / "service.log"
    first = Service(env, log, how)
    started.append(first)
    first.wait_ready()

    with Patrols(first.url, key) as patrols:
        patrols.wait_acked(ACKNOWLEDGED)
        first.kill()  # while the other clients may still be sending
    second = Service(env, log, how)
    started.append(second)
    second.wait_ready()
    check_after_restart(second.url, key, patrols, env["GRIDSVC_DATABASE_URL"])
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
