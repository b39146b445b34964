"""Intake on PostgreSQL: every worker, on every host, commits its own reports.

SQLite takes one writer at a time, so there the reports of all workers go
through one writer (a thread, or the intake writer process) that batches
them into group commits. PostgreSQL takes many writers at once and groups
their WAL flushes itself, so here each report is written by the worker that
took it, in two statements and one transaction (``store/intake_pg.py``),
durable on return (``synchronous_commit=on``):

* one SELECT: the id from the ``cases`` sequence (so the number is known
  before the INSERT, as with the writer's own ids, safe across workers and
  hosts) and the possible duplicates: the committed open cases of the
  category in the cells around the point within the window (the
  category/cell/time index); two reports of one thing in the same instant do
  not see each other, and the dispatcher merges them like any pair;
* one INSERT (autocommit: the statement is the transaction): the
  Idempotency-Key's record, the case and its first event. A key stored
  already, by this worker or another one anywhere (a concurrent writer of the
  key is waited for), makes it write nothing, and
  :class:`~gridsvc.services.intake.WriteConflict` turns that into the
  service's replay (or its 422 for another body, its 409 for a claim in
  flight). So the service need not read the key first (:attr:`finds_stored_keys`).

Same interface as the writers: :class:`~gridsvc.services.intake.IntakeWriter`.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from gridsvc.core.duplicates import cell_of, nearest
from gridsvc.services.cases import IN_FLIGHT_EXPIRY
from gridsvc.services.intake import Intake, WriteConflict, Written, case_number, numbered
from gridsvc.store import intake_pg

#: the longest a thread holds the GIL while another waits for it (Python's default: 5 ms).
#: A report's thread waits for the database twice and then for the GIL, which the event
#: loop (parsing, matching, rendering the next requests) holds up to the interval each
#: time: p50 33 ms and p99 167 ms at 500 reports/s on 1 worker with 5 ms, p50 12 ms and
#: p99 49 ms with 0.5 ms (2026-12-07, benchmarks/bench_api.py, a busier hour)
SWITCH_INTERVAL_S = 0.0005


class DatabaseIntake:
    """Reports written by the worker that took them, one transaction each (PostgreSQL)."""

    #: a key stored already is found by the write itself (it writes nothing and raises
    #: :class:`WriteConflict`): the service skips its read of the key before the write
    finds_stored_keys = True

    def __init__(self, engine: Engine, radius_m: float, window: timedelta) -> None:
        """Sets this process's GIL switch interval to :data:`SWITCH_INTERVAL_S` at most."""
        self.engine = engine
        self.radius_m = radius_m
        self.window = window
        self._caught_up = False
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))

    async def write(self, intake: Intake) -> Written:
        """Once the case is committed; :class:`WriteConflict` on a key clash."""
        return await asyncio.to_thread(self.write_now, intake)

    def write_now(self, intake: Intake) -> Written:
        try:
            # autocommit: each statement is its own transaction, with no BEGIN and COMMIT
            # round trips; the one that writes writes everything
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                return self._write(conn, intake)
        except IntegrityError as exc:
            raise WriteConflict(str(exc.orig)) from exc

    def _write(self, conn: Connection, intake: Intake) -> Written:
        if not self._caught_up:
            conn.execute(intake_pg.CATCH_UP)
            self._caught_up = True
        case = intake.case
        since = case["created_at"] - self.window
        case_id, near = intake_pg.next_id_and_near(
            conn, case["category"], case["lon"], case["lat"], self.radius_m, since
        )
        number = case_number(intake.year, case_id)
        written = Written(case_id, number, nearest(case["lon"], case["lat"], near, self.radius_m))
        row = {**case, "id": case_id, "number": number, "cell": cell_of(case["lon"], case["lat"])}
        event = {**intake.event, "seq": 1}
        if intake.key is None:
            intake_pg.insert_report(conn, row, event)
            return written
        k = intake.key
        record = {
            "principal": k.principal,
            "key": k.key,
            "request_hash": k.fingerprint,
            "state": "done",
            "status_code": 201,
            "response": numbered(intake.answer or {}, written),
            "created_at": k.at,
        }
        if not intake_pg.insert_report(conn, row, event, record, k.at - IN_FLIGHT_EXPIRY):
            raise WriteConflict(f"Idempotency-Key {k.key!r} is stored already")
        return written
