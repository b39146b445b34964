"""Concurrent publishes of the responsibility list: one wins, the others are told why.

Issue 19, finding 1: two publishes at once were both saved (the check of the
published version and the write were not one step), both answered 500 and the
service then refused to start with two published lists.
"""

from __future__ import annotations

import csv
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from gridsvc.api.app import create_app
from gridsvc.config import DEMO_DIR, Settings
from gridsvc.core.errors import Conflict, InconsistentStorage, StaleVersion
from gridsvc.services.responsibility import ResponsibilityLists
from gridsvc.services.setup import load_demo
from gridsvc.store import matter_lists
from gridsvc.store import schema as s
from gridsvc.store.engine import make_engine, upgrade

ROUNDS = 20
RACERS = 4


def demo_rows() -> list[dict[str, str]]:
    with open(DEMO_DIR / "responsibility_list.csv", encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def race(lists: ResponsibilityLists, drafts: list[int], active: int | None) -> list[object]:
    """Publish every draft at once (from its own thread); each thread's result or error."""
    start = threading.Barrier(len(drafts))
    outcomes: list[object] = [None] * len(drafts)

    def publish(i: int) -> None:
        start.wait()
        try:
            outcomes[i] = lists.publish(drafts[i], drafts[i], active)
        except Exception as exc:  # noqa: BLE001 - the test looks at what each one got
            outcomes[i] = exc

    threads = [threading.Thread(target=publish, args=(i,)) for i in range(len(drafts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def published(engine: Engine) -> int:
    with engine.connect() as conn:
        query = select(func.count()).where(s.matter_lists.c.status == "published")
        return int(conn.execute(query).scalar_one())


def test_one_of_concurrent_publishes_wins_each_round(engine: Engine) -> None:
    lists = ResponsibilityLists(engine)
    rows = demo_rows()
    for round_ in range(ROUNDS):
        with engine.connect() as conn:
            active = matter_lists.active_version(conn)
        drafts = [lists.add_draft(rows, f"race {round_}.{i}")["id"] for i in range(RACERS)]
        outcomes = race(lists, drafts, active)
        won = [o for o in outcomes if isinstance(o, dict)]
        lost = [o for o in outcomes if not isinstance(o, dict)]
        assert len(won) == 1, (round_, outcomes)
        assert won[0]["retired"] == active
        assert all(isinstance(o, (StaleVersion, Conflict)) for o in lost), (round_, outcomes)
        assert published(engine) == 1, round_
        with engine.connect() as conn:
            assert matter_lists.active_version(conn) == won[0]["published"]


def test_the_same_draft_published_twice_at_once_is_published_once(engine: Engine) -> None:
    lists = ResponsibilityLists(engine)
    with engine.connect() as conn:
        active = matter_lists.active_version(conn)
    draft = lists.add_draft(demo_rows(), "twice")["id"]
    outcomes = race(lists, [draft] * RACERS, active)
    assert sum(isinstance(o, dict) for o in outcomes) == 1, outcomes
    assert all(isinstance(o, (dict, StaleVersion, Conflict)) for o in outcomes), outcomes
    assert published(engine) == 1


def test_a_database_with_two_published_lists_is_named_at_start(tmp_path: Path) -> None:
    """The service names the broken state in one line (the CLI prints it) instead of a traceback.

    Reached only by a database that lost the index (mended by hand): migration 0006 mends
    older ones before the service starts.
    """
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}")
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    load_demo(engine, DEMO_DIR, history=False, say=lambda _: None)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX uq_matter_lists_one_published"))
        second = matter_lists.add_version(conn, demo_rows(), "second", datetime.now(UTC), "draft")
        conn.execute(
            text("UPDATE matter_lists SET status = 'published' WHERE id = :i"), {"i": second}
        )
    with pytest.raises(
        InconsistentStorage, match=r"2 published responsibility lists \(versions 1, 2\)"
    ):
        create_app(settings)
