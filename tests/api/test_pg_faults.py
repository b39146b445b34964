"""PostgreSQL stopped under the service and started again (issue 22 item 6).

A cluster of this test's own (the shared one serves every other test) is
stopped with ``pg_ctl -m immediate`` while the service runs: every request
that needs the database is a 503 problem with ``Retry-After``, never a 500;
the report acknowledged before is there afterwards; and once the server is
back the same service takes reports again without a restart.
"""

from __future__ import annotations

from collections.abc import Iterator

import pg
import pytest
from conftest_cases import INSIDE, Desk, assert_problem, desk, settings_for

from gridsvc.api.app import create_app


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
