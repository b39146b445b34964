"""Putting a town into the database, and building the running service from it.

``load_demo`` is what ``gridsvc demo load`` and the first ``make run`` do: the
demo town's layers become published versions, the reference tables are
filled from its CSV files and a year of historical reports becomes cases
with their histories, moved to end yesterday (see
:mod:`gridsvc.services.demo_history`). It is idempotent: a database that
already holds a published grid layer is left as it is.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert, text

from gridsvc.core.duplicates import cell_of
from gridsvc.core.errors import NotFound
from gridsvc.core.layers import LayerKind
from gridsvc.core.matching import MATCHED, OUTSIDE, Matcher
from gridsvc.core.messages import Msg
from gridsvc.core.routing import ResponsibilityList
from gridsvc.core.workflow import Status, colour_for
from gridsvc.core.worktime import WorkCalendar
from gridsvc.pointfiles import read_points
from gridsvc.services.case_rows import placement, routed
from gridsvc.services.demo_history import Replay
from gridsvc.services.matching import cell, match_table
from gridsvc.store import matter_lists, reference
from gridsvc.store import schema as s
from gridsvc.town import Town, load_town_file

# reports.csv timestamps after the report, in order; ``accepted_at`` is optional (a file
# without it has the department accept when it reports the handling)
_STEPS = ("dispatched_at", "accepted_at", "handled_at", "closed_at")
# each step's events: (action, status reached, role), in order
_EVENTS: dict[str, tuple[tuple[str, Status, str], ...]] = {
    "dispatched_at": (("dispatch", Status.DISPATCHED, "dispatcher"),),
    "accepted_at": (("accept", Status.ACCEPTED, "handler"),),
    "handled_at": (("handle", Status.HANDLED, "handler"),),
    "closed_at": (
        ("verify", Status.VERIFIED, "dispatcher"),
        ("close", Status.CLOSED, "dispatcher"),
    ),
}


@dataclass(frozen=True)
class Reference:
    """What the running service needs besides the database handle."""

    town: Town
    versions: dict[LayerKind, int]
    matters: ResponsibilityList
    calendar: WorkCalendar
    departments: dict[str, dict[str, Any]]
    list_version: int | None = None  # the published responsibility list

    def version_ids(self) -> dict[str, int]:
        """What a case records it was matched and routed under: layer kinds and the list."""
        return version_ids(self.versions, self.list_version)


def version_ids(layers: dict[LayerKind, int], list_version: int | None) -> dict[str, int]:
    """Layer versions by kind name, plus the responsibility list's under LIST_KIND."""
    ids = {k.value: v for k, v in layers.items()}
    if list_version is not None:
        ids[LIST_KIND] = list_version
    return ids


def active_version_ids(conn: Any) -> dict[str, int]:
    """The versions in force now, as cases record them (cheap: no layer is loaded)."""
    return version_ids(reference.active_versions(conn), matter_lists.active_version(conn))


LIST_KIND = "responsibility_list"  # the key of the list's version among a case's versions


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def is_loaded(engine: Engine) -> bool:
    with engine.connect() as conn:
        return LayerKind.GRIDS in reference.active_versions(conn)


def _demo_name(town: Town) -> str:
    """What was loaded, by its jurisdiction's name: 示范区 (a district) or 示范镇 (a town)."""
    frame = town.layers[LayerKind.JURISDICTION].frame
    return str(frame["name"].iloc[0]) if len(frame) else "town"


def load_demo(
    engine: Engine,
    demo_dir: Path,
    history: bool = True,
    say: Callable[[str], None] = print,
    *,
    today: date | None = None,
) -> bool:
    """Load the demo town once (layers, tables, and the historical reports unless
    ``history`` is false); False when the database already holds a town.

    The history is moved by whole weeks to end the day before ``today``
    (default: today on the town's clock), and what would lie from today on is
    left out, so the last full month always has cases and open cases are recent.
    """
    if is_loaded(engine):  # the common case, without reading the town's file
        say("the database already holds a town; nothing loaded")
        return False
    town = load_town_file(demo_dir / "shifan.gpkg")
    matters = ResponsibilityList.from_records(read_csv(demo_dir / "responsibility_list.csv"))
    count, last = 0, None
    with engine.begin() as conn:
        if not _first_to_load(conn):  # another host's load came first
            say("the database already holds a town; nothing loaded")
            return False
        for kind, layer in town.layers.items():
            reference.publish_layer(conn, layer, label=f"demo {kind.value}")
        _load_reference_tables(conn, demo_dir)
        versions = {k.value: v for k, v in reference.active_versions(conn).items()}
        versions[LIST_KIND] = matter_lists.active_version(conn) or 0
        if history:
            calendar = read_calendar(conn)
            day = today or datetime.now(calendar.tz).date()
            source = History(town.matcher(), matters, versions, calendar, day)
            count, last = source.load(conn, demo_dir / "reports.csv")
            if calendar.days and max(calendar.days) < day + timedelta(days=60):
                say(
                    f"note: holidays.csv lists no day after {max(calendar.days)}; deadlines "
                    "past it count every Monday to Friday as a working day"
                )
    ending = f", the last reported on {last}" if history and last else ""
    say(
        f"loaded the demo {_demo_name(town)}: {len(town.layers)} layers, {len(matters)} matters, "
        f"{count:,} historical cases{ending}"
    )
    return True


#: the advisory lock two loads of a town into one PostgreSQL database take in turn
_LOAD_LOCK = 0x67726964  # "grid"


def _first_to_load(conn: Any) -> bool:
    """Whether this transaction loads the town: none is there, and none can arrive meanwhile.

    Two hosts (or two workers starting on an empty database) loading at once both
    saw no town and both loaded one, or the second failed on a unique constraint.
    Now the second waits for the first to commit, then sees its town: on PostgreSQL
    behind a transaction-scoped advisory lock (read committed: the check after it sees
    the first's commit), on SQLite by taking the write lock before the check.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOAD_LOCK})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # waits (busy_timeout) for another writer
    return LayerKind.GRIDS not in reference.active_versions(conn)


def _load_reference_tables(conn: Any, demo_dir: Path) -> None:
    teams = read_csv(demo_dir / "teams.csv")
    reference.replace_table(
        conn,
        "teams",
        [
            {
                "code": r["code"],
                "name": r["name"],
                "name_en": r["name_en"],
                "staffing": r["staffing"],
            }
            for r in teams
        ],
    )
    departments = read_csv(demo_dir / "departments.csv")
    reference.replace_table(
        conn,
        "departments",
        [
            {
                "code": r["code"],
                "name": r["name"],
                "name_en": r["name_en"],
                "kind": r["kind"],
                "level": r["level"],
                "group_code": r["group"] or None,
            }
            for r in departments
        ],
    )
    groups = read_csv(demo_dir / "groups.csv")
    reference.replace_table(
        conn,
        "working_groups",
        [
            {
                "code": r["code"],
                "name": r["name"],
                "name_en": r["name_en"],
                "lead_department": r["lead_department"],
            }
            for r in groups
        ],
    )
    rows = read_csv(demo_dir / "responsibility_list.csv")
    reference.replace_table(conn, "matters", [{"code": r["code"], "record": r} for r in rows])
    if matter_lists.active_version(conn) is None:
        matter_lists.add_version(conn, rows, "demo", datetime.now(UTC), status="published")
    reference.replace_table(
        conn,
        "holidays",
        [
            {"day": r["date"], "name": r["name"], "is_workday": r["is_workday"] == "1"}
            for r in read_csv(demo_dir / "holidays.csv")
        ],
    )


@dataclass(frozen=True)
class History:
    """Historical reports → cases with their event histories, replayed to end before ``today``."""

    matcher: Matcher
    matters: ResponsibilityList
    versions: dict[str, int]
    calendar: WorkCalendar
    today: date

    def load(self, conn: Any, path: Path) -> tuple[int, date | None]:
        """Insert the cases (vectorised matching, one transaction); their count and the
        local day of the last report."""
        points = read_points(path)
        frame = match_table(self.matcher, points, "crs")
        codes = [m.code for m in self.matters]
        usable = frame[frame["status"].isin([MATCHED, OUTSIDE]) & frame["category"].isin(codes)]
        usable = usable[
            (usable["status"] == MATCHED)
            | usable["category"].map(lambda c: self.matters.get(c).allow_outside)
        ]
        if usable.empty:
            return 0, None
        recorded_last = max(t for v in usable["reported_at"] if (t := _when(v)) is not None)
        replay = Replay.ending_yesterday(
            recorded_last.astimezone(self.calendar.tz).date(), self.today, self.calendar
        )
        first_id = 1 + int(
            conn.execute(
                s.cases.select()
                .with_only_columns(s.cases.c.id)
                .order_by(s.cases.c.id.desc())
                .limit(1)
            ).scalar()
            or 0
        )
        cases: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for row in usable.itertuples(index=False):
            made = self._case(first_id + len(cases), row._asdict(), replay)
            if made is not None:
                cases.append(made[0])
                events.extend(made[1])
        for i in range(0, len(cases), 5000):
            conn.execute(insert(s.cases), cases[i : i + 5000])
        for i in range(0, len(events), 10000):
            conn.execute(insert(s.case_events), events[i : i + 10000])
        last = max((c["created_at"] for c in cases), default=None)
        return len(cases), last.astimezone(self.calendar.tz).date() if last else None

    def _case(
        self, case_id: int, r: dict[str, Any], replay: Replay
    ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """One case and its events; None for a report that lies after the cut."""
        grid = r["grid_code"] if r["status"] == MATCHED else r["nearest_grid_code"]
        matter = self.matters.for_town(self.matcher.town_of(grid)).get(r["category"])
        team = r["team"] if r["status"] == MATCHED else self.matcher.team_of(grid)
        steps = [col for col in _STEPS if col in r]
        moved = replay.times(
            [_when(r["reported_at"]), *(_when(r[col]) for col in steps)], matter.level != "grid"
        )
        reported = moved[0]
        if reported is None:
            return None
        severity = int(r["severity"] or matter.default_severity)
        events = [
            _event(case_id, 1, "report", None, Status.REPORTED, r["reporter"], "patrol", reported)
        ]
        events[0]["note"] = r["description"]
        for column, at in zip(steps, moved[1:], strict=True):
            if at is None:
                break
            for action, target, role in _EVENTS[column]:
                if action == "handle" and events[-1]["to_status"] != Status.ACCEPTED.value:
                    events.append(_step(case_id, events, "accept", Status.ACCEPTED, "handler", at))
                events.append(_step(case_id, events, action, target, role, at))
        status = Status(events[-1]["to_status"])
        last = events[-1]["at"]
        case = {
            "id": case_id,
            "number": f"{reported.year}-{case_id:07d}",
            "status": status.value,
            "status_since": last,
            "version": 1,
            "category": matter.code,
            "description": r["description"],
            "severity": severity,
            "colour": colour_for(severity).value,
            "source": r["source"] or "patrol",
            "reporter": r["reporter"],
            "address": "",
            "client_time": None,
            "created_at": reported,
            "updated_at": last,
            **placement(
                {
                    "lon": r["lon_cgcs2000"],
                    "lat": r["lat_cgcs2000"],
                    **{
                        k: cell(r[k])
                        for k in ("unit_code", "committee_code", "street_id", "street_distance_m")
                    },
                },
                grid,
                team,
                float(r["lon"]),
                float(r["lat"]),
                r["crs"],
            ),
            "town_code": self.matcher.town_of(grid),
            **routed(matter, team),
            # the count of reworks came with the final closure: not closed yet, none counted
            "reopen_count": int(r["reopened"] or 0) if status is Status.CLOSED else 0,
            "cell": cell_of(r["lon_cgcs2000"], r["lat_cgcs2000"]),
            "layer_versions": self.versions,
        }
        return case, events


def _when(value: Any) -> datetime | None:
    if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
        return None
    return datetime.fromisoformat(str(value)).astimezone(UTC)


def _step(
    case_id: int,
    events: list[dict[str, Any]],
    action: str,
    target: Status,
    role: str,
    at: datetime,
) -> dict[str, Any]:
    """The next event of a replayed history, from the status the last one reached."""
    source = Status(events[-1]["to_status"])
    return _event(case_id, len(events) + 1, action, source, target, "history", role, at)


def _event(
    case_id: int,
    seq: int,
    action: str,
    source: Status | None,
    target: Status,
    actor: str,
    role: str,
    at: datetime,
    note: str = "",
) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "seq": seq,
        "action": action,
        "from_status": source.value if source else None,
        "to_status": target.value,
        "actor": actor or "history",
        "role": role,
        "at": at,
        "note": note,
        "data": {},
    }


def read_matters(conn: Any) -> ResponsibilityList:
    """The published responsibility list (without loading any layer)."""
    return ResponsibilityList.from_records(
        [r["record"] for r in reference.read_table(conn, "matters")]
    )


def read_calendar(conn: Any) -> WorkCalendar:
    """The working calendar with the town's holidays."""
    return WorkCalendar(reference.holiday_days(conn))


def load_reference(engine: Engine) -> Reference:
    """The published layers, the responsibility list and the calendar, as the service needs them."""
    with engine.connect() as conn:
        versions = reference.active_versions(conn)
        if LayerKind.GRIDS not in versions:
            raise NotFound(Msg("setup.no_grids"))
        layers = {kind: reference.load_layer(conn, kind, vid) for kind, vid in versions.items()}
        matters = read_matters(conn)
        calendar = read_calendar(conn)
        departments = {r["code"]: r for r in reference.read_table(conn, "departments")}
        list_version = matter_lists.active_version(conn)
    return Reference(Town(layers), versions, matters, calendar, departments, list_version)
