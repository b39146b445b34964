"""What one report costs PostgreSQL (issue 22 item 7): two statements, no ping, no BEGIN.

Counted at the driver: every statement psycopg's cursors send (SQLAlchemy's and
the intake's own, which runs on the driver's cursor), whether the connection
was in autocommit (so psycopg sent no BEGIN and no COMMIT around it), and the
pool's pings. Before: 4 statements in a transaction and a ping without a key,
7 statements in 2 transactions and 2 pings with one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from case_kit import INSIDE, PATROL, Clock, service, submit
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from gridsvc.config import DEMO_DIR
from gridsvc.services.cases import CaseService, Report
from gridsvc.services.intake_db import SWITCH_INTERVAL_S, DatabaseIntake
from gridsvc.services.setup import load_demo
from gridsvc.store import intake_pg, schema
from gridsvc.store.engine import make_engine


@pytest.fixture
def engine(pg_url: str) -> Engine:
    engine = make_engine(pg_url)
    load_demo(engine, DEMO_DIR, history=False, say=lambda _: None)
    return engine


def worker(engine: Engine) -> CaseService:
    return service(engine, Clock(), DatabaseIntake(engine, 50.0, timedelta(hours=72)))


@contextmanager
def counted(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Statements sent (and how many of them outside autocommit) and pings, meanwhile."""
    seen = {"statements": 0, "in a transaction": 0, "pings": 0}
    execute = psycopg.Cursor.execute

    def statement(cursor: psycopg.Cursor[Any], *args: Any, **kwargs: Any) -> Any:
        seen["statements"] += 1
        seen["in a transaction"] += not cursor.connection.autocommit
        return execute(cursor, *args, **kwargs)

    ping = engine.dialect.do_ping

    def counted_ping(dbapi_connection: Any) -> bool:
        seen["pings"] += 1
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted_ping)
    with monkeypatch.context() as patched:
        patched.setattr(psycopg.Cursor, "execute", statement)
        yield seen


def report(i: int) -> Report:
    return Report(INSIDE[0] + i * 0.002, INSIDE[1], "cgcs2000", "CG01", f"第{i}号")


def test_a_report_is_two_statements_outside_any_transaction_and_no_ping(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = worker(engine)
    first = submit(svc, report(0), PATROL).body  # the first catches the sequence up, once
    for n, key in enumerate((None, "two-statements-0001"), start=1):
        with counted(engine, monkeypatch) as seen:
            answer = submit(svc, report(0), PATROL, key)
        assert answer.status_code == 201
        assert first["id"] in [d["id"] for d in answer.body["possible_duplicates"]]
        assert seen == {"statements": 2, "in a transaction": 0, "pings": 0}, (n, key)
    again = submit(svc, report(0), PATROL, "two-statements-0001")  # the retry: the answer kept
    assert again.status_code == 201 and again.body["id"] == answer.body["id"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.cases)).scalar_one() == 3


def test_a_value_too_long_for_its_column_is_refused_not_cut_short(engine: Engine) -> None:
    """Values are cast to their columns' types in the INSERT … SELECT; a cast to
    ``varchar(100)`` would cut a long reporter name to 100 characters without a word."""
    svc = worker(engine)
    stored = submit(svc, report(0), PATROL).body
    with engine.connect() as conn:
        case = dict(
            conn.execute(select(schema.cases).where(schema.cases.c.id == stored["id"]))
            .one()
            ._mapping
        )
        event_row = {
            "seq": 1, "action": "report", "from_status": None, "to_status": "reported",
            "actor": "p", "role": "patrol", "at": case["created_at"], "note": "", "data": {},
        }  # fmt: skip
        long = {**case, "id": stored["id"] + 1000, "number": "2025-9999999", "reporter": "长" * 101}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        with pytest.raises(DBAPIError, match="too long"):
            intake_pg.insert_report(conn, long, event_row)
        assert conn.execute(select(func.count()).select_from(schema.cases)).scalar_one() == 1


def test_a_worker_writing_to_postgresql_hands_the_gil_on_within_half_a_millisecond(
    engine: Engine,
) -> None:
    """The intake's threads come back from the database for the GIL; with Python's default
    5 ms interval the event loop kept them waiting (p99 167 ms at 500/s, 49 ms with 0.5)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    try:
        worker(engine)
        assert sys.getswitchinterval() <= SWITCH_INTERVAL_S == 0.0005
    finally:
        sys.setswitchinterval(before)


def test_a_connection_the_server_cut_is_sqlalchemys_error_and_the_pool_drops_it(
    engine: Engine,
) -> None:
    """The intake's statements run on the driver's cursor; a dead connection must still be
    the OperationalError the API answers with a 503, and must not be handed out again."""
    since = datetime.now(UTC) - timedelta(hours=72)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(OperationalError) as refused:
            intake_pg.next_id_and_near(conn, "CG01", INSIDE[0], INSIDE[1], 50.0, since)
        assert refused.value.connection_invalidated
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() != pid
        case_id, _ = intake_pg.next_id_and_near(conn, "CG01", INSIDE[0], INSIDE[1], 50.0, since)
        assert case_id > 0
