"""Case use cases: intake of a report and the closed loop's actions (reading: ``case_reads``).

Every change is one database transaction: the case row, its event and (for
intake) the idempotency record commit together or not at all, so a client
that got an answer can rely on it, and a failure leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from gridsvc.core.crs import parse_crs
from gridsvc.core.errors import (
    Conflict,
    IdempotencyKeyReused,
    InvalidInput,
    OutsideJurisdiction,
    StaleVersion,
)
from gridsvc.core.matching import OUTSIDE, Match, Matcher
from gridsvc.core.messages import Msg
from gridsvc.core.routing import Matter, ResponsibilityList
from gridsvc.core.workflow import (
    Status,
    Tier,
    check_level,
    check_tier,
    colour_for,
    next_status,
)
from gridsvc.core.worktime import WorkCalendar
from gridsvc.services.case_reads import CaseReads
from gridsvc.services.case_rows import placement, routed
from gridsvc.services.case_views import (
    LOCAL_TZ,
    last_change,
)
from gridsvc.services.intake import (
    Intake,
    IntakeWriter,
    KeyRecord,
    LocalIntake,
    NewCases,
    WriteConflict,
    numbered,
)
from gridsvc.services.reading import (
    REPORTER_KEY,
    Principal,
    check_department,
)
from gridsvc.store import cases as store
from gridsvc.store.writer import GroupCommitter

IN_FLIGHT_EXPIRY = timedelta(
    seconds=60
)  # an in-flight idempotency claim older than this was abandoned


@dataclass(frozen=True)
class Report:
    """A patrol's report as the intake receives it (coordinates as sent)."""

    lon: float
    lat: float
    crs: str
    category: str
    description: str = ""
    severity: int | None = None
    reporter: str = ""
    client_time: datetime | None = None
    address: str = ""
    source: str = "patrol"
    media_url: str = ""

    def fingerprint(self) -> str:
        """A hash of the body, so the same Idempotency-Key with another body is caught."""
        body = json.dumps(self.__dict__, default=str, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class Answer:
    """What the intake answers: a status code and the case view (replayed on retries)."""

    status_code: int
    body: dict[str, Any]


class CaseService(CaseReads):
    """The closed loop over the database, the town's matcher and its responsibility list."""

    def __init__(
        self,
        engine: Engine,
        matcher: Matcher,
        matters: ResponsibilityList,
        calendar: WorkCalendar,
        layer_versions: Mapping[str, int],
        departments: Mapping[str, Mapping[str, Any]] | None = None,
        duplicate_radius_m: float = 50.0,
        duplicate_window: timedelta = timedelta(hours=72),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        intake: IntakeWriter | None = None,
    ) -> None:
        """``intake``: a writer process's client; by default this process writes reports."""
        self.engine = engine
        self.matcher = matcher
        self.matters = matters
        self.calendar = calendar
        self.natural_time = WorkCalendar.continuous(calendar.tz.key)
        self.layer_versions = dict(layer_versions)
        self.departments = dict(departments or {})
        self.duplicate_radius_m = duplicate_radius_m
        self.duplicate_window = duplicate_window
        self.clock = clock
        if intake is None:
            new_cases = NewCases(duplicate_radius_m, duplicate_window, self._now)
            self.writer = GroupCommitter(engine, hooks=new_cases)
            intake = LocalIntake(self.writer, new_cases)
        else:  # the closed loop's actions still commit here, taking turns with the writer
            self.writer = GroupCommitter(engine)
        self.intake = intake
        self._lock = threading.Lock()
        self._in_flight: set[tuple[str, str]] = set()

    # ---- intake -----------------------------------------------------------------------

    async def submit(
        self, report: Report, who: Principal, idempotency_key: str | None = None
    ) -> Answer:
        """Match, route and open a case; with a key, a retry answers the original again.

        Everything that can refuse the report (category, coordinates, the
        jurisdiction, the key) is checked before anything is written; the case,
        its first event and the key's answer then commit together, in the
        writer's next group commit. ``async`` because intake is the busiest
        route: a request waits for its commit without holding a thread.
        """
        matter = self.matters.get(report.category)  # an unknown category before anything else
        match = self.matcher.match_point(report.lon, report.lat, parse_crs(report.crs))
        grid_code, team = self._responsible_grid(match, matter)
        # a district's town may route and time this matter its own way
        matter = self.matters.for_town(self._town(match, grid_code)).get(report.category)
        now = self.clock()
        fingerprint = report.fingerprint() if idempotency_key else ""
        with self._key_in_flight(who, idempotency_key):
            # an intake that finds a stored key by itself (PostgreSQL's) is not read ahead:
            # a clash comes back as WriteConflict, answered below by the same replay
            if idempotency_key and not getattr(self.intake, "finds_stored_keys", False):
                replay = self._replay(who, idempotency_key, fingerprint, now)
                if replay is not None:
                    return replay
            values = self._case_values(report, matter, match, grid_code, team, who, now)
            event = self._report_event(report, match, who, now, values["town_code"])
            # the answer is rendered here, outside the writer's turn; the turn fills in
            # the id, the number and the possible duplicates
            unnumbered = {**values, "id": None, "number": None}
            view = self._fresh_view(unnumbered, [{**event, "seq": 1}], now, [])
            year = now.astimezone(LOCAL_TZ).year
            if idempotency_key:
                key = KeyRecord(_principal(who), idempotency_key, fingerprint, now)
                intake = Intake(values, event, year, key, view)
            else:
                intake = Intake(values, event, year)
            try:
                return Answer(201, numbered(view, await self.intake.write(intake)))
            except WriteConflict:
                if not idempotency_key:
                    raise
                # another process committed the same key first: answer as a retry would be
                replay = self._replay(who, idempotency_key, fingerprint, now)
                if replay is None:
                    raise
                return replay

    @contextmanager
    def _key_in_flight(self, who: Principal, key: str | None) -> Iterator[None]:
        """Within this process, a second request with a key still being processed is a 409."""
        if not key:
            yield
            return
        token = (_principal(who), key)
        with self._lock:
            if token in self._in_flight:
                raise Conflict(Msg("intake.key_in_flight", key=key))
            self._in_flight.add(token)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight.discard(token)

    def _replay(self, who: Principal, key: str, fingerprint: str, now: datetime) -> Answer | None:
        """The stored answer for a key, None for a fresh (or abandoned) key, or an error."""
        with self.engine.connect() as conn:
            row = store.idempotency_record(conn, _principal(who), key)
        if row is None:
            return None
        if row["request_hash"] != fingerprint:
            raise IdempotencyKeyReused(Msg("intake.key_reused", key=key))
        if row["state"] == "done":
            return Answer(int(row["status_code"]), row["response"])
        if now - row["created_at"] > IN_FLIGHT_EXPIRY:
            return None  # abandoned by a crashed process; record_idempotency_key replaces it
        raise Conflict(Msg("intake.key_in_flight", key=key))

    def _responsible_grid(self, match: Match, matter: Matter) -> tuple[str | None, str | None]:
        """The grid and team; outside points only for matters that allow them (nearest grid)."""
        if match.status != OUTSIDE:
            return match.grid_code, match.team
        if not matter.allow_outside or match.nearest_grid_code is None:
            must = (
                Msg("intake.outside_inside_only", code=matter.code)
                if not matter.allow_outside
                else Msg("intake.outside_no_grid")
            )
            raise OutsideJurisdiction(
                Msg("intake.outside", reason=self._outside_reason(match), must=must),
                nearest_grid_code=match.nearest_grid_code,
                boundary_distance_m=match.boundary_distance_m,
            )
        return match.nearest_grid_code, self.matcher.team_of(match.nearest_grid_code)

    def _outside_reason(self, match: Match) -> Msg:
        """How far out a point is and its nearest grid, in words of the reader's language
        (the match's own ``reason`` is the English of the /match answer)."""
        code, distance = match.nearest_grid_code, match.boundary_distance_m
        if code is None or distance is None:
            return Msg("intake.outside_unmeasured")
        town = self.matcher.town_name_of(code)
        named = Msg("intake.outside_town", town=town) if town else ""
        return Msg("intake.outside_near", distance=distance, grid=code, town=named)

    def _town(self, match: Match, grid_code: str | None) -> str | None:
        """The case's town: the point's, or for a report allowed just outside, the town of
        the nearest grid it goes to."""
        return match.town_code if match.status != OUTSIDE else self.matcher.town_of(grid_code)

    def _case_values(
        self,
        report: Report,
        matter: Matter,
        match: Match,
        grid_code: str | None,
        team: str | None,
        who: Principal,
        now: datetime,
    ) -> dict[str, Any]:
        severity = report.severity or matter.default_severity
        return {
            "status": Status.REPORTED.value,
            "status_since": now,
            "version": 1,
            "category": matter.code,
            "description": report.description,
            "severity": severity,
            "colour": colour_for(severity).value,
            "source": report.source,
            "reporter": report.reporter or who.name,
            "address": report.address,
            "client_time": report.client_time,
            "created_at": now,
            "updated_at": now,
            **placement(match.fields(), grid_code, team, report.lon, report.lat, report.crs),
            "town_code": self._town(match, grid_code),
            **routed(matter, team),
            "reopen_count": 0,
            "layer_versions": self.layer_versions,
        }

    def _report_event(
        self, report: Report, match: Match, who: Principal, now: datetime, town: str | None
    ) -> dict[str, Any]:
        extra: dict[str, Any] = {"media_url": report.media_url} if report.media_url else {}
        if who.town is not None and town != who.town:
            # a town's patrol reported across the boundary: the case is the other town's,
            # and its history says where the report came from
            extra["reported_by_town"] = who.town
        return {
            "action": "report",
            "from_status": None,
            "to_status": Status.REPORTED.value,
            "actor": who.name,
            "role": who.role.value,
            "at": now,
            "note": report.description,
            "data": {
                "match": {k: v for k, v in match.fields().items() if v is not None},
                REPORTER_KEY: who.key_id,  # whose report it is: a patrol reads its own
                **extra,
            },
        }

    # ---- the closed loop ----------------------------------------------------------------

    def act(
        self, case_id: int, action: str, who: Principal, if_match: int, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Apply one action of the closed loop, if the case is still at the version the caller read."""
        now = self.clock()

        def write(conn: Connection) -> dict[str, Any]:
            case = self._case(conn, case_id)
            if case["version"] != if_match:
                raise StaleVersion(
                    Msg(
                        "case.stale",
                        number=case["number"],
                        version=case["version"],
                        if_match=if_match,
                    ),
                    last_change=last_change(store.case_events(conn, case_id), who),
                )
            current = Status(case["status"])
            target = next_status(current, action, who.role, fields, self.tier(who))
            check_level(action, case["level"], current, who.role)
            check_tier(action, current, who.role, case["level"], self.tier(who))
            check_department(case, who)
            self._check_targets(conn, case, action, fields)
            if not store.update_case(
                conn, case_id, if_match, self._effects(case, action, target, fields, now)
            ):
                raise StaleVersion(Msg("case.changed", number=case["number"]))
            store.add_event(
                conn,
                case_id,
                action=action,
                from_status=current.value,
                to_status=target.value,
                actor=who.name,
                role=who.role.value,
                at=now,
                note=str(fields.get("reason") or fields.get("result") or fields.get("note") or ""),
                data={
                    **self._centre(who),
                    **{k: v for k, v in fields.items() if v not in (None, "")},
                },
            )
            return self._view(conn, case_id, now)

        return self.writer.run(write)

    def tier(self, who: Principal) -> Tier:
        """Where ``who`` sits: a town's centre or the district's (see workflow.Tier)."""
        return Tier(
            town_key=who.town is not None, has_district=self.matcher.district_code is not None
        )

    def _centre(self, who: Principal) -> dict[str, str]:
        """Which centre acted, for the history of a district's case: the key's town, or
        the district centre; nothing in a single town, where there is one centre."""
        district = self.matcher.district_code
        return {} if district is None else {"centre": who.town or district}

    def _check_targets(
        self, conn: Connection, case: dict[str, Any], action: str, fields: Mapping[str, Any]
    ) -> None:
        """What an action points at must exist: a county bureau to escalate to, an earlier case."""
        if action == "escalate":
            code = fields["department"]
            department = self.departments.get(code)
            if department is None or department.get("level") != "county":
                county = sorted(
                    c for c, d in self.departments.items() if d.get("level") == "county"
                )
                raise InvalidInput(Msg("case.escalate_county", code=code, county=list(county)))
        if action == "duplicate":
            other = int(fields["duplicate_of"])
            if other == case["id"]:
                raise InvalidInput(Msg("case.duplicate_self", number=case["number"]))
            if store.get_case(conn, other) is None:
                raise InvalidInput(Msg("case.duplicate_missing", other=other))

    def _effects(
        self,
        case: dict[str, Any],
        action: str,
        target: Status,
        fields: Mapping[str, Any],
        now: datetime,
    ) -> dict[str, Any]:
        values: dict[str, Any] = {"status": target.value, "updated_at": now}
        if target.value != case["status"]:  # a deferral keeps the status and when it began
            values["status_since"] = now
        if action == "reopen":
            values["reopen_count"] = case["reopen_count"] + 1
        if action == "escalate":
            values["assignee"] = fields["department"]
        if action == "refer":  # the district centre holds it now
            values["assignee"] = self.matcher.district_code
        if action == "send_back":  # back with the town's centre
            values["assignee"] = case["town_code"]
        if action == "dispatch" and fields.get("assignee"):
            values["assignee"] = fields["assignee"]
        if action == "duplicate":
            values["duplicate_of"] = int(fields["duplicate_of"])
        return values


def _principal(who: Principal) -> str:
    return f"key:{who.key_id}"
