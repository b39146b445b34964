"""Intake on PostgreSQL: every worker, on every host, commits its own reports.

SQLite takes one writer at a time, so there the reports of all workers go
through one writer (a thread, or the intake writer process) that batches
them into group commits. PostgreSQL takes many writers at once and groups
their WAL flushes itself, so here each report is one short transaction of
the worker that took it, durable on return (``synchronous_commit=on``):

* the id comes from the ``cases`` sequence (so the number is known before the
  INSERT, as with the writer's own ids), safe across workers and hosts;
* possible duplicates are the committed open cases of the category in the
  cells around the point within the window (``store.open_cases_near``, the
  category/cell/time index); two reports of one thing in the same instant
  do not see each other, and the dispatcher merges them like any pair;
* the Idempotency-Key's record is written in the same transaction; a second
  worker storing the same key waits on the unique index and then clashes,
  which :class:`~gridsvc.services.intake.WriteConflict` turns into a replay.

Same interface as the writers: :class:`~gridsvc.services.intake.IntakeWriter`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from gridsvc.core.duplicates import nearest
from gridsvc.services.intake import Intake, WriteConflict, Written, case_number, numbered
from gridsvc.store import cases as store

_NEXT_ID = text("SELECT nextval(pg_get_serial_sequence('cases', 'id'))")
# never backwards: ids written by other means (history import, db copy) move it forward
_CATCH_UP = text(
    "SELECT setval(pg_get_serial_sequence('cases', 'id'), "
    "GREATEST((SELECT COALESCE(MAX(id), 0) FROM cases), "
    "nextval(pg_get_serial_sequence('cases', 'id'))))"
)


class DatabaseIntake:
    """Reports written by the worker that took them, one transaction each (PostgreSQL)."""

    def __init__(self, engine: Engine, radius_m: float, window: timedelta) -> None:
        self.engine = engine
        self.radius_m = radius_m
        self.window = window
        self._caught_up = False

    async def write(self, intake: Intake) -> Written:
        """Once the case is committed; :class:`WriteConflict` on a key clash."""
        return await asyncio.to_thread(self.write_now, intake)

    def write_now(self, intake: Intake) -> Written:
        try:
            with self.engine.begin() as conn:
                return self._write(conn, intake)
        except IntegrityError as exc:
            raise WriteConflict(str(exc.orig)) from exc

    def _write(self, conn: Connection, intake: Intake) -> Written:
        if not self._caught_up:
            conn.execute(_CATCH_UP)
            self._caught_up = True
        case_id = int(conn.execute(_NEXT_ID).scalar_one())
        number = case_number(intake.year, case_id)
        case = intake.case
        since = case["created_at"] - self.window
        near = store.open_cases_near(
            conn, case["category"], case["lon"], case["lat"], self.radius_m, since
        )
        written = Written(case_id, number, nearest(case["lon"], case["lat"], near, self.radius_m))
        store.insert_cases(conn, [{**case, "id": case_id, "number": number}])
        store.insert_events(conn, [{**intake.event, "case_id": case_id, "seq": 1}])
        if intake.key is not None:
            k, answer = intake.key, numbered(intake.answer or {}, written)
            store.record_idempotency_key(conn, k.principal, k.key, k.fingerprint, k.at, 201, answer)
        return written
