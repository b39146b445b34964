"""Statements run on the driver's own cursor, as SQLAlchemy would have run them.

SQLAlchemy's execution of a statement costs Python time per call and per row (its
execution context, parameter building, result and row objects: about 75 µs for a
``SELECT 1``, some 30 µs a row of an executemany). On the two hot paths that pay it
most (a report's two statements, a publish's tens of thousands of reassignments) a
:class:`DriverStatement` is compiled once per dialect and sent to the driver's
cursor with the columns' own bind processors applied, so the database stores
exactly what the SQLAlchemy statement would. A driver error goes to SQLAlchemy's
own handler, the path its execute takes: the same exception classes (IntegrityError,
OperationalError: the API's 409 and 503), the ``handle_error`` events, and on a dead
connection the pool invalidated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql import Executable

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # the parameters' order where the driver's style is
    processors: dict[str, Processor | None]
    fixed: dict[str, Any]  # the statement's own values (bindparams given one)


class DriverStatement:
    """A SQLAlchemy statement compiled once per dialect and run on the driver's cursor.

    The connection must be in a transaction SQLAlchemy knows of, or in autocommit:
    otherwise a write would be rolled back when the pool took the connection back.
    """

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[int, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        if id(dialect) not in self._compiled:
            compiled = self.statement.compile(dialect=dialect)  # type: ignore[attr-defined]
            binds = compiled.binds.items()
            self._compiled[id(dialect)] = _Compiled(
                str(compiled),
                tuple(compiled.positiontup) if dialect.positional else None,
                {n: b.type.dialect_impl(dialect).bind_processor(dialect) for n, b in binds},
                {n: b.effective_value for n, b in binds},
            )
        return self._compiled[id(dialect)]

    def rows(self, conn: Connection, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The statement's rows (none for a statement that returns none)."""
        c = self._for(conn.dialect)
        values = {n: params[n] if n in params else c.fixed[n] for n in c.processors}
        for name, process in c.processors.items():
            if process is not None:
                values[name] = process(values[name])
        sent = _ordered(c, [values])[0]
        with _cursor(conn, c.sql, sent) as cursor:
            cursor.execute(c.sql, sent, **_prepared(conn))
            return cursor.fetchall() if cursor.description else []

    def executemany(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
        """Run the statement once per row by the driver's executemany; the rows affected.
        A value the same object in every row (one moment for all) is converted once."""
        if not rows:
            return 0
        c = self._for(conn.dialect)
        columns: dict[str, list[Any]] = {}
        for name, process in c.processors.items():
            given = [r[name] for r in rows] if name in rows[0] else [c.fixed[name]] * len(rows)
            if process is not None:
                first = given[0]
                if all(v is first for v in given):
                    given = [process(first)] * len(rows)
                else:
                    given = list(map(process, given))
            columns[name] = given
        names = list(columns)
        per_row = [dict(zip(names, v, strict=True)) for v in zip(*columns.values(), strict=True)]
        sent = _ordered(c, per_row)
        with _cursor(conn, c.sql, sent) as cursor:
            cursor.executemany(c.sql, sent)
            return int(cursor.rowcount)


def _ordered(c: _Compiled, rows: list[dict[str, Any]]) -> list[Any]:
    """Rows as the driver's parameter style takes them: tuples in order, or dicts."""
    if c.positional is None:
        return rows
    return [tuple(row[n] for n in c.positional) for row in rows]


def _prepared(conn: Connection) -> dict[str, Any]:
    """psycopg prepares a statement sent often on the server; sqlite3 has no such option."""
    return {"prepare": True} if conn.dialect.driver == "psycopg" else {}


@contextmanager
def _cursor(conn: Connection, sql: str, params: Any) -> Iterator[Any]:
    """The driver's cursor, closed after; a driver error handed to SQLAlchemy's handler."""
    driver = conn.connection.driver_connection
    if driver is None:
        raise RuntimeError("the connection has no driver connection")
    if not (conn.in_transaction() or getattr(driver, "autocommit", False) is True):
        raise RuntimeError("a driver statement needs a transaction or AUTOCOMMIT")
    cursor = driver.cursor()
    try:
        yield cursor
    except conn.dialect.loaded_dbapi.Error as exc:
        conn._handle_dbapi_exception(exc, sql, params, cursor, None)
    finally:
        cursor.close()
