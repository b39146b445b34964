"""What evaluation reads: the cases reported in a window, their histories, and names.

Two queries per window whatever its size, never one per case: the cases by
``created_at`` (indexed), and all their events joined to them, in case and
sequence order so a reader can walk them case by case.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    Select,
    String,
    Text,
    bindparam,
    case,
    cast,
    null,
    select,
    type_coerce,
)

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


#: The cases as columns: what evaluation groups by, and the list version's JSON as text
#: (a handful of distinct values, each decoded once, not once a case).
CASE_COLUMNS = (
    "id", "category", "colour", "level", "town_code", "grid_code", "unit_code", "team",
    "department", "group_code", "reopen_count", "layer_versions",
)  # fmt: skip
_CASE_COLUMNS = (
    select(
        *(cast(_c.layer_versions, Text) if n == "layer_versions" else _c[n] for n in CASE_COLUMNS)
    )
    .where(*_IN_WINDOW)
    .order_by(_c.id)
)
#: The events as columns; times as the database keeps them (SQLite: text), read at once.
EVENT_COLUMNS = ("case_id", "action", "from_status", "to_status", "at", "data")
_EVENT_COLUMNS = (
    select(
        _e.case_id,
        _e.action,
        _e.from_status,
        _e.to_status,
        type_coerce(_e.at, String),
        _ESCALATION_DATA,
    )  # fmt: skip
    .join_from(s.case_events, s.cases, _e.case_id == _c.id)
    .where(*_IN_WINDOW)
    .order_by(_e.case_id, _e.seq)
)


def case_columns(
    conn: Connection, since: datetime, until: datetime, town: str | None = None
) -> pd.DataFrame:
    """:func:`cases_reported` as columns (text as Python objects, ``layer_versions`` its
    JSON text): one query, no dict a case."""
    query = _CASE_COLUMNS if town is None else _CASE_COLUMNS.where(_c.town_code == town)
    columns = _columns(conn, query, {"since": since, "until": until}, len(CASE_COLUMNS))
    frame = {name: _objects(values) for name, values in zip(CASE_COLUMNS, columns, strict=True)}
    for name in ("id", "reopen_count"):
        frame[name] = frame[name].astype("int64")
    return pd.DataFrame(frame)


def event_columns(
    conn: Connection, since: datetime, until: datetime, town: str | None = None
) -> pd.DataFrame:
    """:func:`events_of_cases_reported` as columns, in case and sequence order: ``at`` in
    microseconds since the epoch (UTC), ``department`` the one an escalation names."""
    query = _EVENT_COLUMNS if town is None else _EVENT_COLUMNS.where(_c.town_code == town)
    columns = _columns(conn, query, {"since": since, "until": until}, len(EVENT_COLUMNS))
    case_id, action, from_status, to_status, at, data = columns
    return pd.DataFrame(
        {
            "case_id": np.asarray(case_id, dtype="int64"),
            "action": _objects(action),
            "from_status": _objects(from_status),
            "to_status": _objects(to_status),
            "at": _micros(list(at)),
            "department": _objects([_department(d) for d in data]),
        }
    )


def _columns(conn: Connection, query: Select[Any], params: dict[str, Any], n: int) -> list[Any]:
    """The rows of ``query`` as ``n`` columns, straight from the driver's cursor.

    A month of a district's events is a million values: SQLAlchemy's rows (and the
    cyclic garbage collector, walking the heap every few hundred new tuples, none of
    which can hold a cycle) cost more than reading them, so neither is involved.
    """
    result = conn.execute(query, params)
    enabled = gc.isenabled()
    gc.disable()
    try:
        rows = result.cursor.fetchall() if result.cursor is not None else []
        return list(zip(*rows, strict=True)) if rows else [()] * n
    finally:
        result.close()
        if enabled:
            gc.enable()


def _objects(values: Sequence[Any]) -> pd.Series:
    """Text as Python objects (pandas would make them its own strings, NaN for None)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return pd.Series(array, dtype=object, copy=False)


def _department(data: Any) -> Any:
    """The department an escalation's data names (the driver may give the JSON as text)."""
    if data is None:
        return None
    if isinstance(data, str | bytes):
        data = json.loads(data)
    return (data or {}).get("department")


def _micros(values: list[Any]) -> np.ndarray:
    """Stored times as µs since the epoch: SQLite's UTC text parsed at once, or the aware
    datetimes a server gives."""
    if values and isinstance(values[0], str):
        try:
            return np.array(values, dtype="datetime64[us]").astype("int64")
        except ValueError:  # another spelling of the time: let pandas read it
            pass
    texts = bool(values) and isinstance(values[0], str)
    stamps = pd.to_datetime(
        pd.Series(values, dtype=object), utc=True, format="ISO8601" if texts else None
    )
    return stamps.dt.as_unit("us").astype("int64").to_numpy()


def feature_names(conn: Connection, kind: str) -> dict[str, tuple[str, str]]:
    """Code → (name, English name) of the published version of a layer kind."""
    v, f = s.layer_versions.c, s.features.c
    rows = conn.execute(
        select(f.code, f.name, f.attrs)
        .join_from(s.features, s.layer_versions, f.version_id == v.id)
        .where(v.kind == kind, v.status == "published")
    )
    return {r.code: (r.name, str((r.attrs or {}).get("name_en") or "")) for r in rows}
