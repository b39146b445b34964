"""Copying a whole deployment from one database to another (SQLite → PostgreSQL).

A town that starts on the embedded SQLite file moves up to its district's
PostgreSQL when it joins it. Every table of the schema is copied as it is,
ids included (a case keeps its number, an event its case), in dependency
order and in batches, inside one transaction on the target: a copy that
fails leaves the target as empty as it was. PostgreSQL's id sequences are
then moved past the copied ids, and a digest of every table is taken on
both sides so the copy can be checked, not trusted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, func, insert, select, text

from gridsvc.core.errors import Conflict, InvalidInput
from gridsvc.core.messages import Msg
from gridsvc.store import schema as s
from gridsvc.store.engine import alembic_config

BATCH = 5_000


@dataclass(frozen=True)
class TableCopy:
    """One table's rows and the digests of its contents on both sides."""

    table: str
    rows: int
    source_digest: str
    target_digest: str

    @property
    def same(self) -> bool:
        return self.source_digest == self.target_digest


def revision(conn: Connection) -> str | None:
    """The alembic revision the database is at (None: never migrated)."""
    return MigrationContext.configure(conn).get_current_revision()


def head_revision(url: str) -> str:
    return str(ScriptDirectory.from_config(alembic_config(url)).get_current_head())


def check_copyable(source: Engine, target: Engine) -> None:
    """Both at the newest schema, and nothing in the target yet."""
    head = head_revision(str(source.url))
    for name, engine in (("the source", source), ("the target", target)):
        with engine.connect() as conn:
            at = revision(conn)
        if at != head:
            raise InvalidInput(Msg("db.revision", name=name, at=at, head=head))
    with target.connect() as conn:
        for table in s.metadata.sorted_tables:
            n = conn.execute(select(func.count()).select_from(table)).scalar_one()
            if n:
                raise Conflict(Msg("db.target_not_empty", table=table.name, rows=n))


def copy_tables(source: Engine, target: Engine) -> list[TableCopy]:
    """Copy every table (the target must be empty and migrated) and compare the two sides."""
    check_copyable(source, target)
    counts: dict[str, int] = {}
    with source.connect() as src, target.begin() as dst:
        for table in s.metadata.sorted_tables:
            counts[table.name] = 0
            for batch in _batches(src, table):
                dst.execute(insert(table), batch)
                counts[table.name] += len(batch)
        if dst.dialect.name == "postgresql":
            _move_sequences(dst)
    with source.connect() as src, target.connect() as dst:
        return [
            TableCopy(t.name, counts[t.name], table_digest(src, t), table_digest(dst, t))
            for t in s.metadata.sorted_tables
        ]


def _batches(conn: Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    rows = conn.execution_options(yield_per=BATCH).execute(
        select(table).order_by(*table.primary_key.columns)
    )
    for part in rows.partitions(BATCH):
        yield [dict(r._mapping) for r in part]


def _move_sequences(conn: Connection) -> None:
    """Every serial id's sequence past the copied ids (or where it starts, for none)."""
    for table in s.metadata.sorted_tables:
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 1), "
                f"(SELECT COUNT(*) > 0 FROM {table.name}))"
            )
        )


def table_digest(conn: Connection, table: Table) -> str:
    """SHA-256 of a table's rows in key order, each value written the same on every backend."""
    digest = hashlib.sha256()
    for batch in _batches(conn, table):
        for row in batch:
            digest.update(orjson.dumps([_plain(row[c.name]) for c in table.c]))
            digest.update(b"\n")
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    """One spelling per value: times in UTC ISO, bytes in hex, JSON with sorted keys."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, dict | list):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return value
