"""Cases, their append-only event log, idempotency keys and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, exists, func, select, update

from gridsvc.core.duplicates import Reported, cell_of, cells_around
from gridsvc.store import schema as s

OPEN_EXCLUDED = ("closed", "duplicate", "cancelled")


# Statements built once: a statement made per call costs more to cache-key than to run.
_INSERT_CASE = s.cases.insert()
_INSERT_EVENT = s.case_events.insert()
_NEXT_SEQ = select(func.coalesce(func.max(s.case_events.c.seq), 0) + 1).where(
    s.case_events.c.case_id == bindparam("case_id")
)
_INSERT_IDEMPOTENCY = s.idempotency_keys.insert()


def insert_cases(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert new cases, ids and numbers given (one statement for a whole group commit)."""
    if rows:
        conn.execute(_INSERT_CASE, [{**r, "cell": cell_of(r["lon"], r["lat"])} for r in rows])


def insert_events(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Append events whose ``case_id`` and ``seq`` are given (one statement for many)."""
    if rows:
        conn.execute(_INSERT_EVENT, rows)


def add_event(conn: Connection, case_id: int, seq: int | None = None, **values: Any) -> int:
    """Append an event to a case's history; ``seq`` counts from 1 per case (pass 1 for a new case)."""
    if seq is None:
        seq = int(conn.execute(_NEXT_SEQ, {"case_id": case_id}).scalar_one())
    conn.execute(_INSERT_EVENT, {"case_id": case_id, "seq": seq, **values})
    return seq


def get_case(conn: Connection, case_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(s.cases).where(s.cases.c.id == case_id)).first()
    return dict(row._mapping) if row else None


def cases_by_id(conn: Connection, case_ids: list[int]) -> list[dict[str, Any]]:
    """The cases with these ids, in the order given (missing ones left out)."""
    rows = conn.execute(select(s.cases).where(s.cases.c.id.in_(case_ids)))
    found = {r.id: dict(r._mapping) for r in rows}
    return [found[i] for i in case_ids if i in found]


def last_event_id(conn: Connection) -> int:
    """The newest event's id: where a live queue starts watching (0 when there is none)."""
    return int(conn.execute(select(func.coalesce(func.max(s.case_events.c.id), 0))).scalar_one())


def cases_changed_since(conn: Connection, after_id: int, limit: int) -> list[tuple[int, int]]:
    """(case id, its newest event id) of the cases with events after ``after_id``, oldest
    change first, at most ``limit``: what a live queue must redraw."""
    e = s.case_events.c
    newest = func.max(e.id)
    query = (
        select(e.case_id, newest)
        .where(e.id > after_id)
        .group_by(e.case_id)
        .order_by(newest)
        .limit(limit)
    )
    return [(int(case_id), int(event_id)) for case_id, event_id in conn.execute(query)]


def case_events(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(s.case_events)
        .where(s.case_events.c.case_id == case_id)
        .order_by(s.case_events.c.seq)
    )
    return [dict(r._mapping) for r in rows]


def update_case(
    conn: Connection, case_id: int, expected_version: int, values: dict[str, Any]
) -> bool:
    """Compare-and-set on the version (the ETag): False when someone else changed the case."""
    result = conn.execute(
        update(s.cases)
        .where(s.cases.c.id == case_id, s.cases.c.version == expected_version)
        .values(version=expected_version + 1, **values)
    )
    return result.rowcount == 1


NEAR_CANDIDATES = 200  # newest candidates read per duplicate search: a hotspot costs no more

_REPORTED = (
    s.cases.c.id,
    s.cases.c.number,
    s.cases.c.category,
    s.cases.c.lon,
    s.cases.c.lat,
    s.cases.c.created_at,
)
_NEAR = (
    select(*_REPORTED)
    .where(
        s.cases.c.category == bindparam("category"),
        s.cases.c.cell.in_(bindparam("cells", expanding=True)),
        s.cases.c.created_at >= bindparam("since"),
        s.cases.c.status.not_in(OPEN_EXCLUDED),
    )
    .order_by(s.cases.c.id.desc())
    .limit(NEAR_CANDIDATES)
)
_REPORTED_SINCE = select(*_REPORTED).where(s.cases.c.created_at >= bindparam("since"))
_REPORTED_AFTER = select(*_REPORTED).where(s.cases.c.id > bindparam("after")).order_by(s.cases.c.id)
_MAX_ID = select(func.max(s.cases.c.id))
_STILL_OPEN = select(s.cases.c.id).where(
    s.cases.c.id.in_(bindparam("ids", expanding=True)), s.cases.c.status.not_in(OPEN_EXCLUDED)
)


def open_cases_near(
    conn: Connection, category: str, lon: float, lat: float, radius_m: float, since: datetime
) -> list[Reported]:
    """Open cases of a category in the cells around a point reported since a time."""
    cells = cells_around(lon, lat, radius_m)
    rows = conn.execute(_NEAR, {"category": category, "cells": cells, "since": since})
    return [Reported(*r) for r in rows]


def reported_after(
    conn: Connection, after_id: int | None, since: datetime
) -> tuple[list[Reported], int]:
    """Cases stored after ``after_id`` (all reported since ``since`` when None), and the top id.

    Keeps an in-memory index of recent cases in step with the table: the first
    call reads the window by time, later ones only the rows added since.
    """
    if after_id is None:
        rows = conn.execute(_REPORTED_SINCE, {"since": since})
        reported = [Reported(*r) for r in rows]
        return reported, int(conn.execute(_MAX_ID).scalar_one() or 0)
    reported = [Reported(*r) for r in conn.execute(_REPORTED_AFTER, {"after": after_id})]
    return reported, (reported[-1].id if reported else after_id)


def others_version(conn: Connection) -> int | None:
    """A number that changes when another connection commits to the database; None if unknown.

    SQLite's ``PRAGMA data_version``: read on the same connection, it is unchanged
    when nobody else wrote in between, so a writer can skip catching up with them.
    """
    if conn.dialect.name != "sqlite":
        return None
    # straight to the driver: through SQLAlchemy's execution it cost as much as the query
    # it saves
    sqlite = conn.connection.driver_connection
    assert sqlite is not None
    ((version,),) = sqlite.execute("PRAGMA data_version").fetchall()  # stepped to its end
    return int(version)


def still_open(conn: Connection, ids: list[int]) -> set[int]:
    """Which of these cases are still open."""
    return set(conn.scalars(_STILL_OPEN, {"ids": ids}))


# ---- idempotency ---------------------------------------------------------------------------


def idempotency_record(conn: Connection, principal: str, key: str) -> dict[str, Any] | None:
    t = s.idempotency_keys
    row = conn.execute(select(t).where(t.c.principal == principal, t.c.key == key)).first()
    return dict(row._mapping) if row else None


def claim_idempotency_key(
    conn: Connection, principal: str, key: str, request_hash: str, now: datetime
) -> dict[str, Any] | None:
    """Claim a key as in flight (returns None) or return the existing row for it."""
    row = idempotency_record(conn, principal, key)
    if row is not None:
        return row
    conn.execute(
        _INSERT_IDEMPOTENCY,
        {
            "principal": principal,
            "key": key,
            "request_hash": request_hash,
            "state": "in-flight",
            "created_at": now,
        },
    )
    return None


def record_idempotency_key(
    conn: Connection,
    principal: str,
    key: str,
    request_hash: str,
    now: datetime,
    status_code: int,
    response: Any,
) -> None:
    """Store the answer for a key, in the same transaction as the work it answers."""
    t = s.idempotency_keys
    conn.execute(
        delete(t).where(t.c.principal == principal, t.c.key == key, t.c.state == "in-flight")
    )
    conn.execute(
        _INSERT_IDEMPOTENCY,
        {
            "principal": principal,
            "key": key,
            "request_hash": request_hash,
            "state": "done",
            "created_at": now,
            "status_code": status_code,
            "response": response,
        },
    )


# ---- queues and search ---------------------------------------------------------------------

SEARCHABLE = (
    "status",
    "town_code",
    "grid_code",
    "unit_code",
    "committee_code",
    "team",
    "department",
    "category",
    "assignee",
    "level",
)


def search_cases(
    conn: Connection, filters: dict[str, Any], before_id: int | None, limit: int
) -> list[dict[str, Any]]:
    """Cases matching stored-field filters, newest first, keyset-paginated by id.

    ``filters`` keys: the SEARCHABLE columns (a value or a list of values),
    ``open_only``, ``bbox`` (minx, miny, maxx, maxy in CGCS2000) and
    ``created_from`` / ``created_to`` (aware datetimes).
    """
    c = s.cases.c
    where = _conditions(filters)
    if before_id is not None:
        where.append(c.id < before_id)
    query = select(s.cases).where(*where).order_by(c.id.desc()).limit(limit)
    return [dict(r._mapping) for r in conn.execute(query)]


def count_cases(conn: Connection, filters: dict[str, Any]) -> int:
    """How many cases the stored-field filters of :func:`search_cases` match."""
    query = select(func.count()).select_from(s.cases).where(*_conditions(filters))
    return int(conn.execute(query).scalar_one())


def case_points(conn: Connection, filters: dict[str, Any]) -> dict[str, list[Any]]:
    """Where and what the matching cases are, as columns (for maps: one query, no ORM rows).

    Same ``filters`` as :func:`search_cases`; columns lon, lat, grid_code,
    unit_code, team, category, status, created_at.
    """
    c = s.cases.c
    columns = (c.lon, c.lat, c.grid_code, c.unit_code, c.team, c.category, c.status, c.created_at)
    rows = conn.execute(select(*columns).where(*_conditions(filters))).all()
    names = [col.name for col in columns]
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


def open_counts_by_grid(conn: Connection, town_code: str | None = None) -> dict[str, int]:
    """Open cases per grid code (of one town's cases, given ``town_code``)."""
    c = s.cases.c
    query = select(c.grid_code, func.count()).where(
        c.status.not_in(OPEN_EXCLUDED), c.grid_code.is_not(None)
    )
    if town_code is not None:
        query = query.where(c.town_code == town_code)
    query = query.group_by(c.grid_code)
    return {code: int(n) for code, n in conn.execute(query)}


def _conditions(filters: dict[str, Any]) -> list[Any]:
    """WHERE terms for the stored-field filters shared by searches and maps."""
    c = s.cases.c
    where = []
    for name in SEARCHABLE:
        value = filters.get(name)
        if value:
            where.append(
                c[name].in_(value) if isinstance(value, (list, tuple)) else c[name] == value
            )
    if filters.get("open_only"):
        where.append(c.status.not_in(OPEN_EXCLUDED))
    if filters.get("bbox"):
        minx, miny, maxx, maxy = filters["bbox"]
        where += [c.lon.between(minx, maxx), c.lat.between(miny, maxy)]
    if filters.get("created_from"):
        where.append(c.created_at >= filters["created_from"])
    if filters.get("created_to"):
        where.append(c.created_at < filters["created_to"])
    if filters.get("reporter_key") is not None:
        where.append(_reported_with(filters["reporter_key"]))
    return where


def _reported_with(key_id: int) -> Any:
    """The case's report event was sent with key ``key_id`` (a patrol's "my reports").

    The key id lives in the report event's JSON data; SQLAlchemy's JSON path
    renders as ``json_extract`` on SQLite and ``->>`` on PostgreSQL.
    """
    e = s.case_events.c
    return exists(
        select(e.id).where(
            e.case_id == s.cases.c.id,
            e.seq == 1,
            e.data["reporter_key"].as_integer() == key_id,
        )
    )


def events_for(conn: Connection, case_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The histories of many cases in one query."""
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in case_ids}
    if not case_ids:
        return out
    t = s.case_events
    rows = conn.execute(select(t).where(t.c.case_id.in_(case_ids)).order_by(t.c.case_id, t.c.seq))
    for r in rows:
        out[r.case_id].append(dict(r._mapping))
    return out


def case_id_by_number(conn: Connection, number: str) -> int | None:
    row = conn.execute(select(s.cases.c.id).where(s.cases.c.number == number)).first()
    return int(row[0]) if row else None


def cases_for_rematch(conn: Connection, since: datetime) -> list[tuple[Any, ...]]:
    """Open cases and every case since a time: what a redraw of the boundaries can move.

    Rows of (id, number, status, lon, lat, grid_code, unit_code, committee_code,
    team, town_code): only what the re-match needs (a million rows go through here on a
    district redraw); publishing reads each moved case again in full.
    """
    c = s.cases.c
    columns = (c.id, c.number, c.status, c.lon, c.lat, c.grid_code, c.unit_code)
    columns += (c.committee_code, c.team, c.town_code)
    query = (
        select(*columns)
        .where((c.status.not_in(OPEN_EXCLUDED)) | (c.created_at >= since))
        .order_by(c.id)
    )
    # plain columns with no type processing: the DB-API rows as they are, without SQLAlchemy's
    # Row objects (a third of the time for a million rows)
    return list(conn.execute(query).cursor.fetchall())


def cases_page(
    conn: Connection,
    bbox: tuple[float, float, float, float] | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
    offset: int,
    town: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Cases as map features: a page (oldest first) and the number matched (of ``town``)."""
    c = s.cases.c
    where = [] if town is None else [c.town_code == town]
    if bbox:
        where += [c.lon.between(bbox[0], bbox[2]), c.lat.between(bbox[1], bbox[3])]
    if start:
        where.append(c.created_at >= start)
    if end:
        where.append(c.created_at <= end)
    matched = conn.execute(select(func.count()).select_from(s.cases).where(*where)).scalar_one()
    columns = (
        c.id,
        c.number,
        c.status,
        c.category,
        c.severity,
        c.colour,
        c.town_code,
        c.grid_code,
        c.unit_code,
        c.team,
        c.department,
        c.level,
        c.created_at,
        c.updated_at,
        c.lon,
        c.lat,
    )
    rows = conn.execute(select(*columns).where(*where).order_by(c.id).limit(limit).offset(offset))
    return [dict(r._mapping) for r in rows], int(matched)
