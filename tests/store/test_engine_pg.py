"""The PostgreSQL engine: its pool, reconnecting with no ping, and upgrades that take turns.

* the pool keeps at least as many connections as a worker's intake uses at once
  (it was SQLAlchemy's 5, under the 6 intake threads of this 2-core machine);
* with no ping per checkout, a server restart while the service is idle costs
  at most one failed statement (a 503 at the API): that failure discards every
  older connection, and the next statements connect afresh;
* two first ``upgrade``s of one new database at once both succeed (they take
  turns on an advisory lock; before, both created the same tables and one failed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from gridsvc.config import Settings
from gridsvc.store.engine import POOL_SIZE, alembic_config, make_engine

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_pool_holds_a_workers_intake_threads(pg_url: str) -> None:
    intake_threads = min(32, (os.cpu_count() or 1) + 4)  # asyncio's default executor
    assert make_engine(pg_url).pool.size() == POOL_SIZE >= intake_threads
    assert Settings().database_pool_size == POOL_SIZE  # the setting's default is the engine's
    engine = make_engine(pg_url, pool_size=7, max_overflow=0)
    assert engine.pool.size() == 7
    engine.dispose()


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[pg.Cluster]:
    """A cluster of this module's own, to restart (the session's serves every other test)."""
    if (why := pg.missing()) is not None:
        pytest.fail(why)
    cluster = pg.Cluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


def test_a_restart_while_idle_costs_at_most_one_failed_statement(own_cluster: pg.Cluster) -> None:
    engine = make_engine(own_cluster.database())
    held = [engine.connect() for _ in range(4)]  # four connections in the pool
    for conn in held:
        conn.execute(text("SELECT 1"))
        conn.close()
    own_cluster.halt()
    own_cluster.resume()
    failed = 0
    for _ in range(6):
        try:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar_one() == 1
        except OperationalError:  # the API's 503 with Retry-After
            failed += 1
    engine.dispose()
    assert failed <= 1


UPGRADE_AT = """
import sys, time
from gridsvc.store.engine import upgrade
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # both start in the same instant
upgrade(sys.argv[1])
"""


def test_two_first_upgrades_of_one_database_at_once_both_succeed(
    pg_cluster: pg.Cluster,
) -> None:
    url = pg_cluster.database(pg.EMPTY_TEMPLATE)  # PostGIS, no tables
    at = time.time() + 4  # after both have imported gridsvc
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    both = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE_AT, url, str(at)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in both]
    assert [p.returncode for p in both] == [0, 0], outputs[0][-2000:] + outputs[1][-2000:]
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [(head,)]
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar_one() == 0
    engine.dispose()
