"""The migrations build exactly the schema the code declares (tables, columns, indexes)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from gridsvc.store import schema
from gridsvc.store.engine import make_engine, upgrade


def test_upgrade_builds_the_declared_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    db = inspect(make_engine(url))
    declared = schema.metadata.tables
    assert set(db.get_table_names()) - {"alembic_version"} == set(declared)
    for name, table in declared.items():
        assert {c["name"] for c in db.get_columns(name)} == {c.name for c in table.columns}, name
        indexes = {i["name"]: tuple(i["column_names"]) for i in db.get_indexes(name)}
        wanted = {i.name: tuple(c.name for c in i.columns) for i in table.indexes}
        assert indexes == wanted, name


def test_upgrade_twice_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    before = inspect(make_engine(url)).get_indexes("cases")
    upgrade(url)
    assert inspect(make_engine(url)).get_indexes("cases") == before
