"""Intake on PostgreSQL without a writer process: each worker commits its own reports.

Two CaseServices on one database stand for two workers (or two hosts): the
same Idempotency-Key sent to both at once makes one case, concurrent
reports get distinct ids and numbers, a report sees the committed case of
the same thing as a possible duplicate, and ids written by other means (a
history import with its own ids) are never given again.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from case_kit import INSIDE, PATROL, Clock, service, submit
from sqlalchemy import Engine, func, select

from gridsvc.config import DEMO_DIR
from gridsvc.core.errors import Conflict
from gridsvc.services.cases import Answer, CaseService, Report
from gridsvc.services.intake_db import DatabaseIntake
from gridsvc.services.setup import load_demo
from gridsvc.store import schema
from gridsvc.store.engine import make_engine


@pytest.fixture
def engine(pg_url: str) -> Engine:
    engine = make_engine(pg_url)
    load_demo(engine, DEMO_DIR, history=False, say=lambda _: None)
    return engine


def worker(engine: Engine, clock: Clock) -> CaseService:
    """A worker as api/app.py builds it on PostgreSQL."""
    return service(engine, clock, DatabaseIntake(engine, 50.0, timedelta(hours=72)))


def report(i: int = 0, category: str = "CG01") -> Report:
    return Report(INSIDE[0] + i * 0.002, INSIDE[1], "cgcs2000", category, f"第{i}号")


def cases(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.cases)).scalar_one())


def test_one_key_sent_to_two_workers_at_once_makes_one_case(engine: Engine) -> None:
    """Within one worker a key still in flight is a 409 (the app retries); across workers
    the second commit clashes on the key and answers as the retry it is."""
    clock = Clock()
    workers = [worker(engine, clock), worker(engine, clock)]

    def send(n: int) -> Answer | None:
        try:
            return submit(workers[n % 2], report(), PATROL, "retry-of-one-report")
        except Conflict:
            return None  # "still being processed": the phone sends it again

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(16)))
    answers += [send(n) for n, a in enumerate(answers) if a is None]  # the phones' retries
    got = [a for a in answers if a is not None]
    assert len(got) >= 16 and {a.body["id"] for a in got} == {got[0].body["id"]}
    assert sorted({a.status_code for a in got}) in ([200, 201], [201])
    assert cases(engine) == 1


def test_concurrent_reports_on_two_workers_get_their_own_ids_and_numbers(engine: Engine) -> None:
    clock = Clock()
    workers = [worker(engine, clock), worker(engine, clock)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: submit(workers[i % 2], report(i % 5), PATROL), range(30)))
    ids = [a.body["id"] for a in answers]
    assert len(set(ids)) == 30 and cases(engine) == 30
    assert all(a.body["number"] == f"2025-{a.body['id']:07d}" for a in answers)


def test_the_second_report_of_one_thing_sees_the_first(engine: Engine) -> None:
    clock = Clock()
    first = submit(worker(engine, clock), report(), PATROL).body
    second = submit(worker(engine, clock), report(), PATROL).body
    assert [d["id"] for d in second["possible_duplicates"]] == [first["id"]]
    other = submit(worker(engine, clock), report(category="CG12"), PATROL).body
    assert other["possible_duplicates"] == []  # another matter at the same place


def test_ids_stored_by_other_means_are_never_given_again(engine: Engine) -> None:
    """A history import writes cases with ids of its own, past the sequence."""
    clock = Clock()
    first = submit(worker(engine, clock), report(), PATROL).body
    with engine.begin() as conn:
        row = dict(
            conn.execute(select(schema.cases).where(schema.cases.c.id == first["id"]))
            .one()
            ._mapping
        )
        conn.execute(schema.cases.insert().values({**row, "id": 5000, "number": "2025-0005000"}))
    later = submit(worker(engine, clock), report(1), PATROL).body
    assert later["id"] > 5000
