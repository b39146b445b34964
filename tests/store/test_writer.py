"""The batch writer keeps one connection; losing it loses no report.

The intake writer commits every batch on the same connection (checking one
out of the pool for each batch cost more than a statement). A connection can
still break under it: the batch on it must then be written on a new one, and
every report answered as stored must be in the table.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, text

from gridsvc.store.engine import make_engine
from gridsvc.store.writer import BatchWriter


def table(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE reports (id INTEGER PRIMARY KEY, note TEXT UNIQUE)")
    return engine


def insert(note: str):  # type: ignore[no-untyped-def]
    def work(conn: Connection) -> str:
        conn.execute(text("INSERT INTO reports (note) VALUES (:n)"), {"n": note})
        return note

    return work


def stored(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(text("SELECT note FROM reports ORDER BY id")))


def test_batches_after_a_broken_connection_are_all_written(tmp_path: Path) -> None:
    engine = table(tmp_path)
    writer = BatchWriter(engine)
    assert writer.commit([insert("a"), insert("b")]) == [(True, "a"), (True, "b")]
    held = writer._connection().connection.driver_connection
    assert held is not None
    held.close()  # the database goes away under the writer's connection

    outcomes = writer.commit([insert("c"), insert("d")])

    assert outcomes == [(True, "c"), (True, "d")]
    assert writer.commit([insert("e")]) == [(True, "e")]
    assert stored(engine) == ["a", "b", "c", "d", "e"]
    writer.close()


def test_a_failed_report_costs_the_others_nothing_and_the_next_batch_goes_on(
    tmp_path: Path,
) -> None:
    engine = table(tmp_path)
    writer = BatchWriter(engine)
    writer.commit([insert("a")])

    outcomes = writer.commit([insert("b"), insert("a"), insert("c")])  # "a" clashes

    assert [ok for ok, _ in outcomes] == [True, False, True]
    assert writer.commit([insert("d")]) == [(True, "d")]
    assert stored(engine) == ["a", "b", "c", "d"]
    writer.close()
