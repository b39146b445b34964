"""The write-ahead log of a busy SQLite writer stays small, and nothing in it is lost.

A report's rows go first into ``<db>-wal``. Under steady intake the intake
writer process commits without pause; its log must still be copied into the
database and started over, or the file grows by gigabytes a day and every
commit appends to it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from gridsvc.store import engine as engine_module
from gridsvc.store.checkpoints import Checkpointer
from gridsvc.store.engine import make_engine

ROW = os.urandom(3000)  # about one page per commit, incompressible


def busy_writer(tmp_path: Path) -> tuple[Engine, Path]:
    """A SQLite file whose connections never checkpoint on their own (as the writer's)."""
    database = tmp_path / "busy.db"
    engine = make_engine(f"sqlite:///{database}", checkpoint_pages=0)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE rows (id INTEGER PRIMARY KEY, body BLOB)")
    return engine, database


def commit_one(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO rows (body) VALUES (:b)"), {"b": ROW})


def wal_size(database: Path) -> int:
    return database.with_name(database.name + "-wal").stat().st_size


def test_a_writer_that_catches_up_keeps_its_log_small(tmp_path: Path) -> None:
    engine, database = busy_writer(tmp_path)
    checkpointer = Checkpointer(database, interval=0.05)
    commits, largest = 0, 0
    try:
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            commit_one(engine)  # back to back: the background pass never finds the log idle
            commits += 1
            checkpointer.catch_up()
            largest = max(largest, wal_size(database))
    finally:
        checkpointer.close()
    written = commits * len(ROW)
    assert commits > 100, "the machine was too slow for the writer to be busy"
    # without the catch-up the log holds every commit: its size passes `written`
    assert largest < written / 4, (largest, written, commits)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM rows")).scalar_one() == commits
    engine.dispose()


def test_a_burst_s_log_is_cut_back_once_copied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "WAL_SIZE_LIMIT_BYTES", 256 * 1024)
    engine, database = busy_writer(tmp_path)
    for _ in range(1000):  # a burst: about 4 MB of log, nothing copied
        commit_one(engine)
    assert wal_size(database) > 3_000_000
    with engine.connect() as conn:  # a checkpoint copies it all (no one else is writing) ...
        busy, pages, copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        assert (busy, copied) == (0, pages)
    commit_one(engine)  # ... and the next commit starts the log over and cuts the file
    assert wal_size(database) <= 256 * 1024 + 2 * 4096
    engine.dispose()
