"""The database schema (SQLAlchemy Core). Migrations in ``migrations/`` create it.

Portable SQL only: SQLite is the embedded default, PostgreSQL 15 + PostGIS 3
runs the same tables (JSON as ``jsonb``, times as ``timestamptz``). Geometry is
stored as WKB next to plain coordinates; spatial questions go to the core's
in-memory index, which is rebuilt from these rows at start. Times are stored in UTC.

On PostgreSQL, migration 0007 adds PostGIS columns the code never reads or
writes (:data:`POSTGIS_COLUMNS`), kept by triggers from lon/lat and the WKB, so
QGIS and an analyst's ``ST_Within`` can use the tables directly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

#: JSON documents: ``jsonb`` on PostgreSQL (indexable, compared by value), JSON text on SQLite
Json = JSON().with_variant(JSONB(), "postgresql")
#: ids (and the case ETag) are 64-bit on PostgreSQL (migration 0009): the API takes any id
#: up to 2^63 - 1, and an int4 column made PostgreSQL refuse the lookup of a larger one
#: instead of finding nothing; SQLite's INTEGER PRIMARY KEY is 64-bit already
Id = BigInteger().with_variant(Integer(), "sqlite")

#: table → (PostGIS column, its type) that migration 0007 adds on PostgreSQL only
POSTGIS_COLUMNS = {
    "cases": ("location", "geometry(Point, 4490)"),
    "features": ("geom", "geometry(Geometry, 4490)"),
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

layer_versions = Table(
    "layer_versions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("label", String(200), nullable=False),
    Column("status", String(12), nullable=False),  # draft, published, retired
    Column("created_at", UTCDateTime, nullable=False),
    Column("published_at", UTCDateTime),
    Column("retired_at", UTCDateTime),
    Column("town_code", String(40)),  # a town planner's redraw of its own town (0012)
    Column("based_on", Id),  # the active version a town's draft was spliced onto (0012)
    Index("ix_layer_versions_kind_status", "kind", "status"),
)

features = Table(
    "features",
    metadata,
    Column("id", Id, primary_key=True),
    Column("version_id", Id, ForeignKey("layer_versions.id"), nullable=False),
    Column("code", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("parent_code", String(40), nullable=False, default=""),
    Column("attrs", Json, nullable=False, default=dict),
    Column("geom_wkb", LargeBinary, nullable=False),
    UniqueConstraint("version_id", "code", name="uq_features_version_code"),
)

teams = Table(
    "teams",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_en", String(200), nullable=False, default=""),
    Column("staffing", Text, nullable=False, default=""),
)

departments = Table(
    "departments",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_en", String(200), nullable=False, default=""),
    Column("kind", String(20), nullable=False),
    Column("level", String(10), nullable=False),
    Column("group_code", String(40)),
)

working_groups = Table(
    "working_groups",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_en", String(200), nullable=False, default=""),
    Column("lead_department", String(40), nullable=False),
)

matters = Table(
    "matters",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("record", Json, nullable=False),  # the responsibility-list row as loaded
)

matter_lists = Table(
    "matter_lists",
    metadata,
    Column("id", Id, primary_key=True),
    Column("label", String(200), nullable=False),
    Column("status", String(12), nullable=False),  # draft, published, retired
    Column("created_at", UTCDateTime, nullable=False),
    Column("published_at", UTCDateTime),
    Column("retired_at", UTCDateTime),
    # at most one published list: routing reads one, and two made the service refuse to start
    Index(
        "uq_matter_lists_one_published",
        "status",
        unique=True,
        sqlite_where=text("status = 'published'"),
        postgresql_where=text("status = 'published'"),
    ),
)
matter_list_rows = Table(
    "matter_list_rows",
    metadata,
    Column("id", Id, primary_key=True),
    Column("version_id", Id, ForeignKey("matter_lists.id"), nullable=False),
    Column("code", String(40), nullable=False),
    Column("record", Json, nullable=False),
    UniqueConstraint("version_id", "code", name="uq_matter_list_rows_version_code"),
)
holidays = Table(
    "holidays",
    metadata,
    Column("day", String(10), primary_key=True),  # ISO date
    Column("name", String(100), nullable=False, default=""),
    Column("is_workday", Boolean, nullable=False),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Id, primary_key=True),
    Column("number", String(40), nullable=False, unique=True),
    Column("status", String(20), nullable=False),
    Column("status_since", UTCDateTime, nullable=False),
    Column("version", Id, nullable=False, default=1),  # the ETag
    Column("category", String(40), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("severity", Integer, nullable=False),
    Column("colour", String(10), nullable=False),  # colour at intake; supervision climbs from it
    Column("source", String(20), nullable=False, default="patrol"),
    Column("reporter", String(100), nullable=False, default=""),
    Column("address", Text, nullable=False, default=""),
    Column("client_time", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("lon", Float, nullable=False),  # CGCS2000
    Column("lat", Float, nullable=False),
    Column("raw_lon", Float, nullable=False),  # as sent, in raw_crs
    Column("raw_lat", Float, nullable=False),
    Column("raw_crs", String(20), nullable=False),
    Column("geom_wkb", LargeBinary, nullable=False),
    Column("town_code", String(40)),  # the town (街镇) whose territory covers the point (0010)
    Column("grid_code", String(40)),
    Column("unit_code", String(40)),
    Column("committee_code", String(40)),
    Column("street_id", String(40)),
    Column("street_distance_m", Float),
    Column("team", String(40)),
    Column("level", String(10), nullable=False),
    Column("department", String(40), nullable=False),  # primary responsible department
    Column("cooperating", Json, nullable=False, default=list),
    Column("group_code", String(40)),
    Column("assignee", String(40)),  # team or department currently holding the case
    Column("duplicate_of", Id, ForeignKey("cases.id")),
    Column("reopen_count", Integer, nullable=False, default=0),
    Column("layer_versions", Json, nullable=False, default=dict),  # kind → version id matched under
    Column("cell", BigInteger),  # duplicate search: ~100 m cell, core.duplicates.cell_of
    Index("ix_cases_status", "status"),
    Index("ix_cases_category_cell_created", "category", "cell", "created_at"),
    Index("ix_cases_grid", "grid_code"),
    Index("ix_cases_category_created", "category", "created_at"),
    Index("ix_cases_created", "created_at"),  # evaluation reads cases by report time
    Index("ix_cases_town_created", "town_code", "created_at"),  # a town's lists and figures
    Index("ix_cases_town_id", "town_code", "id"),  # a town's case pages, newest first (0013)
)

case_events = Table(
    "case_events",
    metadata,
    Column("id", Id, primary_key=True),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("action", String(20), nullable=False),
    Column("from_status", String(20)),
    Column("to_status", String(20), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("data", Json, nullable=False, default=dict),
    UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("principal", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("state", String(10), nullable=False),  # in-flight, done
    Column("status_code", Integer),
    Column("response", Json),
    Column("created_at", UTCDateTime, nullable=False),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", Id, primary_key=True),
    Column("case_id", Id, ForeignKey("cases.id"), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content_type", String(40), nullable=False),
    Column("size", Integer, nullable=False),
    Column("filename", String(200), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    Column("department", String(40)),
    Column("grid_code", String(40)),  # a patrol's own grid (migration 0008)
    Column("town_code", String(40)),  # the one town a key is scoped to; none: all (0010)
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

#: the ETag each key was last served or wrote, per feature of a draft (migration 0011): QGIS's
#: OAPIF provider writes without If-Match, so a write without one is checked against this
draft_reads = Table(
    "draft_reads",
    metadata,
    Column("key_id", Id, ForeignKey("api_keys.id"), primary_key=True),
    Column("version_id", Id, ForeignKey("layer_versions.id"), primary_key=True),
    Column("code", String(40), primary_key=True),
    Column("etag", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),  # when this ETag was first served or written
    Column("wrote", Boolean, nullable=False, default=False),  # this key wrote that version
    Index("ix_draft_reads_feature", "version_id", "code"),
)
