"""API keys per role: created once, shown once, stored as a hash."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine

from gridsvc.core.errors import InvalidInput, NotFound, Unauthenticated
from gridsvc.core.kinds import LayerKind, town_level
from gridsvc.core.messages import Msg
from gridsvc.core.workflow import Role
from gridsvc.services.reading import Principal
from gridsvc.store import keys as store
from gridsvc.store.reference import active_versions, feature_names, read_table

KEY_PREFIX = "gs_"


def hash_key(key: str) -> str:
    """SHA-256 of the key: keys are 256 random bits, so a fast hash is enough (no dictionary to attack)."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    engine: Engine,
    role: Role,
    name: str,
    department: str | None = None,
    grid: str | None = None,
    town: str | None = None,
) -> str:
    """A new key for ``role``; the plain key is returned once and never stored.

    A handler's department and a patrol's grid must be ones the town has: a
    key bound to a misspelt code would see an empty queue and nobody would
    know why. ``town`` scopes the key to one town of a district (its code in
    the towns layer, or a single town's jurisdiction): it reads and acts on
    that town's cases only. Without it the key sees the whole territory.
    """
    if role == Role.HANDLER and not department:
        raise InvalidInput(Msg("keys.handler_department"))
    if department and role != Role.HANDLER:
        raise InvalidInput(Msg("keys.department_role", role=role.value))
    if grid and role != Role.PATROL:
        raise InvalidInput(Msg("keys.grid_role", role=role.value))
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        if department:
            departments = [str(r["code"]) for r in read_table(conn, "departments")]
            _check_known("department", department, departments)
        if grid:
            active = active_versions(conn).get(LayerKind.GRIDS)
            _check_known("grid", grid, feature_names(conn, active) if active else [])
        if town:
            _check_known("town", town, town_names(conn))
        store.insert_api_key(
            conn,
            name=name,
            role=role.value,
            department=department,
            grid_code=grid,
            town_code=town,
            key_hash=hash_key(key),
            created_at=datetime.now(UTC),
        )
    return key


def town_names(conn: Connection) -> dict[str, str]:
    """Code → name of the territory's towns: a district's towns layer, else the single
    town's jurisdiction (whose one feature is the town)."""
    active = active_versions(conn)
    version = active.get(town_level(active))
    return feature_names(conn, version) if version else {}


def _check_known(what: str, code: str, known: Iterable[str]) -> None:
    """Refuse a code the town does not have, listing (the first of) those it has."""
    codes = sorted(known)
    if code in codes:
        return
    if not codes:
        raise InvalidInput(Msg("keys.none_yet", what=what, code=code))
    listing = ", ".join(codes[:12]) + (" …" if len(codes) > 12 else "")
    raise InvalidInput(Msg("keys.unknown", what=what, code=code, listing=listing), **{what: code})


class KeyRing:
    """Looks keys up, remembering answers for ``ttl`` seconds (a revocation takes that long).

    Every request needs its caller; without the cache each one would cost a
    database round trip on the hot intake path. Unknown keys are remembered too
    (a client retrying a revoked key costs no query), so the cache holds at most
    ``max_entries`` keys, the least recently looked up going first: requests
    with made-up keys come before any rate limit (that is per key), and would
    otherwise grow it without end.
    """

    def __init__(self, engine: Engine, ttl: float = 30.0, max_entries: int = 10_000) -> None:
        self.engine = engine
        self.ttl = ttl
        self.max_entries = max_entries
        self._seen: OrderedDict[str, tuple[float, Principal | None]] = OrderedDict()
        self._lock = threading.Lock()

    def authenticate(self, key: str | None) -> Principal:
        """The principal behind a key, or Unauthenticated."""
        if not key:
            raise Unauthenticated(Msg("keys.missing"))
        digest = hash_key(key)
        now = time.monotonic()
        hit = self._seen.get(digest)
        if hit is None or now - hit[0] > self.ttl:
            hit = (now, self._lookup(digest))
            self._remember(digest, hit)
        if hit[1] is None:
            raise Unauthenticated(Msg("keys.unknown_key"))
        return hit[1]

    def _remember(self, digest: str, hit: tuple[float, Principal | None]) -> None:
        with self._lock:  # sync routes authenticate on the thread pool
            self._seen[digest] = hit
            self._seen.move_to_end(digest)
            while len(self._seen) > self.max_entries:
                self._seen.popitem(last=False)

    def _lookup(self, digest: str) -> Principal | None:
        with self.engine.connect() as conn:
            row = store.api_key_by_hash(conn, digest)
        if row is None:
            return None
        return Principal(
            int(row["id"]),
            row["name"],
            Role(row["role"]),
            row["department"],
            row.get("grid_code"),
            row.get("town_code"),
        )


def list_keys(engine: Engine, include_revoked: bool = False) -> list[dict[str, object]]:
    """Every key's holder, role, department and dates (never the key or its hash)."""
    with engine.connect() as conn:
        return store.api_keys(conn, include_revoked)


def revoke_key(engine: Engine, key_id: int) -> None:
    """Revoke one key; it stops working within the key cache's lifetime (30 s)."""
    with engine.begin() as conn:
        if not store.revoke_key(conn, key_id, datetime.now(UTC)):
            raise NotFound(Msg("keys.no_such", key_id=key_id))


#: who the demo's keys are, by role: (name, department of a handler, the page it opens)
DEMO_PEOPLE: tuple[tuple[Role, str, str | None, str], ...] = (
    (Role.PATROL, "演示网格员 demo patrol", None, "/patrol"),
    (Role.DISPATCHER, "演示调度员 demo dispatcher", None, "/dispatch"),
    (Role.HANDLER, "演示执法队 demo handler", "D01", "/handle"),
    (Role.PLANNER, "演示规划员 demo planner", None, "/plan"),
    (Role.LEADER, "演示领导 demo leader", None, "/dashboard"),
    (Role.ADMIN, "演示管理员 demo admin", None, "/"),
)


def demo_keys(engine: Engine) -> list[tuple[Role, str, str]]:
    """A fresh key per role for the demo town, revoking the demo keys made before
    (their secrets are not stored, so they cannot be shown again): (role, key, page)."""
    with engine.begin() as conn:
        store.revoke_keys_named(conn, [name for _, name, _, _ in DEMO_PEOPLE], datetime.now(UTC))
    with engine.connect() as conn:  # the demo patrol walks the first grid (its open cases shown)
        active = active_versions(conn).get(LayerKind.GRIDS)
        codes = sorted(feature_names(conn, active)) if active else []
    grid = codes[0] if codes else None
    return [
        (
            role,
            create_key(engine, role, name, department, grid if role == Role.PATROL else None),
            page,
        )
        for role, name, department, page in DEMO_PEOPLE
    ]
