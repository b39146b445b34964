"""The cases this process is adding: their ids, the duplicate index, one INSERT per batch.

Intake writes through the group-commit writer, and this class takes part in
each of its transactions (it is the writer's :class:`TransactionHooks`):

* ``begin``: bring the in-memory index of recent cases up to date with what
  other processes committed, and learn the highest case id;
* each report: find its possible duplicates in the index, give it the next
  id and its number, and queue its row and first event;
* ``flush``: insert the queued cases, then their events, one statement each;
* ``end``: keep the batch's cases in the index, or forget them on a rollback.

Allocating ids here, not by the database, lets a report's number be known
before its row is written: one INSERT per batch instead of an INSERT and an
UPDATE per report, which is most of what the writer's thread did. Writers take
turns (the writer's file lock), so every id committed before a turn is below
the ids that turn gives. Everything here runs on the writer's thread.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from gridsvc.core.duplicates import RecentCases, Reported, metres, nearest
from gridsvc.store import cases as store


def case_number(year: int, case_id: int) -> str:
    """The human-readable number a patrol reads out: year and id, ``2026-0001234``."""
    return f"{year}-{case_id:07d}"


class NewCases:
    """Ids, duplicates and batched inserts of the cases intake opens."""

    def __init__(self, radius_m: float, window: timedelta, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self._recent = RecentCases(radius_m, window)
        self._top: int | None = None  # the highest case id committed, as of this turn
        self._next_id = 0
        self._cases: list[dict[str, Any]] = []  # queued for the batch's INSERT
        self._events: list[dict[str, Any]] = []
        self._pending: set[int] = set()  # ids given in the open transaction

    # ---- the writer's hooks --------------------------------------------------------------

    def begin(self, conn: Connection) -> None:
        """Add the cases committed since the last turn (by any process) to the index."""
        since = self.clock() - self._recent.window
        added, self._top = store.reported_after(conn, self._top, since)
        for case in added:
            self._recent.add(case)
        self._next_id = self._top + 1

    def flush(self, conn: Connection) -> None:
        store.insert_cases(conn, self._cases)
        store.insert_events(conn, self._events)  # both lists are emptied by end()

    def end(self, committed: bool) -> None:
        if committed and self._pending:
            self._top = max(self._pending)
        elif not committed:
            self._recent.drop_newest(self._pending)
        self._cases, self._events, self._pending = [], [], set()

    # ---- one report ------------------------------------------------------------------------

    def duplicates(self, conn: Connection, case: dict[str, Any]) -> list[dict[str, Any]]:
        """Open cases of the case's category within the radius and window, nearest first.

        Sees every case committed before this one and the reports earlier in
        the same batch, so two patrols reporting the same thing at once see
        each other. Closed cases are weeded out by one status query, made only
        when something is near.
        """
        lon, lat, r = case["lon"], case["lat"], self._recent.radius_m
        near = [
            c
            for c in self._recent.candidates(case["category"], lon, lat, case["created_at"])
            if metres(lon, lat, c.lon, c.lat) <= r
        ]
        if not near:
            return []
        near = sorted(near, key=lambda c: c.id)[-store.NEAR_CANDIDATES :]
        committed = [c.id for c in near if c.id not in self._pending]
        open_ids = (store.still_open(conn, committed) if committed else set()) | self._pending
        return nearest(lon, lat, [c for c in near if c.id in open_ids], r)

    def add(self, case: dict[str, Any], event: dict[str, Any], year: int) -> tuple[int, str]:
        """Give a case its id and number and queue it (and its first event) for the flush."""
        case_id, self._next_id = self._next_id, self._next_id + 1
        number = case_number(year, case_id)
        self._cases.append({**case, "id": case_id, "number": number})
        self._events.append({**event, "case_id": case_id, "seq": 1})
        self._recent.add(
            Reported(
                case_id, number, case["category"], case["lon"], case["lat"], case["created_at"]
            )
        )
        self._pending.add(case_id)
        return case_id, number
