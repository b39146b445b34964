"""The read side of the case service: pages, counts, the supervision queue, live changes, one case.

:class:`CaseReads` is the base of :class:`~gridsvc.services.cases.CaseService`, which
adds intake and the closed loop's actions; kept apart because reading is most of
the routes and none of the writing (the service was 665 lines). Every read
computes supervision (colour, deadline, overdue) at the moment it is asked, from
the case's history and its matter's limits, and a reader outside a case's scope
gets a NotFound, never a Forbidden that would confirm it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from gridsvc.core.duplicates import nearest
from gridsvc.core.errors import Forbidden, NotFound
from gridsvc.core.messages import Msg
from gridsvc.core.routing import Matter, ResponsibilityList
from gridsvc.core.workflow import Colour, Role, Supervision, steps_from_history, supervise
from gridsvc.core.worktime import WorkCalendar
from gridsvc.services.case_rows import clock_for
from gridsvc.services.case_views import case_view, local_iso, supervision_view
from gridsvc.services.reading import Principal, for_reader, in_scope, may_read, reported_by
from gridsvc.store import cases as store


@dataclass(frozen=True)
class CaseFilter:
    """What a queue or search asks for; colour and overdue are computed when read."""

    status: tuple[str, ...] = ()
    town_code: str | None = None
    grid_code: str | None = None
    unit_code: str | None = None
    team: str | None = None
    department: str | None = None
    category: str | None = None
    colour: str | None = None
    overdue: bool | None = None
    open_only: bool = False
    bbox: tuple[float, float, float, float] | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    reporter_key: int | None = None  # only the reports sent with this key (a patrol's own)

    def stored(self) -> dict[str, Any]:
        """The part the database can filter on."""
        return {
            "status": list(self.status),
            "town_code": self.town_code,
            "grid_code": self.grid_code,
            "unit_code": self.unit_code,
            "team": self.team,
            "department": self.department,
            "category": self.category,
            "open_only": self.open_only or self.overdue is True,
            "bbox": self.bbox,
            "created_from": self.created_from,
            "created_to": self.created_to,
            "reporter_key": self.reporter_key,
        }

    def admits(self, summary: dict[str, Any]) -> bool:
        supervision = summary["supervision"]
        if self.colour and supervision["colour"] != self.colour:
            return False
        return self.overdue is None or supervision["overdue"] == self.overdue


SEARCH_BATCH = 500  # rows read per round while filling a page
CHANGES_LIMIT = 200  # changed cases per answer of the live queue


class CaseReads:
    """Reading cases as their readers may see them; the attributes are set by the service."""

    engine: Engine
    matters: ResponsibilityList
    calendar: WorkCalendar
    natural_time: WorkCalendar
    duplicate_radius_m: float
    duplicate_window: timedelta
    clock: Callable[[], datetime]

    def search(
        self, wanted: CaseFilter, cursor: int | None, limit: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of case summaries, newest first; the cursor continues where it stopped.

        Colour and overdue are computed from each case's history, so with either filter
        rows are read SEARCH_BATCH at a time until the page fills; without, every row
        read is on the page, so one more than the page is read (to know it is the last).
        Reading 500 (and their histories) for a page of 50 made a town's page cost 60 ms
        on a 200,000-case city (benchmarks/bench_district.py).
        """
        now = self.clock()
        items: list[dict[str, Any]] = []
        before = cursor
        batch = SEARCH_BATCH if wanted.colour or wanted.overdue is not None else limit + 1
        with self.engine.connect() as conn:
            while len(items) < limit:
                rows = store.search_cases(conn, wanted.stored(), before, batch)
                histories = store.events_for(conn, [r["id"] for r in rows])
                for row in rows:
                    before = row["id"]
                    summary = self._summary(row, histories[row["id"]], now)
                    if wanted.admits(summary):
                        items.append(summary)
                        if len(items) == limit:
                            break
                if len(rows) < batch and (not rows or before == rows[-1]["id"]):
                    return items, None
        return items, before

    def count(self, wanted: CaseFilter) -> int:
        """How many cases the stored part of ``wanted`` matches (its colour filters not applied)."""
        with self.engine.connect() as conn:
            return store.count_cases(conn, wanted.stored())

    def supervision_queue(self, wanted: CaseFilter) -> list[dict[str, Any]]:
        """Open cases that are overdue or whose colour climbed, most urgent first."""
        base = CaseFilter(**{**wanted.__dict__, "open_only": True})
        items, _ = self.search(base, None, 10_000)
        queue = [
            i for i in items if i["supervision"]["overdue"] or i["supervision"]["overdue_steps"]
        ]
        rank = {"red": 0, "orange": 1, "yellow": 2}
        return sorted(
            queue,
            key=lambda i: (rank[i["supervision"]["colour"]], i["supervision"]["hours_left"] or 0),
        )

    def _summary(
        self, case: dict[str, Any], events: list[dict[str, Any]], now: datetime
    ) -> dict[str, Any]:
        matter, state = self._supervised(case, events, now)
        keep = (
            "id",
            "number",
            "status",
            "category",
            "town_code",
            "grid_code",
            "unit_code",
            "committee_code",
            "team",
            "department",
            "assignee",
            "level",
            "severity",
            "lon",
            "lat",
            "street_id",
            "reopen_count",
        )
        summary = {k: case[k] for k in keep}
        summary["category_name"] = matter.name
        summary["created_at"] = local_iso(case["created_at"])
        summary["updated_at"] = local_iso(case["updated_at"])
        summary["supervision"] = supervision_view(state)
        return summary

    def changes(
        self, after: int | None, limit: int = CHANGES_LIMIT, who: Principal | None = None
    ) -> dict[str, Any]:
        """The cases changed since event ``after`` as summaries, and the cursor to ask next.

        With ``who``, only the changed cases in its scope are listed (the cursor still
        moves past the others, so a town's queue does not ask for them again).

        Without ``after`` only the cursor (the newest event): a queue that has just
        been read starts watching from there. A page of at most ``limit`` changes;
        the cursor then stops at the last one returned, so nothing is skipped.
        """
        with self.engine.connect() as conn:
            if after is None:
                return {"cursor": store.last_event_id(conn), "items": []}
            changed = store.cases_changed_since(conn, after, limit)
            if not changed:
                return {"cursor": after, "items": []}
            ids = [case_id for case_id, _ in changed]
            histories = store.events_for(conn, ids)
            now = self.clock()
            items = [
                self._summary(case, histories[case["id"]], now)
                for case in store.cases_by_id(conn, ids)
                if who is None or in_scope(case, who)
            ]
        return {"cursor": changed[-1][1], "items": items}

    def get_by_number(self, number: str, who: Principal | None = None) -> dict[str, Any]:
        """A case by its human-readable number (what Open311 calls the service_request_id);
        another town's case is not found for a town key."""
        with self.engine.connect() as conn:
            case_id = store.case_id_by_number(conn, number)
            view = self._view(conn, case_id, self.clock()) if case_id is not None else None
        if view is None or (who is not None and not in_scope(view, who)):
            raise NotFound(Msg("case.no_number", number=number))
        return view

    def _clock_for(self, case: dict[str, Any]) -> WorkCalendar:
        return clock_for(case["level"], self.calendar, self.natural_time)

    def get(self, case_id: int, who: Principal | None = None) -> dict[str, Any]:
        """A case as ``who`` may see it; one they may not read is not found (no id probing)."""
        with self.engine.connect() as conn:
            view = self._view(conn, case_id, self.clock())
        if who is None:
            return view
        if not may_read(view, who):
            raise NotFound(Msg("case.no_id", case_id=case_id))
        return for_reader(view, who)

    def readable(self, case_id: int, who: Principal) -> None:
        """NotFound unless ``who`` may read the case (photos: the same rule as ``get``)."""
        if who.role == Role.PATROL or who.town is not None:
            self.get(case_id, who)

    def actable(self, case_id: int, who: Principal) -> None:
        """As :meth:`readable`, and a patrol acts (fixes on the spot, attaches photos) only
        on its own reports: its grid's other cases it may read, not change. A town key
        acts in its town only (another town's case is not found)."""
        if who.role != Role.PATROL and who.town is None:
            return
        with self.engine.connect() as conn:
            view = self._view(conn, case_id, self.clock())
        if not may_read(view, who):
            raise NotFound(Msg("case.no_id", case_id=case_id))
        if who.role == Role.PATROL and not reported_by(view, who):
            raise Forbidden(Msg("case.patrol_own"))

    def _case(self, conn: Any, case_id: int) -> dict[str, Any]:
        case = store.get_case(conn, case_id)
        if case is None:
            raise NotFound(Msg("case.no_id", case_id=case_id))
        return case

    def _view(self, conn: Any, case_id: int, now: datetime) -> dict[str, Any]:
        """The case as the API shows it: fields, supervision computed now, history, duplicates."""
        case = self._case(conn, case_id)
        events = store.case_events(conn, case_id)
        return self._fresh_view(case, events, now, self._duplicates(conn, case))

    def _supervised(
        self, case: dict[str, Any], events: list[dict[str, Any]], now: datetime
    ) -> tuple[Matter, Supervision]:
        """The case's matter and its supervision (colour, deadline, overdue) at ``now``."""
        matter = self.matters.for_town(case.get("town_code")).get(case["category"])
        steps = steps_from_history(events)
        state = supervise(Colour(case["colour"]), matter.limits, steps, now, self._clock_for(case))
        return matter, state

    def _fresh_view(
        self,
        case: dict[str, Any],
        events: list[dict[str, Any]],
        now: datetime,
        duplicates: list[dict[str, Any]],
    ) -> dict[str, Any]:
        matter, state = self._supervised(case, events, now)
        view = case_view(case, events, state, duplicates)
        view["category_name"] = matter.name
        return view

    def _duplicates(self, conn: Any, case: dict[str, Any]) -> list[dict[str, Any]]:
        """Open cases of the same category within the radius and time window (a stored case)."""
        since = case["created_at"] - self.duplicate_window
        candidates = store.open_cases_near(
            conn, case["category"], case["lon"], case["lat"], self.duplicate_radius_m, since
        )
        others = [c for c in candidates if c.id != case["id"]]
        return nearest(case["lon"], case["lat"], others, self.duplicate_radius_m)

    def _now(self) -> datetime:
        """The clock read at call time (tests and the evaluation replay set ``clock``)."""
        return self.clock()
