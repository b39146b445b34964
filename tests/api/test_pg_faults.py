"""Faults on PostgreSQL under the service (issue 22 item 6).

A cluster of this module's own (the shared one serves every other test) is
stopped with ``pg_ctl -m immediate`` while the service runs, idle and under
load: every request that needs the database is a 503 problem with
``Retry-After``, never a 500; every report acknowledged before is there
afterwards; and once the server is back the same service takes reports again
without a restart. And ``gridsvc serve --workers 2`` killed under load, one
worker with kill -9 and then the whole server: every 201 is there after the
restart, and no Idempotency-Key sent again makes a second case (the same
checks as on SQLite, ``serving.check_after_restart``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pg
import pytest
from conftest_cases import INSIDE, PROBLEM_BASE, Desk, assert_problem, desk, settings_for
from serving import Patrols, Service, check_after_restart

from gridsvc.api.app import create_app
from gridsvc.config import DEMO_DIR
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key
from gridsvc.services.setup import load_demo
from gridsvc.store.engine import make_engine, upgrade

#: reports acknowledged before each fault, and again after it
ACKNOWLEDGED = 20


@pytest.fixture(scope="module")
def cluster() -> Iterator[pg.Cluster]:
    if (why := pg.missing()) is not None:
        pytest.fail(why)
    own = pg.Cluster(durable=True).start()
    try:
        yield own
    finally:
        own.stop()


@pytest.fixture(scope="module")
def d(cluster: pg.Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    settings = settings_for(tmp_path_factory.mktemp("pg-faults"), cluster.database())
    yield from desk(create_app(settings))


def test_a_stopped_database_is_a_503_then_the_service_recovers(
    d: Desk, cluster: pg.Cluster
) -> None:
    before = d.new_case(description="停库之前")
    d.key("dispatcher")  # the keys exist before the stop (the key cache may not hold them)
    cluster.halt()
    try:
        for refused in (
            d.report(at=INSIDE),
            d.get(before["id"]),
            d.client.get("/api/v1/cases", headers=d.headers("dispatcher")),
        ):
            body = assert_problem(refused, 503, "storage-unavailable")
            assert int(refused.headers["retry-after"]) >= 1 and "retry" in body["detail"]
    finally:
        cluster.resume()
    after = d.report(description="恢复之后")
    assert after.status_code == 201, after.text
    kept = d.get(before["id"])
    assert kept.status_code == 200, kept.text
    assert kept.json()["number"] == before["number"]  # acknowledged before the stop, kept


@pytest.fixture
def served(cluster: pg.Cluster, tmp_path: Path) -> Iterator[tuple[str, dict[str, str], str]]:
    """A database of the cluster with the demo town and a patrol key: (url, environment, key).

    The town is loaded here, before any server starts: two workers starting on an
    empty database is another test's matter.
    """
    url = cluster.database()
    upgrade(url)
    engine = make_engine(url)
    load_demo(engine, DEMO_DIR, history=False, say=lambda _: None)
    key = create_key(engine, Role.PATROL, "patrol-pg-faults")
    engine.dispose()
    env = os.environ | {
        "GRIDSVC_DATABASE_URL": url,
        "GRIDSVC_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
        "GRIDSVC_RATE_PER_MINUTE": "1000000",
    }
    yield url, env, key


def wait_for_workers(service: Service, count: int, gone: int, timeout: float = 60.0) -> None:
    """Until the supervisor runs ``count`` workers again, none of them ``gone``."""
    deadline = time.monotonic() + timeout
    while len(now := service.workers()) != count or gone in now:
        assert time.monotonic() < deadline, f"workers {now} after {gone} was killed"
        time.sleep(0.1)


def test_kill_9_of_a_worker_and_of_the_server_under_load_keeps_every_201(
    served: tuple[str, dict[str, str], str], tmp_path: Path
) -> None:
    url, env, key = served
    started = [Service(env, tmp_path / "serve.log", "serve --workers 2")]
    try:
        first = started[0]
        first.wait_ready()
        assert len(first.workers()) == 2, first.tail()
        with Patrols(first.url, key) as patrols:
            patrols.wait_acked(ACKNOWLEDGED)
            killed = first.kill_worker()  # its reports in flight are lost, the other's go on
            patrols.wait_acked(len(patrols.acked) + ACKNOWLEDGED)
            wait_for_workers(first, 2, killed)
            first.kill()  # the whole server, while the clients still send
        assert not patrols.refused, [(r.status_code, r.text) for r in patrols.refused[:5]]
        started.append(Service(env, tmp_path / "serve.log", "serve --workers 2"))
        started[1].wait_ready()
        check_after_restart(started[1].url, key, patrols, url)
    finally:
        for service in started:
            service.kill()


def test_an_immediate_stop_under_load_is_503_and_keeps_every_201(
    served: tuple[str, dict[str, str], str], cluster: pg.Cluster, tmp_path: Path
) -> None:
    url, env, key = served
    service = Service(env, tmp_path / "serve.log", "serve --workers 2")
    try:
        service.wait_ready()
        with Patrols(service.url, key) as patrols:
            patrols.wait_acked(ACKNOWLEDGED)
            cluster.halt()  # while reports are in flight: some inside their transaction
            try:
                patrols.wait_status(503)
                time.sleep(0.5)  # the clients keep sending into the outage
            finally:
                cluster.resume()
            patrols.wait_acked(len(patrols.acked) + ACKNOWLEDGED)  # no restart of the service
        assert set(patrols.statuses) <= {201, 503}, patrols.statuses
        for refused in patrols.refused:
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["type"] == PROBLEM_BASE + "storage-unavailable", refused.text
            assert int(refused.headers["retry-after"]) >= 1
        check_after_restart(service.url, key, patrols, url)
    finally:
        service.kill()
