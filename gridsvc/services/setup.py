"""Putting a town into the database, and building the running service from it.

``load_demo`` is what ``gridsvc demo load`` and the first ``make run`` do: the
demo town's layers become published versions, the reference tables are
filled from its CSV files and a year of historical reports becomes cases
with their histories. It is idempotent: a database that already holds a
published grid layer is left as it is.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert

from gridsvc.core.duplicates import cell_of
from gridsvc.core.errors import NotFound
from gridsvc.core.layers import LayerKind
from gridsvc.core.matching import MATCHED, OUTSIDE, Matcher
from gridsvc.core.routing import ResponsibilityList
from gridsvc.core.workflow import Status, colour_for
from gridsvc.core.worktime import WorkCalendar
from gridsvc.pointfiles import read_points
from gridsvc.services.cases import placement, routed
from gridsvc.services.matching import cell, match_table
from gridsvc.store import matter_lists, reference
from gridsvc.store import schema as s
from gridsvc.town import Town, load_town_file

# reports.csv timestamps → the status each one reached
_TIMELINE = (
    ("dispatched_at", "dispatch", Status.DISPATCHED),
    ("handled_at", "handle", Status.HANDLED),
    ("closed_at", "close", Status.CLOSED),
)


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


def load_demo(
    engine: Engine, demo_dir: Path, history: bool = True, say: Callable[[str], None] = print
) -> bool:
    """Load the demo town once (layers, tables, and the historical reports unless
    ``history`` is false); False when the database already holds a town."""
    if is_loaded(engine):
        say("the database already holds a town; nothing loaded")
        return False
    town = load_town_file(demo_dir / "shifan.gpkg")
    matters = ResponsibilityList.from_records(read_csv(demo_dir / "responsibility_list.csv"))
    count = 0
    with engine.begin() as conn:
        for kind, layer in town.layers.items():
            reference.publish_layer(conn, layer, label=f"demo {kind.value}")
        _load_reference_tables(conn, demo_dir)
        versions = {k.value: v for k, v in reference.active_versions(conn).items()}
        versions[LIST_KIND] = matter_lists.active_version(conn) or 0
        if history:
            count = _load_history(conn, town.matcher(), matters, versions, demo_dir / "reports.csv")
    say(
        f"loaded the demo town: {len(town.layers)} layers, {len(matters)} matters, {count:,} historical cases"
    )
    return True


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


def _load_history(
    conn: Any, matcher: Matcher, matters: ResponsibilityList, versions: dict[str, int], path: Path
) -> int:
    """Historical reports → cases with their event histories (vectorised matching, one transaction)."""
    points = read_points(path)
    frame = match_table(matcher, points, "crs")
    usable = frame[
        frame["status"].isin([MATCHED, OUTSIDE]) & frame["category"].isin([m.code for m in matters])
    ]
    usable = usable[
        (usable["status"] == MATCHED)
        | usable["category"].map(lambda c: matters.get(c).allow_outside)
    ]
    cases, events = [], []
    first_id = 1 + int(
        conn.execute(
            s.cases.select().with_only_columns(s.cases.c.id).order_by(s.cases.c.id.desc()).limit(1)
        ).scalar()
        or 0
    )
    for offset, row in enumerate(usable.itertuples(index=False)):
        case_id = first_id + offset
        case, history = _historical_case(case_id, row._asdict(), matters, versions, matcher)
        cases.append(case)
        events.extend(history)
    for i in range(0, len(cases), 5000):
        conn.execute(insert(s.cases), cases[i : i + 5000])
    for i in range(0, len(events), 10000):
        conn.execute(insert(s.case_events), events[i : i + 10000])
    return len(cases)


def _when(value: Any) -> datetime | None:
    if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
        return None
    return datetime.fromisoformat(str(value)).astimezone(UTC)


def _historical_case(
    case_id: int,
    r: dict[str, Any],
    matters: ResponsibilityList,
    versions: dict[str, int],
    matcher: Matcher,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    matter = matters.get(r["category"])
    grid = r["grid_code"] if r["status"] == MATCHED else r["nearest_grid_code"]
    team = r["team"] if r["status"] == MATCHED else matcher.team_of(grid)
    reported = _when(r["reported_at"])
    assert reported is not None
    severity = int(r["severity"] or matter.default_severity)
    events = [
        _event(
            case_id,
            1,
            "report",
            None,
            Status.REPORTED,
            r["reporter"],
            "patrol",
            reported,
            r["description"],
        )
    ]
    status = Status.REPORTED
    for column, action, target in _TIMELINE:
        at = _when(r[column])
        if at is None:
            break
        if target == Status.CLOSED:
            events.append(
                _event(
                    case_id,
                    len(events) + 1,
                    "verify",
                    status,
                    Status.VERIFIED,
                    "history",
                    "dispatcher",
                    at,
                )
            )
            status = Status.VERIFIED
        elif target == Status.HANDLED:
            events.append(
                _event(
                    case_id,
                    len(events) + 1,
                    "accept",
                    status,
                    Status.ACCEPTED,
                    "history",
                    "handler",
                    at,
                )
            )
            status = Status.ACCEPTED
        events.append(
            _event(
                case_id,
                len(events) + 1,
                action,
                status,
                target,
                "history",
                "dispatcher" if action != "handle" else "handler",
                at,
            )
        )
        status = target
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
        **routed(matter, team),
        "reopen_count": int(r["reopened"] or 0),
        "cell": cell_of(r["lon_cgcs2000"], r["lat_cgcs2000"]),
        "layer_versions": versions,
    }
    return case, events


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
            raise NotFound("the database holds no published grid layer; run `gridsvc demo load`")
        layers = {kind: reference.load_layer(conn, kind, vid) for kind, vid in versions.items()}
        matters = read_matters(conn)
        calendar = read_calendar(conn)
        departments = {r["code"]: r for r in reference.read_table(conn, "departments")}
        list_version = matter_lists.active_version(conn)
    return Reference(Town(layers), versions, matters, calendar, departments, list_version)
