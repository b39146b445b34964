"""The town's reference data in the database: layer versions, teams, departments, lists.

The service rebuilds its in-memory matcher from the published layer
versions at start, so the database, not a file, is the source of truth once
a town is loaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import Connection, String, delete, func, insert, select, text, type_coerce

from gridsvc.core.crs import CGCS2000
from gridsvc.core.layers import BASE_COLUMNS, Layer, LayerKind
from gridsvc.store import schema as s


def publish_layer(conn: Connection, layer: Layer, label: str, now: datetime | None = None) -> int:
    """Store a layer as a new published version of its kind, retiring the active one."""
    now = now or datetime.now(UTC)
    conn.execute(
        s.layer_versions.update()
        .where(
            s.layer_versions.c.kind == layer.kind.value, s.layer_versions.c.status == "published"
        )
        .values(status="retired", retired_at=now)
    )
    version_id = conn.execute(
        insert(s.layer_versions).values(
            kind=layer.kind.value, label=label, status="published", created_at=now, published_at=now
        )
    ).inserted_primary_key[0]
    conn.execute(insert(s.features), list(_feature_rows(layer, version_id)))
    return int(version_id)


def add_draft(
    conn: Connection,
    layer: Layer,
    label: str,
    now: datetime,
    town: str | None = None,
    based_on: int | None = None,
) -> int:
    """Store a layer as a draft version: never visible to matching until published.
    A town's draft names its town and the active version it was spliced onto."""
    version_id = conn.execute(
        insert(s.layer_versions).values(
            kind=layer.kind.value,
            label=label,
            status="draft",
            created_at=now,
            town_code=town,
            based_on=based_on,
        )
    ).inserted_primary_key[0]
    conn.execute(insert(s.features), list(_feature_rows(layer, version_id)))
    return int(version_id)


def replace_draft(conn: Connection, version_id: int, layer: Layer, based_on: int) -> None:
    """Replace a town draft's features with ``layer`` (its features spliced onto the
    newer active version ``based_on``): the draft keeps its id, label and town."""
    conn.execute(delete(s.features).where(s.features.c.version_id == version_id))
    conn.execute(insert(s.features), list(_feature_rows(layer, version_id)))
    conn.execute(
        s.layer_versions.update()
        .where(s.layer_versions.c.id == version_id)
        .values(based_on=based_on)
    )


#: the advisory lock of a layer kind's publish turn on PostgreSQL (plus the kind's rank)
_PUBLISH_LOCK = 0x6C617972  # "layr"


def publish_turn(conn: Connection, kind: LayerKind) -> None:
    """Take the turn to publish a version of ``kind`` (held to the end of the transaction).

    Two publishes of one kind (two towns' planners at once) read the active version,
    then replace it: without a turn both saw the same one and both published. On
    PostgreSQL a transaction-scoped advisory lock (read committed: what is read after
    it sees the other's commit); on SQLite the write lock, taken first (the call must
    open the transaction).
    """
    if conn.dialect.name == "postgresql":
        rank = list(LayerKind).index(kind)
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PUBLISH_LOCK + rank})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # waits (busy_timeout) for another writer


def version_row(conn: Connection, version_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(s.layer_versions).where(s.layer_versions.c.id == version_id)).first()
    return dict(row._mapping) if row else None


def promote(conn: Connection, kind: LayerKind, draft_id: int, now: datetime) -> None:
    """Publish a draft: the active version of its kind is retired in the same transaction."""
    v = s.layer_versions.c
    conn.execute(
        s.layer_versions.update()
        .where(v.kind == kind.value, v.status == "published")
        .values(status="retired", retired_at=now)
    )
    conn.execute(
        s.layer_versions.update()
        .where(v.id == draft_id)
        .values(status="published", published_at=now)
    )


def _feature_rows(layer: Layer, version_id: int) -> Iterable[dict[str, Any]]:
    frame = layer.frame
    extra = [c for c in frame.columns if c not in (*BASE_COLUMNS, frame.geometry.name)]
    # a feature without geometry (validation's "has no geometry") is kept as an empty one
    empty = shapely.to_wkb(shapely.from_wkt("GEOMETRYCOLLECTION EMPTY"))
    wkb = [w if w is not None else empty for w in shapely.to_wkb(frame.geometry.array)]
    for i, row in enumerate(frame.itertuples(index=False)):
        record = row._asdict()
        yield {
            "version_id": version_id,
            "code": str(record["code"]),
            "name": str(record["name"]),
            "parent_code": str(record["parent_code"] or ""),
            "attrs": {k: _plain(record[k]) for k in extra},
            "geom_wkb": wkb[i],
        }


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def active_versions(conn: Connection) -> dict[LayerKind, int]:
    """The published version id of every layer kind that has one."""
    rows = conn.execute(
        select(s.layer_versions.c.kind, s.layer_versions.c.id).where(
            s.layer_versions.c.status == "published"
        )
    )
    return {LayerKind(kind): int(version_id) for kind, version_id in rows}


def list_versions(
    conn: Connection, kind: LayerKind, town: str | None = None
) -> list[dict[str, Any]]:
    """Every stored version of a layer kind, newest first, with its feature count
    (only those of one town's planner when ``town`` is given)."""
    v, f = s.layer_versions.c, s.features.c
    count = select(func.count()).where(f.version_id == v.id).scalar_subquery()
    query = select(s.layer_versions, count.label("features")).where(v.kind == kind.value)
    if town is not None:
        query = query.where(v.town_code == town)
    rows = conn.execute(query.order_by(v.id.desc()))
    return [dict(r._mapping) for r in rows]


def versions_at(conn: Connection, moment: datetime) -> dict[LayerKind, int]:
    """The version of each kind that was published (and not yet retired) at ``moment``."""
    v = s.layer_versions.c
    rows = conn.execute(
        select(v.kind, v.id)
        .where(v.published_at.is_not(None), v.published_at <= moment)
        .where((v.retired_at.is_(None)) | (v.retired_at > moment))
        .order_by(v.published_at)
    )
    return {LayerKind(kind): int(version_id) for kind, version_id in rows}


def previous_version(conn: Connection, kind: LayerKind) -> int | None:
    """The version that was active before the current one (the last retired), if any."""
    v = s.layer_versions.c
    row = conn.execute(
        select(v.id)
        .where(v.kind == kind.value, v.status == "retired")
        .order_by(v.retired_at.desc(), v.id.desc())
    ).first()
    return int(row[0]) if row else None


def version_kind(conn: Connection, version_id: int) -> LayerKind | None:
    """The layer kind of a stored version, or None when there is no such version."""
    row = conn.execute(
        select(s.layer_versions.c.kind).where(s.layer_versions.c.id == version_id)
    ).first()
    return LayerKind(row[0]) if row else None


def feature_names(conn: Connection, version_id: int) -> dict[str, str]:
    """Code → name of a version's features, without reading their geometry."""
    f = s.features.c
    rows = conn.execute(select(f.code, f.name).where(f.version_id == version_id))
    return {str(code): str(name) for code, name in rows}


def load_layer(conn: Connection, kind: LayerKind, version_id: int) -> Layer:
    """A stored layer version as a Layer (attributes back as columns).

    The attributes are read as text and parsed in one ``json.loads`` of them all: the
    JSON type's one parse per row was 0.4 s of a 20,000-grid town's start (issue 21).
    """
    f = s.features.c
    rows = conn.execute(
        select(f.code, f.name, f.parent_code, type_coerce(f.attrs, String), f.geom_wkb)
        .where(f.version_id == version_id)
        .order_by(f.id)
    ).all()
    attrs = _parsed([r[3] for r in rows])
    records = [
        {"code": r[0], "name": r[1], "parent_code": r[2], **(a or {})}
        for r, a in zip(rows, attrs, strict=True)
    ]
    geometry = shapely.from_wkb([r[4] for r in rows])
    return Layer(kind, gpd.GeoDataFrame(records, geometry=geometry, crs=CGCS2000))


def _parsed(values: list[Any]) -> list[Any]:
    """JSON texts parsed at once (a driver that hands back parsed values, psycopg's
    JSONB, keeps them; NULL is None)."""
    if not all(isinstance(v, str) for v in values):
        return [json.loads(v) if isinstance(v, str) else v for v in values]
    return list(json.loads("[" + ",".join(values) + "]")) if values else []


def replace_table(conn: Connection, table_name: str, rows: list[Mapping[str, Any]]) -> None:
    """Replace a whole reference table (teams, departments, groups, matters, holidays)."""
    table = s.metadata.tables[table_name]
    conn.execute(delete(table))
    if rows:
        conn.execute(insert(table), [dict(r) for r in rows])


def read_table(conn: Connection, table_name: str) -> list[dict[str, Any]]:
    table = s.metadata.tables[table_name]
    return [dict(r._mapping) for r in conn.execute(select(table))]


def holiday_days(conn: Connection) -> dict[date, bool]:
    return {
        date.fromisoformat(r["day"]): bool(r["is_workday"]) for r in read_table(conn, "holidays")
    }
