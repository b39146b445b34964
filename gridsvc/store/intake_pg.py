"""A report's statements on PostgreSQL: two statements, each its own (autocommit) transaction.

Measured before (issue 22 item 7): a report with an Idempotency-Key cost 13
statements at the server (7 without one) in 2 transactions on 2 pooled connections (a pre-ping on each checkout, the key's
pre-read in a transaction of its own, BEGIN, nextval, the duplicate search, the
case, its event, the key's delete and insert, COMMIT), each a round trip and a
pass through SQLAlchemy. Now:

1. :func:`next_id_and_near`: one SELECT gives the case its id (``nextval``) and
   reads the duplicate candidates; it writes nothing (a sequence value is never
   rolled back, so an unused one is a gap in the numbers, as before);
2. :func:`insert_report`: one INSERT with data-modifying CTEs stores the
   Idempotency-Key's record, the case and its first event. One statement is
   one transaction: all of it or nothing, durable when it returns
   (``synchronous_commit=on``). A key already stored (``ON CONFLICT``, which
   waits for a concurrent writer of the same key to finish) makes it write
   nothing and return no row, unless that is an in-flight claim older than the
   expiry, which is taken over (``DO UPDATE … WHERE``), as
   ``cases.record_idempotency_key`` does.

The answer stored with the key holds the possible duplicates, which Python's
:func:`~gridsvc.core.duplicates.nearest` decides from the candidates; that is
why the search is a statement of its own and not a CTE of the insert.

Values are cast to their columns' types in the SQL: parameters of
``INSERT … SELECT`` get no type from the target columns.

Both run on the driver's cursor (:class:`~gridsvc.store.driver.DriverStatement`),
not through SQLAlchemy's execution: the whole write of a report took 1.06–1.46 ms
of a worker's CPU through SQLAlchemy, 0.89–1.23 ms on the cursor (2026-12-07,
interleaved in one process, a loaded machine). Errors are SQLAlchemy's all the
same. The connection is in AUTOCOMMIT: each statement its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Connection, String, Table, TextClause, bindparam, text
from sqlalchemy.dialects import postgresql

from gridsvc.core.duplicates import Reported, cells_around
from gridsvc.store import schema as s
from gridsvc.store.cases import NEAR_CANDIDATES, OPEN_EXCLUDED
from gridsvc.store.driver import DriverStatement

_PG = postgresql.dialect()
_SEQUENCE = "pg_get_serial_sequence('cases', 'id')"

# never backwards: ids written by other means (history import, db copy) move it forward
CATCH_UP = text(
    f"SELECT setval({_SEQUENCE}, GREATEST((SELECT COALESCE(MAX(id), 0) FROM cases), "
    f"nextval({_SEQUENCE})))"
)

_EXCLUDED = ", ".join(f"'{status}'" for status in OPEN_EXCLUDED)
_NEXT_AND_NEAR = text(
    f"SELECT n.id, c.id, c.number, c.category, c.lon, c.lat, c.created_at "
    f"FROM (SELECT nextval({_SEQUENCE}) AS id) AS n LEFT JOIN ("
    "SELECT id, number, category, lon, lat, created_at FROM cases "
    "WHERE category = :category AND cell = ANY(CAST(:cells AS BIGINT[])) "
    f"AND created_at >= :since AND status NOT IN ({_EXCLUDED}) "
    f"ORDER BY id DESC LIMIT {NEAR_CANDIDATES}) AS c ON true"
).bindparams(bindparam("since", type_=s.UTCDateTime))
_NEXT_AND_NEAR_RUN = DriverStatement(_NEXT_AND_NEAR)


def next_id_and_near(
    conn: Connection, category: str, lon: float, lat: float, radius_m: float, since: datetime
) -> tuple[int, list[Reported]]:
    """A new case id, and the open cases of a category in the cells around a point reported
    since a time (as ``cases.open_cases_near``): one statement."""
    cells = cells_around(lon, lat, radius_m)
    found = _NEXT_AND_NEAR_RUN.rows(conn, {"category": category, "cells": cells, "since": since})
    near = [
        Reported(r[1], r[2], r[3], r[4], r[5], r[6].astimezone(UTC))
        for r in found
        if r[1] is not None
    ]
    return int(found[0][0]), near


def _inserted(table: Table, skip: tuple[str, ...] = ()) -> list[Column[Any]]:
    return [c for c in table.columns if c.name not in skip]


def _casts(columns: list[Column[Any]], prefix: str) -> str:
    """Each value cast to its column's type; strings to text, not to ``varchar(n)``, which
    would cut a long one short where the column refuses it."""
    return ", ".join(
        f"CAST(:{prefix}{c.name} AS {'TEXT' if isinstance(c.type, String) else c.type.compile(_PG)})"
        for c in columns
    )


def _params(columns: list[Column[Any]], prefix: str) -> list[Any]:
    return [bindparam(f"{prefix}{c.name}", type_=c.type) for c in columns]


def _default(column: Column[Any]) -> Callable[[], Any]:
    """What a Core insert would put in a column left out: its Python-side default."""
    default = column.default
    if default is None:
        return lambda: None
    arg = getattr(default, "arg", None)
    if callable(arg):
        return lambda: arg(None)  # SQLAlchemy wraps a default of no arguments to take a context
    return lambda: arg


_CASE_COLUMNS = _inserted(s.cases)
_EVENT_COLUMNS = _inserted(s.case_events, skip=("id", "case_id"))
_KEY_COLUMNS = _inserted(s.idempotency_keys)
_DEFAULTS = {
    prefix: [(c.name, _default(c)) for c in columns]
    for prefix, columns in (("c_", _CASE_COLUMNS), ("e_", _EVENT_COLUMNS))
}


def _names(columns: list[Column[Any]]) -> str:
    return ", ".join(f'"{c.name}"' for c in columns)


def _insert_report(keyed: bool) -> TextClause:
    """The one statement that writes a report (with its key's record when ``keyed``)."""
    key = ""
    if keyed:
        kept = [c for c in _KEY_COLUMNS if not c.primary_key]
        updated = ", ".join(f'"{c.name}" = EXCLUDED."{c.name}"' for c in kept)
        key = (
            f"k AS (INSERT INTO idempotency_keys ({_names(_KEY_COLUMNS)}) "
            f"VALUES ({_casts(_KEY_COLUMNS, 'k_')}) "
            f"ON CONFLICT (principal, key) DO UPDATE SET {updated} "
            "WHERE idempotency_keys.state = 'in-flight' "
            "AND idempotency_keys.created_at < :abandoned_before RETURNING 1), "
        )
    sql = (
        f"WITH {key}c AS (INSERT INTO cases ({_names(_CASE_COLUMNS)}) "
        f"SELECT {_casts(_CASE_COLUMNS, 'c_')}"
        + (" WHERE EXISTS (SELECT FROM k)" if keyed else "")
        + " RETURNING id) "
        f'INSERT INTO case_events ("case_id", {_names(_EVENT_COLUMNS)}) '
        f"SELECT c.id, {_casts(_EVENT_COLUMNS, 'e_')} FROM c RETURNING case_id"
    )
    params = _params(_CASE_COLUMNS, "c_") + _params(_EVENT_COLUMNS, "e_")
    if keyed:
        params += _params(_KEY_COLUMNS, "k_") + [bindparam("abandoned_before", type_=s.UTCDateTime)]
    return text(sql).bindparams(*params)


_INSERT_REPORT = {False: _insert_report(keyed=False), True: _insert_report(keyed=True)}
_INSERT_RUN = {keyed: DriverStatement(clause) for keyed, clause in _INSERT_REPORT.items()}


def insert_report(
    conn: Connection,
    case: dict[str, Any],
    event: dict[str, Any],
    key: dict[str, Any] | None = None,
    abandoned_before: datetime | None = None,
) -> bool:
    """Store a case (id, number and cell given) and its first event, and with ``key`` the
    Idempotency-Key's record (every column of ``idempotency_keys``) that answers it: one
    statement. False when the key was stored already (then nothing is written), unless
    it is an in-flight claim made before ``abandoned_before``, which is replaced."""
    params: dict[str, Any] = {}
    for prefix, values in (("c_", case), ("e_", event)):
        for name, default in _DEFAULTS[prefix]:
            params[prefix + name] = values[name] if name in values else default()
    if key is not None:
        params |= {f"k_{name}": value for name, value in key.items()}
        params["abandoned_before"] = abandoned_before
    return bool(_INSERT_RUN[key is not None].rows(conn, params))
