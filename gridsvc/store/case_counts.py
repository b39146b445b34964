"""Case counts for the hotspot map, aggregated where the cases are: in the database.

Reading 10 M case rows into Python to count them per grid costs a minute and
gigabytes; the database groups them in a few seconds and sends a few hundred
thousand rows. Every query takes the filters of :func:`gridsvc.store.cases.search_cases`
(town scoping included) and is the same SQLAlchemy Core on SQLite and
PostgreSQL; only the period and bin expressions differ by dialect.

Periods are China Standard Time (UTC+8 all year), as in
:func:`gridsvc.core.hotspots.period_labels`: ``2026-05`` by month, a week by
the local date of its Monday (``2026-05-04``), which the caller labels as an
ISO week.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Integer, cast, func, literal, select, tablesample
from sqlalchemy.sql.util import ClauseAdapter

from gridsvc.store import schema as s
from gridsvc.store.cases import _conditions

LOCAL_ZONE = "Asia/Shanghai"


def _period(conn: Connection, freq: str) -> Any:
    """The local month (``YYYY-MM``) or the local date of the week's Monday, as text on
    SQLite; on PostgreSQL the local timestamp of the period's start (``date_trunc``, a third
    faster than ``to_char`` on every row), formatted once per period by :func:`_labels`."""
    at = s.cases.c.created_at
    if conn.dialect.name == "postgresql":
        return func.date_trunc(freq, func.timezone(LOCAL_ZONE, at))
    # SQLite keeps UTC as text (``2026-05-04 03:04:05.678901``); its date functions read it
    if freq == "month":
        return func.strftime("%Y-%m", at, "+8 hours")
    # 'weekday 0' moves to the next Sunday (or stays on one): six days back is the Monday
    return func.date(at, "+8 hours", "weekday 0", "-6 days")


def grid_period_counts(
    conn: Connection, filters: dict[str, Any], freq: str
) -> list[tuple[str | None, str, int]]:
    """(grid code, period, cases) for the matching cases; a None grid for cases outside grids."""
    c = s.cases.c
    period = _period(conn, freq).label("period")
    grid: Any = c.grid_code
    if conn.dialect.name == "sqlite":
        # grouped by the bare column, SQLite walks ix_cases_grid and fetches each row by
        # its id in grid order (9 s at 1 M cases); by an expression it scans the table and
        # sorts (3 s)
        grid = (c.grid_code + literal("")).label("grid")
    query = select(grid, period, func.count()).where(*_conditions(filters)).group_by(grid, period)
    rows = conn.execute(query).all()
    labels = _labels({row[1] for row in rows}, freq)
    return [(row[0], labels[row[1]], row[2]) for row in rows]


def _labels(starts: set[Any], freq: str) -> dict[Any, str]:
    """Each period key as the text SQLite's expression gives (``2026-05``, ``2026-05-04``)."""
    fmt = "%Y-%m" if freq == "month" else "%Y-%m-%d"
    return {key: key if isinstance(key, str) else key.strftime(fmt) for key in starts}


def category_counts(conn: Connection, filters: dict[str, Any]) -> dict[str, int]:
    """Matching cases per category."""
    c = s.cases.c
    query = select(c.category, func.count()).where(*_conditions(filters)).group_by(c.category)
    return {str(code): int(n) for code, n in conn.execute(query)}


def point_bins(
    conn: Connection, filters: dict[str, Any], dx: float, dy: float, sample: float = 1.0
) -> tuple[list[float], list[float], list[int]]:
    """The matching cases binned on a ``dx`` × ``dy`` degree lattice from 0°, 0°.

    One row per occupied bin: the mean lon and lat of its cases and their
    number, so the heat layer keeps every case's weight without the points.
    Lon and lat are positive in China, so truncation is the floor on SQLite
    (which has no ``floor`` without its math extension).

    ``sample`` below 1 reads about that share of the cases only: PostgreSQL's
    ``TABLESAMPLE SYSTEM`` (whole pages, so the rest of the table is not
    read at all; repeatable), on SQLite every k-th case id. Counts are then
    of the sample; the caller scales them.
    """
    table: Any = s.cases
    where = _conditions(filters)
    if sample < 1.0 and conn.dialect.name == "postgresql":
        table = tablesample(s.cases, func.system(100.0 * sample), name="sampled", seed=literal(0))
        adapter = ClauseAdapter(table)
        where = [adapter.traverse(term) for term in where]
    elif sample < 1.0:
        where = [*where, s.cases.c.id % max(1, round(1 / sample)) == 0]
    c = table.c
    ix: Any
    iy: Any
    if conn.dialect.name == "postgresql":
        ix, iy = func.floor(c.lon / dx), func.floor(c.lat / dy)
    else:
        ix, iy = cast(c.lon / dx, Integer), cast(c.lat / dy, Integer)
    ix, iy = ix.label("ix"), iy.label("iy")
    query = (
        select(func.avg(c.lon), func.avg(c.lat), func.count(), ix, iy)
        .select_from(table)
        .where(*where)
        .group_by(ix, iy)
    )
    rows = conn.execute(query).all()
    if not rows:
        return [], [], []
    lon, lat, n, _, _ = zip(*rows, strict=True)
    return list(lon), list(lat), list(n)


def case_lonlat(conn: Connection, filters: dict[str, Any]) -> tuple[list[float], list[float]]:
    """Every matching case's point (for the cell view: cases do not store their cell)."""
    c = s.cases.c
    rows = conn.execute(select(c.lon, c.lat).where(*_conditions(filters))).all()
    return [r[0] for r in rows], [r[1] for r in rows]
