"""A town's case page reads its last entries of an index, not the whole town sorted.

``search_cases`` for a town is ``WHERE town_code = ? [AND id < ?] ORDER BY id DESC
LIMIT n``. On ``(town_code, created_at)`` alone SQLite (and PostgreSQL) read every case
of the town and sorted them for each page: 45,000 rows a page for a town of a 10 M-case
city (benchmarks/bench_district.py). Migration 0013 adds ``(town_code, id)``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event

from gridsvc.store.cases import search_cases
from gridsvc.store.engine import make_engine, upgrade


@pytest.mark.parametrize("cursor", [None, 1_000])
def test_a_town_page_uses_the_town_id_index_without_a_sort(
    tmp_path: Path, cursor: int | None
) -> None:
    url = f"sqlite:///{tmp_path / 'pages.db'}"
    upgrade(url)
    engine = make_engine(url)
    statements: list[tuple[str, object]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def seen(conn, cursor_, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append((statement, parameters))

    with engine.connect() as conn:
        search_cases(conn, {"town_code": "310106113"}, cursor, 50)
        statement, parameters = statements[-1]
        plan = " | ".join(
            str(row[-1])
            for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        )
    assert "ix_cases_town_id" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # was: SEARCH … ix_cases_town_created, TEMP B-TREE
