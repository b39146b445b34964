"""A draft's features, one at a time: what live editing (OGC API – Features Part 4) writes.

A published or retired version never changes; only a draft's features are
written here, and each write first locks its draft's version row, so two
editors of one draft take turns (a row lock on PostgreSQL, the write lock on
SQLite) and the second compares its ETag with what the first wrote.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from gridsvc.store import schema as s

FEATURE_COLUMNS = ("code", "name", "parent_code", "attrs", "geom_wkb")


def lock_draft(conn: Connection, version_id: int) -> dict[str, Any] | None:
    """Take the draft's write turn (held to the end of the transaction) and return its
    version row; None when there is no such version."""
    v = s.layer_versions.c
    conn.execute(update(s.layer_versions).where(v.id == version_id).values(label=v.label))
    row = conn.execute(select(s.layer_versions).where(v.id == version_id)).first()
    return dict(row._mapping) if row else None


def feature(conn: Connection, version_id: int, code: str) -> dict[str, Any] | None:
    """One stored feature of a version by its code."""
    f = s.features.c
    row = conn.execute(select(s.features).where(f.version_id == version_id, f.code == code)).first()
    return dict(row._mapping) if row else None


def features(conn: Connection, version_id: int) -> list[dict[str, Any]]:
    """Every stored feature of a version, in the order they were stored."""
    f = s.features.c
    rows = conn.execute(select(s.features).where(f.version_id == version_id).order_by(f.id))
    return [dict(r._mapping) for r in rows]


def add(conn: Connection, version_id: int, record: dict[str, Any]) -> None:
    """Store a new feature in a version (the caller holds the draft's turn)."""
    conn.execute(insert(s.features).values(version_id=version_id, **_columns(record)))


def replace(conn: Connection, feature_id: int, record: dict[str, Any]) -> None:
    """Overwrite a stored feature's code, name, parent, attributes and geometry."""
    conn.execute(update(s.features).where(s.features.c.id == feature_id).values(**_columns(record)))


def remove(conn: Connection, feature_id: int) -> None:
    conn.execute(delete(s.features).where(s.features.c.id == feature_id))


def _columns(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in FEATURE_COLUMNS}
