"""What a redraw's impact reads: the cases counted by place, and the cases of a few places.

A district's million cases in one read take seconds (a Python object per value);
counted by place in the database they are some twenty thousand rows, and only the
cases of the places a redraw touches are read one by one (services/impact.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, func, or_, select

from gridsvc.store import schema as s
from gridsvc.store.cases import OPEN_EXCLUDED

#: the columns of a case the re-match reads, in this order
REMATCH_COLUMNS = (
    "id",
    "number",
    "status",
    "lon",
    "lat",
    "grid_code",
    "unit_code",
    "committee_code",
    "team",
    "town_code",
)
IN_CHUNK = 500  # codes per IN list: well under every driver's parameter limit


def _window(since: datetime, town: str | None) -> list[ColumnElement[bool]]:
    """Open cases and every case since ``since`` (of ``town``): what a redraw can move."""
    c = s.cases.c
    where = [or_(c.status.not_in(OPEN_EXCLUDED), c.created_at >= since)]
    if town is not None:
        where.append(c.town_code == town)
    return where


def place_counts(
    conn: Connection, since: datetime, columns: Sequence[str], town: str | None = None
) -> list[tuple[Any, ...]]:
    """Rows of (*columns, open, count): the window's cases counted by those place columns
    and by whether they are open."""
    c = s.cases.c
    is_open = case((c.status.not_in(OPEN_EXCLUDED), 1), else_=0)
    keys: list[ColumnElement[Any]] = [c[name] for name in columns]
    if keys:
        # SQLite would walk ix_cases_grid for the grouping and fetch every row by its id
        # (5 s for a million); an expression on the first key makes it scan and sort (0.5 s)
        keys[0] = keys[0].concat("").label(columns[0])
    query = select(*keys, is_open.label("open"), func.count()).where(*_window(since, town))
    return list(conn.execute(query.group_by(*keys, is_open)).cursor.fetchall())


def cases_at(
    conn: Connection,
    since: datetime,
    field: str | None,
    codes: Sequence[str],
    with_null: bool,
    town: str | None = None,
) -> list[tuple[Any, ...]]:
    """The window's cases (``REMATCH_COLUMNS``) whose ``field`` is one of ``codes`` (or
    empty, ``with_null``), by id; every case of the window when ``field`` is None."""
    c = s.cases.c
    columns = [c[name] for name in REMATCH_COLUMNS]
    window = _window(since, town)
    if field is None:
        return list(conn.execute(select(*columns).where(*window).order_by(c.id)).cursor.fetchall())
    parts: list[list[ColumnElement[bool]]] = [
        [c[field].in_(list(codes[i : i + IN_CHUNK]))] for i in range(0, len(codes), IN_CHUNK)
    ]
    if with_null:
        parts.append([c[field].is_(None)])
    rows: list[tuple[Any, ...]] = []
    for where in parts:
        # plain DB-API rows, as cases_for_rematch: no Row objects for a hundred thousand cases
        rows += conn.execute(select(*columns).where(*window, *where)).cursor.fetchall()
    rows.sort(key=lambda r: r[0])
    return rows
