"""API keys in the database: only their hashes, who holds them, and when they were revoked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from gridsvc.store import schema as s


def insert_api_key(conn: Connection, **values: Any) -> int:
    return int(conn.execute(insert(s.api_keys).values(**values)).inserted_primary_key[0])


def revoke_keys_named(conn: Connection, names: list[str], at: datetime) -> int:
    """Revoke the unrevoked keys held by these names; how many were revoked."""
    t = s.api_keys
    query = update(t).where(t.c.name.in_(names), t.c.revoked_at.is_(None)).values(revoked_at=at)
    return int(conn.execute(query).rowcount)


def revoke_key(conn: Connection, key_id: int, at: datetime) -> bool:
    """Revoke one key by its id; False when there is no such unrevoked key."""
    t = s.api_keys
    query = update(t).where(t.c.id == key_id, t.c.revoked_at.is_(None)).values(revoked_at=at)
    return bool(conn.execute(query).rowcount)


def api_keys(conn: Connection, include_revoked: bool = False) -> list[dict[str, Any]]:
    """Every key's record but its hash, oldest first (what an admin lists)."""
    t = s.api_keys
    columns = [c for c in t.c if c.name != "key_hash"]
    query = select(*columns).order_by(t.c.id)
    if not include_revoked:
        query = query.where(t.c.revoked_at.is_(None))
    return [dict(r._mapping) for r in conn.execute(query)]


def api_key_by_hash(conn: Connection, key_hash: str) -> dict[str, Any] | None:
    t = s.api_keys
    row = conn.execute(select(t).where(t.c.key_hash == key_hash, t.c.revoked_at.is_(None))).first()
    return dict(row._mapping) if row else None
