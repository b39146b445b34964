"""What evaluation reads: the cases reported in a window, their histories, and names.

Two queries per window whatever its size, never one per case: the cases by
``created_at`` (indexed), and all their events joined to them, in case and
sequence order so a reader can walk them case by case.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, null, select

from gridsvc.store import schema as s

_c = s.cases.c
_e = s.case_events.c
_IN_WINDOW = (_c.created_at >= bindparam("since"), _c.created_at < bindparam("until"))

_CASES = (
    select(
        _c.id,
        _c.created_at,
        _c.status,
        _c.category,
        _c.colour,
        _c.level,
        _c.town_code,
        _c.grid_code,
        _c.unit_code,
        _c.team,
        _c.department,
        _c.group_code,
        _c.reopen_count,
        _c.layer_versions,
    )
    .where(*_IN_WINDOW)
    .order_by(_c.id)
)

#: Only an escalation's data is read (the county bureau it went to): decoding the JSON of
#: every event would be the slowest part of the read.
_ESCALATION_DATA = case((_e.action == "escalate", _e.data), else_=null()).label("data")
_EVENTS = (
    select(_e.case_id, _e.action, _e.from_status, _e.to_status, _e.at, _ESCALATION_DATA)
    .join_from(s.case_events, s.cases, _e.case_id == _c.id)
    .where(*_IN_WINDOW)
    .order_by(_e.case_id, _e.seq)
)


def cases_reported(
    conn: Connection, since: datetime, until: datetime, town: str | None = None
) -> list[dict[str, Any]]:
    """Cases reported in ``[since, until)`` (of one town, given ``town``), by id, with what
    evaluation groups and times by."""
    query = _CASES if town is None else _CASES.where(_c.town_code == town)
    rows = conn.execute(query, {"since": since, "until": until})
    return [dict(r._mapping) for r in rows]


def events_of_cases_reported(
    conn: Connection, since: datetime, until: datetime, town: str | None = None
) -> Iterator[dict[str, Any]]:
    """The events of those cases, ordered by case id and sequence (``data`` of escalations only)."""
    query = _EVENTS if town is None else _EVENTS.where(_c.town_code == town)
    for r in conn.execute(query, {"since": since, "until": until}):
        yield dict(r._mapping)


def feature_names(conn: Connection, kind: str) -> dict[str, tuple[str, str]]:
    """Code → (name, English name) of the published version of a layer kind."""
    v, f = s.layer_versions.c, s.features.c
    rows = conn.execute(
        select(f.code, f.name, f.attrs)
        .join_from(s.features, s.layer_versions, f.version_id == v.id)
        .where(v.kind == kind, v.status == "published")
    )
    return {r.code: (r.name, str((r.attrs or {}).get("name_en") or "")) for r in rows}
