"""PostGIS columns for QGIS and spatial SQL (PostgreSQL only)

A district's grid centre opens the tables in QGIS and asks ``ST_Within``
questions in SQL; both want a typed geometry column with a spatial index.
On PostgreSQL this adds ``cases.location geometry(Point, 4490)`` and
``features.geom geometry(Geometry, 4490)`` (CGCS2000, what lon/lat and the
WKB already are), fills them from the existing columns, keeps them filled by
triggers on insert and on any change of lon/lat or the WKB (so every writer,
the intake's batched INSERT, a publish, a ``db copy``, is covered without the
code knowing the columns exist), and indexes them with GiST. The view
``published_features`` is the published version of every layer kind, with
its kind, for QGIS to open as one layer per kind (filter on ``kind``).

The PostGIS extension is created if missing; where the role may not create
it, the database's owner runs ``CREATE EXTENSION postgis`` once first.

On SQLite it does nothing: the core's in-memory index answers spatial
questions there, and geometry stays WKB beside lon/lat.

Revision ID: 0007
Revises: 0006
Create Date: 2027-03-20 10:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SRID = 4490

UPGRADE = f"""
CREATE EXTENSION IF NOT EXISTS postgis;

ALTER TABLE cases ADD COLUMN location geometry(Point, {SRID});
UPDATE cases SET location = ST_SetSRID(ST_MakePoint(lon, lat), {SRID});
CREATE FUNCTION gridsvc_case_location() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.location := ST_SetSRID(ST_MakePoint(NEW.lon, NEW.lat), {SRID});
    RETURN NEW;
END $$;
CREATE TRIGGER cases_location BEFORE INSERT OR UPDATE OF lon, lat ON cases
    FOR EACH ROW EXECUTE FUNCTION gridsvc_case_location();
CREATE INDEX ix_cases_location ON cases USING gist (location);

ALTER TABLE features ADD COLUMN geom geometry(Geometry, {SRID});
UPDATE features SET geom = ST_GeomFromWKB(geom_wkb, {SRID});
CREATE FUNCTION gridsvc_feature_geom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.geom := ST_GeomFromWKB(NEW.geom_wkb, {SRID});
    RETURN NEW;
END $$;
CREATE TRIGGER features_geom BEFORE INSERT OR UPDATE OF geom_wkb ON features
    FOR EACH ROW EXECUTE FUNCTION gridsvc_feature_geom();
CREATE INDEX ix_features_geom ON features USING gist (geom);

CREATE VIEW published_features AS
    SELECT f.id, v.kind, f.version_id, f.code, f.name, f.parent_code, f.attrs, f.geom
    FROM features f JOIN layer_versions v ON v.id = f.version_id
    WHERE v.status = 'published';
"""

DOWNGRADE = """
DROP VIEW published_features;
DROP TRIGGER features_geom ON features;
DROP FUNCTION gridsvc_feature_geom();
ALTER TABLE features DROP COLUMN geom;
DROP TRIGGER cases_location ON cases;
DROP FUNCTION gridsvc_case_location();
ALTER TABLE cases DROP COLUMN location;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(UPGRADE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DOWNGRADE)
