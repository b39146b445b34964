"""Migration 0006: at most one published responsibility list, and a database with two mended."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import IntegrityError

from gridsvc.core.errors import InconsistentStorage
from gridsvc.store import matter_lists
from gridsvc.store import schema as s
from gridsvc.store.engine import make_engine, upgrade

T0 = datetime(2027, 3, 1, 8, tzinfo=UTC)


def two_published(engine: Engine) -> tuple[int, int]:
    """Two published lists as the race left them; ``matters`` holds the older one's rows."""
    with engine.begin() as conn:
        ids = []
        for i, code in enumerate(("A1", "B2")):
            ids.append(matter_lists.add_version(conn, [{"code": code}], code, T0, "draft"))
            conn.execute(
                s.matter_lists.update()
                .where(s.matter_lists.c.id == ids[-1])
                .values(status="published", published_at=T0 + timedelta(minutes=i))
            )
        conn.execute(insert(s.matters), [{"code": "A1", "record": {"code": "A1"}}])
    return ids[0], ids[1]


def test_upgrade_keeps_the_newest_of_two_published_lists(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = db_url
    upgrade(url, "0005")
    engine = make_engine(url)
    older, newer = two_published(engine)
    with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
        upgrade(url)
    assert f"kept version {newer} (the newest), retired {older}" in caplog.text
    with engine.connect() as conn:
        rows = {r.id: (r.status, r.retired_at) for r in conn.execute(select(s.matter_lists))}
        assert rows[newer] == ("published", None)
        assert rows[older][0] == "retired" and rows[older][1] is not None
        assert conn.execute(select(s.matters.c.code)).scalars().all() == ["B2"]
        assert matter_lists.active_version(conn) == newer


def test_the_database_refuses_a_second_published_list(migrated_db_url: str) -> None:
    url = migrated_db_url
    engine = make_engine(url)
    with pytest.raises(IntegrityError):
        two_published(engine)


def test_two_published_lists_are_named_not_a_traceback(migrated_db_url: str) -> None:
    """A database mended by hand without the index: the service names the state and the cure."""
    url = migrated_db_url
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX uq_matter_lists_one_published"))
    older, newer = two_published(engine)
    with engine.connect() as conn, pytest.raises(InconsistentStorage) as raised:
        matter_lists.active_version(conn)
    message = raised.value.message
    assert f"2 published responsibility lists (versions {older}, {newer})" in message
    assert f"AND id <> {newer}" in message and "\n" not in message
