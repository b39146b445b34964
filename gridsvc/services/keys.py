"""API keys per role: created once, shown once, stored as a hash."""

from __future__ import annotations

import hashlib
import secrets
import time
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


class KeyRing:
    """Looks keys up, remembering answers for ``ttl`` seconds (a revocation takes that long).

    Every request needs its caller; without the cache each one would cost a
    database round trip on the hot intake path.
    """

    def __init__(self, engine: Engine, ttl: float = 30.0) -> None:
        self.engine = engine
        self.ttl = ttl
        self._seen: dict[str, tuple[float, Principal | None]] = {}

    def authenticate(self, key: str | None) -> Principal:
        """The principal behind a key, or Unauthenticated."""
        if not key:
            raise Unauthenticated("send an API key as 'Authorization: Bearer <key>'")
        digest = hash_key(key)
        now = time.monotonic()
        hit = self._seen.get(digest)
        if hit is None or now - hit[0] > self.ttl:
            hit = (now, self._lookup(digest))
            self._seen[digest] = hit
        if hit[1] is None:
            raise Unauthenticated("unknown or revoked API key")
        return hit[1]

    def _lookup(self, digest: str) -> Principal | None:
        with self.engine.connect() as conn:
            row = store.api_key_by_hash(conn, digest)
        if row is None:
            return None
        return Principal(int(row["id"]), row["name"], Role(row["role"]), row["department"])
