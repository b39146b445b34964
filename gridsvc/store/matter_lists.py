"""Versions of the responsibility list: drafts, the published one, the retired ones.

``matters`` holds the active list (what routing reads); publishing a version
copies its rows there in the same transaction that retires the old one.

Publishing is a compare-and-swap: the retiring update names the version the
caller compared against and must find it still published, the publishing one
must find the draft still a draft, so of two publishes at once the second
changes nothing (it waits for the first's write lock, then finds its rows
changed). The partial unique index ``uq_matter_lists_one_published`` catches
what no update can see: two first publishes when none was published yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from gridsvc.core.errors import InconsistentStorage
from gridsvc.core.messages import Msg
from gridsvc.core.routing import row_key
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
        [{"version_id": version_id, "code": row_key(r), "record": dict(r)} for r in records],
    )
    return int(version_id)


def active_version(conn: Connection) -> int | None:
    """The published list's id (None before any list was loaded).

    Raises :class:`InconsistentStorage` naming the versions when more than one
    is published (a database from before migration 0006 or mended by hand).
    """
    lists = s.matter_lists
    query = select(lists.c.id).where(lists.c.status == "published").order_by(lists.c.id)
    ids = [int(i) for i in conn.execute(query).scalars()]
    if len(ids) > 1:
        named = ", ".join(map(str, ids))
        raise InconsistentStorage(Msg("db.two_lists", count=len(ids), named=named, newest=ids[-1]))
    return ids[0] if ids else None


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


def activate(conn: Connection, version_id: int, expected: int | None, now: datetime) -> bool:
    """Publish draft ``version_id`` in place of ``expected`` (None: no list published yet).

    False, with nothing worth keeping written (the caller rolls back), when
    ``expected`` is no longer the published version or the draft no longer a
    draft: another publish came first. Two first publishes at once: the
    second's update raises IntegrityError on the one-published index.
    """
    lists = s.matter_lists
    if expected is not None:
        retired = conn.execute(
            update(lists)
            .where(lists.c.id == expected, lists.c.status == "published")
            .values(status="retired", retired_at=now)
        )
        if retired.rowcount != 1:
            return False
    published = conn.execute(
        update(lists)
        .where(lists.c.id == version_id, lists.c.status == "draft")
        .values(status="published", published_at=now, retired_at=None)
    )
    if published.rowcount != 1:
        return False
    copy_to_matters(conn, version_id)
    return True


def copy_to_matters(conn: Connection, version_id: int) -> None:
    """Make ``matters`` (what routing reads) the rows of ``version_id``."""
    conn.execute(delete(s.matters))
    conn.execute(
        insert(s.matters), [{"code": row_key(r), "record": r} for r in records(conn, version_id)]
    )
