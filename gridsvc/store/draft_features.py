"""A draft's features, one at a time: what live editing (OGC API – Features Part 4) writes.

A published or retired version never changes; only a draft's features are
written here, and each write first locks its draft's version row, so two
editors of one draft take turns (a row lock on PostgreSQL, the write lock on
SQLite) and the second compares its ETag with what the first wrote.

Next to the features, ``draft_reads`` keeps the ETag each key was last
served (or last wrote) of each feature: QGIS's OAPIF provider sends no
If-Match, and a write without one is checked against that instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

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


def remember(
    conn: Connection,
    key_id: int,
    version_id: int,
    etags: Mapping[str, str],
    at: datetime,
    wrote: bool = False,
) -> None:
    """Record that a key was served (or wrote, ``wrote``) these features' ETags (code →
    ETag), in one statement however many there are (a page of QGIS's is 1,000).

    A read of the ETag already recorded changes nothing, so a version the key wrote stays
    marked as its own, with the time it wrote it."""
    if not etags:
        return
    r = s.draft_reads
    rows = [
        {"key_id": key_id, "version_id": version_id, "code": code, "etag": etag, "at": at,
         "wrote": wrote}
        for code, etag in etags.items()
    ]  # fmt: skip
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(r)
    changed = statement.excluded
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[r.c.key_id, r.c.version_id, r.c.code],
            set_={"etag": changed.etag, "at": changed.at, "wrote": changed.wrote},
            where=None if wrote else r.c.etag != changed.etag,
        ),
        rows,
    )


def last_read(conn: Connection, key_id: int, version_id: int, code: str) -> str | None:
    """The ETag of a draft's feature this key was last served or wrote; None: never."""
    r = s.draft_reads.c
    return conn.execute(
        select(r.etag).where(r.key_id == key_id, r.version_id == version_id, r.code == code)
    ).scalar_one_or_none()


def writer(conn: Connection, version_id: int, code: str, etag: str) -> tuple[str, datetime] | None:
    """Which key wrote this version (ETag) of a draft's feature, and when; None when no key
    did over OGC (the version came with the uploaded draft)."""
    r, k = s.draft_reads.c, s.api_keys.c
    row = conn.execute(
        select(k.name, r.at)
        .join_from(s.draft_reads, s.api_keys, r.key_id == k.id)
        .where(r.version_id == version_id, r.code == code, r.etag == etag, r.wrote)
        .order_by(r.at.desc())
        .limit(1)
    ).first()
    return None if row is None else (row.name, row.at)


def forget(conn: Connection, key_id: int, version_id: int, code: str) -> None:
    """Drop what a key read of a feature (it deleted it)."""
    r = s.draft_reads.c
    conn.execute(
        delete(s.draft_reads).where(r.key_id == key_id, r.version_id == version_id, r.code == code)
    )


def _columns(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in FEATURE_COLUMNS}
