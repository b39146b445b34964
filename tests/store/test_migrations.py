"""The migrations build exactly the schema the code declares (tables, columns, indexes),
on SQLite and on PostgreSQL, where 0007 adds the PostGIS columns as well."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text

from gridsvc.store import schema
from gridsvc.store.engine import alembic_config, make_engine, upgrade

#: what migration 0007 adds on PostgreSQL beside the declared schema
POSTGIS_INDEXES = {"cases": {"ix_cases_location": ("location",)},
                   "features": {"ix_features_geom": ("geom",)}}  # fmt: skip
pytestmark = pytest.mark.filterwarnings("ignore:Did not recognize type 'geometry'")  # PostGIS
POSTGIS_OWN_TABLES = {"spatial_ref_sys"}  # the extension's, in the public schema


def test_upgrade_builds_the_declared_schema(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    db = inspect(engine)
    postgresql = engine.dialect.name == "postgresql"
    declared = schema.metadata.tables
    ours = set(db.get_table_names()) - {"alembic_version"}
    assert ours - (POSTGIS_OWN_TABLES if postgresql else set()) == set(declared)
    for name, table in declared.items():
        columns = {c.name for c in table.columns}
        indexes = {i.name: tuple(c.name for c in i.columns) for i in table.indexes}
        if postgresql and name in schema.POSTGIS_COLUMNS:
            columns.add(schema.POSTGIS_COLUMNS[name][0])
            indexes |= POSTGIS_INDEXES[name]
        assert {c["name"] for c in db.get_columns(name)} == columns, name
        found = {
            i["name"]: tuple(i["column_names"])
            for i in db.get_indexes(name)
            if "duplicates_constraint" not in i  # PostgreSQL's index behind a UNIQUE constraint
        }
        assert found == indexes, name
    engine.dispose()


def test_json_is_jsonb_and_times_are_timestamptz_on_postgresql(pg_url: str) -> None:
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        types = {
            (table, column): kind
            for table, column, kind in conn.execute(
                text(
                    "SELECT table_name, column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'public'"
                )
            )
        }
    engine.dispose()
    assert types[("cases", "cooperating")] == "jsonb"
    assert types[("case_events", "data")] == "jsonb"
    assert types[("matter_list_rows", "record")] == "jsonb"
    assert types[("cases", "created_at")] == "timestamp with time zone"
    assert types[("matter_lists", "published_at")] == "timestamp with time zone"


def test_upgrade_twice_changes_nothing(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    before = inspect(engine).get_indexes("cases")
    upgrade(db_url)
    assert inspect(engine).get_indexes("cases") == before
    engine.dispose()


def test_downgrade_to_the_first_revision_and_back(db_url: str) -> None:
    """0007's downgrade removes what its upgrade added (PostGIS columns, triggers, view)."""
    upgrade(db_url)
    command.downgrade(alembic_config(db_url), "0006")
    upgrade(db_url)
    engine = make_engine(db_url)
    names = {c["name"] for c in inspect(engine).get_columns("cases")}
    engine.dispose()
    assert ("location" in names) == (engine.dialect.name == "postgresql")
