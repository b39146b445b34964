"""The key cache: hashed keys looked up once per TTL, bounded against made-up keys."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from gridsvc.core.errors import Unauthenticated
from gridsvc.core.workflow import Role
from gridsvc.services.keys import KeyRing, create_key
from gridsvc.store.engine import make_engine, upgrade


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path}/k.db"
    upgrade(url)
    return make_engine(url)


def _count_queries(engine: Engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_a_flood_of_made_up_keys_keeps_the_cache_bounded_and_real_keys_working(
    engine: Engine,
) -> None:
    real = create_key(engine, Role.PATROL, "巡查员")
    ring = KeyRing(engine, max_entries=50)
    assert ring.authenticate(real).name == "巡查员"
    for _ in range(500):
        with pytest.raises(Unauthenticated):
            ring.authenticate("gs_" + secrets.token_urlsafe(32))
    assert len(ring._seen) <= 50
    assert ring.authenticate(real).role == Role.PATROL  # looked up again, still valid


def test_a_key_is_looked_up_once_within_its_ttl(engine: Engine) -> None:
    real = create_key(engine, Role.DISPATCHER, "王调度")
    ring = KeyRing(engine)
    queries = _count_queries(engine)
    for _ in range(20):
        ring.authenticate(real)
    with pytest.raises(Unauthenticated):
        ring.authenticate("gs_revoked")
    with pytest.raises(Unauthenticated):
        ring.authenticate("gs_revoked")
    assert len(queries) == 2  # one per key, the unknown one remembered too
