"""API keys per role: created once, shown once, stored as a hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import Engine

from gridsvc.core.errors import InvalidInput, Unauthenticated
from gridsvc.core.workflow import Role
from gridsvc.services.cases import Principal
from gridsvc.store import cases as store

KEY_PREFIX = "gs_"


def hash_key(key: str) -> str:
    """SHA-256 of the key: keys are 256 random bits, so a fast hash is enough (no dictionary to attack)."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(engine: Engine, role: Role, name: str, department: str | None = None) -> str:
    """A new key for ``role``; the plain key is returned once and never stored."""
    if role == Role.HANDLER and not department:
        raise InvalidInput("a handler key must be bound to a department (--department)")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        store.insert_api_key(
            conn,
            name=name,
            role=role.value,
            department=department,
            key_hash=hash_key(key),
            created_at=datetime.now(UTC),
        )
    return key


def authenticate(engine: Engine, key: str | None) -> Principal:
    """The principal behind a key, or Unauthenticated."""
    if not key:
        raise Unauthenticated("send an API key as 'Authorization: Bearer <key>'")
    with engine.connect() as conn:
        row = store.api_key_by_hash(conn, hash_key(key))
    if row is None:
        raise Unauthenticated("unknown or revoked API key")
    return Principal(int(row["id"]), row["name"], Role(row["role"]), row["department"])
