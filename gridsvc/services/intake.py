"""Writing the cases intake opens: their ids, the duplicate index, one INSERT per batch.

A server process matches, routes and renders a report, and hands the rest
to a writer as an :class:`Intake`: its own writer thread (:class:`LocalIntake`)
or the intake writer process (``services/intake_process.py``). Either way
:class:`NewCases` takes part in each of the writer's transactions (it is the
writer's :class:`TransactionHooks`):

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
the ids that turn gives. NewCases runs on the writer's thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from gridsvc.core.duplicates import RecentCases, Reported, metres, nearest
from gridsvc.store import cases as store
from gridsvc.store.writer import GroupCommitter


def case_number(year: int, case_id: int) -> str:
    """The human-readable number a patrol reads out: year and id, ``2026-0001234``."""
    return f"{year}-{case_id:07d}"


@dataclass(frozen=True)
class KeyRecord:
    """An Idempotency-Key to store with the answer, in the case's own transaction."""

    principal: str
    key: str
    fingerprint: str
    at: datetime


@dataclass(frozen=True)
class Intake:
    """One report, matched, routed and rendered, waiting for the writer's turn.

    Everything is decided before the turn except what only the turn can know:
    the id (and so the number) and the possible duplicates. Plain data, so the
    work can be handed to a writer in another process as well as to this
    process's thread. ``answer`` (the case view, to be :func:`numbered`) goes
    along only with a key, whose record stores it.
    """

    case: dict[str, Any]  # the row, without id and number
    event: dict[str, Any]  # its first event, without case_id and seq
    year: int  # of the number (local time)
    key: KeyRecord | None = None
    answer: dict[str, Any] | None = None  # with a key: the view the key's record stores


class Written(NamedTuple):
    """What the writer's turn decided for one report."""

    id: int
    number: str
    duplicates: list[dict[str, Any]]


def numbered(view: dict[str, Any], written: Written) -> dict[str, Any]:
    """The case view rendered before the turn, with what the turn decided."""
    answer = {**view, "id": written.id, "number": written.number}
    answer["possible_duplicates"] = written.duplicates
    return answer


class WriteConflict(Exception):
    """A unique key clashed in the writer: another request stored the same key first."""


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
        self._others: int | None = None  # what others had committed as of the last catch-up

    # ---- the writer's hooks --------------------------------------------------------------

    def begin(self, conn: Connection) -> None:
        """Add the cases committed since the last turn (by any process) to the index.

        When no other connection has committed since the last turn (the intake
        writer is usually the only one adding cases), there is nothing to add and
        the query is skipped: it was a sixth of the writer's time per batch.
        """
        others = store.others_version(conn)
        if self._top is None or others is None or others != self._others:
            since = self.clock() - self._recent.window
            added, self._top = store.reported_after(conn, self._top, since)
            for case in added:
                self._recent.add(case)
            self._others = others
        self._next_id = self._top + 1

    def flush(self, conn: Connection) -> None:
        store.insert_cases(conn, self._cases)
        store.insert_events(conn, self._events)  # both lists are emptied by end()

    def end(self, committed: bool) -> None:
        if committed and self._pending:
            self._top = max(self._pending)
        elif not committed:
            self._recent.drop_newest(self._pending)
            # the writer opens a new connection after a failed transaction, and a version
            # read on another connection says nothing: the next turn catches up in full
            self._others = None
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

    def write(self, conn: Connection, intake: Intake) -> Written:
        """Open one case in the writer's transaction: its id, number and duplicates."""
        duplicates = self.duplicates(conn, intake.case)
        case_id, number = self.add(intake.case, intake.event, intake.year)  # inserted at flush
        written = Written(case_id, number, duplicates)
        if intake.key is not None:
            k, answer = intake.key, numbered(intake.answer or {}, written)
            store.record_idempotency_key(conn, k.principal, k.key, k.fingerprint, k.at, 201, answer)
        return written

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


class IntakeWriter(Protocol):
    """Where a worker hands its reports to be written: this process or the intake writer's."""

    async def write(self, intake: Intake) -> Written:
        """Once the case is committed; :class:`WriteConflict` on a key clash."""
        ...


class LocalIntake:
    """Reports written by this process's own group-commit writer thread."""

    def __init__(self, writer: GroupCommitter, new_cases: NewCases) -> None:
        """``writer`` must have ``new_cases`` as its hooks."""
        self.writer = writer
        self.new_cases = new_cases

    async def write(self, intake: Intake) -> Written:
        try:
            return await self.writer.run_async(lambda conn: self.new_cases.write(conn, intake))
        except IntegrityError as exc:
            raise WriteConflict(str(exc.orig)) from exc
