"""Versions of the responsibility list: drafts, the published one, the retired ones.

``matters`` holds the active list (what routing reads); publishing a version
copies its rows there in the same transaction that retires the old one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from gridsvc.store import schema as s


def add_version(
    conn: Connection, records: Iterable[Mapping[str, Any]], label: str, now: datetime, status: str
) -> int:
    """Store a list as a new version (``draft``, or ``published`` for the first load)."""
    version_id = conn.execute(
        insert(s.matter_lists).values(
            label=label,
            status=status,
            created_at=now,
            published_at=now if status == "published" else None,
        )
    ).inserted_primary_key[0]
    conn.execute(
        insert(s.matter_list_rows),
        [{"version_id": version_id, "code": r["code"], "record": dict(r)} for r in records],
    )
    return int(version_id)


def active_version(conn: Connection) -> int | None:
    """The published list's id (None before any list was loaded)."""
    query = select(s.matter_lists.c.id).where(s.matter_lists.c.status == "published")
    return conn.execute(query).scalar_one_or_none()


def version(conn: Connection, version_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(s.matter_lists).where(s.matter_lists.c.id == version_id)).first()
    return dict(row._mapping) if row else None


def records(conn: Connection, version_id: int) -> list[dict[str, Any]]:
    """The rows of a version, as loaded (the CSV's columns), in code order."""
    rows = s.matter_list_rows
    query = select(rows.c.record).where(rows.c.version_id == version_id).order_by(rows.c.code)
    return [dict(r) for (r,) in conn.execute(query)]


def history(conn: Connection) -> list[dict[str, Any]]:
    """Every version, newest first, with its number of matters."""
    lists, rows = s.matter_lists, s.matter_list_rows
    count = (
        select(func.count())
        .where(rows.c.version_id == lists.c.id)
        .correlate(lists)
        .scalar_subquery()
        .label("matters")
    )
    query = select(lists, count).order_by(lists.c.id.desc())
    return [dict(r._mapping) for r in conn.execute(query)]


def activate(conn: Connection, version_id: int, now: datetime) -> int | None:
    """Make a version the published one, retire the one before; returns that one's id."""
    current = active_version(conn)
    lists = s.matter_lists
    if current is not None:
        conn.execute(
            update(lists).where(lists.c.id == current).values(status="retired", retired_at=now)
        )
    conn.execute(
        update(lists)
        .where(lists.c.id == version_id)
        .values(status="published", published_at=now, retired_at=None)
    )
    conn.execute(delete(s.matters))
    conn.execute(
        insert(s.matters), [{"code": r["code"], "record": r} for r in records(conn, version_id)]
    )
    return current
