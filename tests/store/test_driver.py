"""Statements on the driver's cursor answer as SQLAlchemy's own execution would."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import IntegrityError

from gridsvc.store import schema as s
from gridsvc.store.driver import DriverStatement
from gridsvc.store.engine import make_engine


@pytest.fixture
def engine(migrated_db_url: str) -> Engine:
    return make_engine(migrated_db_url)


def _key(name: str) -> dict[str, object]:
    return {"principal": "key:1", "key": name, "request_hash": "h", "state": "done"}


def test_a_clash_in_an_executemany_is_sqlalchemys_integrity_error_and_writes_nothing(
    engine: Engine,
) -> None:
    """A publish's reassignments run by the driver's executemany: a failing row must be
    the error the API maps (not the driver's own, a 500) and the transaction rolls back."""
    keys = DriverStatement(insert(s.idempotency_keys))
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            assert keys.executemany(conn, [_key("a"), _key("b")]) == 2
            keys.executemany(conn, [_key("c"), _key("a")])
    with engine.connect() as conn:
        assert conn.execute(select(s.idempotency_keys)).all() == []


def test_a_statement_outside_any_transaction_is_refused(engine: Engine) -> None:
    """Written outside a transaction SQLAlchemy knows of, a row would be rolled back when
    the pool took the connection back: refused before anything is sent."""
    with engine.connect() as conn, pytest.raises(RuntimeError, match="transaction"):
        DriverStatement(text("SELECT 1")).rows(conn, {})
