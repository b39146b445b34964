"""A publish's reassignments: the open cases a redraw moves, each with a ``reassign`` event.

A city redraw moves some seventy thousand cases. SQLAlchemy's executemany builds
and converts each row's parameters in Python (some 30 µs a row, half the write);
here each statement is compiled once and its rows go to the driver's executemany
with the columns' own converters applied (``store/driver.py``), so SQLite and PostgreSQL store exactly
what the SQLAlchemy statement would. All of it runs in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.sql import Executable

from gridsvc.store import schema as s
from gridsvc.store.driver import DriverStatement

CHUNK = 5000  # cases written per round: bounded memory
PLACES = ("grid_code", "unit_code", "committee_code", "team", "town_code")


def _statements(dialect: str, kind: str, version: int) -> tuple[Executable, Executable]:
    """The update of a case and the insert of its event, one row of parameters per case.

    Set-based on the row itself: the assignee rule, the layer version added to
    ``layer_versions``, the event's status and next seq are read by the statement in
    the database, so nothing is read back into Python first.
    """
    c, e = s.cases.c, s.case_events.c
    if not kind.isidentifier():  # a LayerKind value, written into the SQL below
        raise ValueError(kind)
    versions: ColumnElement[Any]
    if dialect == "postgresql":
        versions = c.layer_versions.op("||")(
            literal_column(f"jsonb_build_object('{kind}', {int(version)})")
        )
    else:
        versions = func.json_set(c.layer_versions, f"$.{kind}", int(version))

    def typed(name: str, type_: Any) -> ColumnElement[Any]:
        """A parameter PostgreSQL is told the type of (in a select list it would guess
        text); SQLite's CAST would turn a timestamp's text into a number, so none there."""
        bind = bindparam(name, type_=type_)
        return cast(bind, type_) if dialect == "postgresql" else bind

    case_id = typed("case_id", s.Id)
    held_by_old_team = c.assignee.is_not_distinct_from(bindparam("from_team", type_=String))
    update_case = (
        update(s.cases)
        .where(c.id == case_id)
        .values(
            version=c.version + 1,
            **{k: bindparam(k, type_=String) for k in PLACES},
            assignee=case((held_by_old_team, bindparam("team")), else_=c.assignee),
            layer_versions=versions,
            updated_at=bindparam("now", type_=s.UTCDateTime),
        )
    )
    next_seq = (
        select(func.coalesce(func.max(e.seq), 0) + 1).where(e.case_id == case_id).scalar_subquery()
    )
    event = select(
        case_id,
        next_seq,
        literal("reassign", String),
        c.status,
        c.status,
        literal("planning", String),
        literal("planner", String),
        typed("now", s.UTCDateTime),
        literal(f"{kind} version {version} published", String),
        typed("data", s.Json),
    ).where(c.id == case_id)
    columns = ["case_id", "seq", "action", "from_status", "to_status", "actor", "role"]
    columns += ["at", "note", "data"]
    insert_event = insert(s.case_events).from_select(columns, event)
    return update_case, insert_event


def reassign_cases(
    conn: Connection, moves: list[dict[str, Any]], kind: str, version: int, now: datetime
) -> int:
    """Move open cases to their new place after a publish, each with a ``reassign`` event.

    ``moves`` are the impact preview's entries (``id``, ``from``, ``to``). A case keeps
    its assignee unless the team that held it is the one that changed; its
    ``layer_versions`` gains ``kind: version``; its version (ETag) goes up by one. Two
    executemany statements per chunk, in the caller's transaction. Returns how many
    cases were updated.
    """
    update_case, insert_event = map(DriverStatement, _statements(conn.dialect.name, kind, version))
    updated = 0
    for start in range(0, len(moves), CHUNK):
        chunk = moves[start : start + CHUNK]
        updated += update_case.executemany(
            conn,
            [
                {"case_id": m["id"], **m["to"], "from_team": m["from"]["team"], "now": now}
                for m in chunk
            ],
        )
        insert_event.executemany(
            conn,
            [
                {
                    "case_id": m["id"],
                    "now": now,
                    "data": {"from": m["from"], "to": m["to"], "version": version},
                }
                for m in chunk
            ],
        )
    return updated
