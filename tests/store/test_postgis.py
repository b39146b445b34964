"""Migration 0007 on PostgreSQL: cases and layer features carry PostGIS geometry, kept by
triggers from what the store writes (lon/lat, WKB), so QGIS and ``ST_Within`` can use them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import geopandas as gpd
import pytest
from shapely.geometry import Point, box
from sqlalchemy import Engine, text

from gridsvc.core.crs import CGCS2000
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.store import cases, reference
from gridsvc.store import schema as s
from gridsvc.store.engine import make_engine

T0 = datetime(2027, 3, 1, 8, tzinfo=UTC)
INSIDE = (121.4427, 31.3396)


@pytest.fixture
def engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


def case_row(case_id: int, lon: float, lat: float) -> dict[str, object]:
    return {
        "id": case_id, "number": f"2027-{case_id:07d}", "status": "reported", "status_since": T0,
        "version": 1, "category": "litter", "description": "", "severity": 1,
        "colour": "yellow", "source": "patrol", "reporter": "", "address": "",
        "created_at": T0, "updated_at": T0, "lon": lon, "lat": lat, "raw_lon": lon,
        "raw_lat": lat, "raw_crs": "CGCS2000", "geom_wkb": Point(lon, lat).wkb,
        "level": "grid", "department": "D01", "cooperating": [], "reopen_count": 0,
        "layer_versions": {},
    }  # fmt: skip


WITHIN = text(
    "SELECT number FROM cases WHERE ST_Within(location, "
    "ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4490)) ORDER BY id"
)


def test_a_stored_case_is_found_by_st_within(engine: Engine) -> None:
    with engine.begin() as conn:
        cases.insert_cases(conn, [case_row(1, *INSIDE), case_row(2, 121.50, 31.30)])
    lon, lat = INSIDE
    box_ = {"minx": lon - 0.001, "miny": lat - 0.001, "maxx": lon + 0.001, "maxy": lat + 0.001}
    with engine.connect() as conn:
        assert conn.execute(WITHIN, box_).scalars().all() == ["2027-0000001"]
        srid = conn.execute(text("SELECT DISTINCT ST_SRID(location) FROM cases")).scalar_one()
    assert srid == 4490


def test_a_moved_case_s_location_follows_its_lon_lat(engine: Engine) -> None:
    with engine.begin() as conn:
        cases.insert_cases(conn, [case_row(1, *INSIDE)])
        conn.execute(s.cases.update().values(lon=121.50, lat=31.30))
        x, y = conn.execute(text("SELECT ST_X(location), ST_Y(location) FROM cases")).one()
    assert (x, y) == (121.50, 31.30)


def test_published_features_have_geometry_and_a_spatial_index(engine: Engine) -> None:
    frame = gpd.GeoDataFrame(
        {"code": ["G1", "G2"], "name": ["一", "二"], "parent_code": ["", ""]},
        geometry=[box(121.44, 31.33, 121.45, 31.34), box(121.46, 31.33, 121.47, 31.34)],
        crs=CGCS2000,
    )
    with engine.begin() as conn:
        reference.publish_layer(conn, Layer(LayerKind.GRIDS, frame), "v1", T0)
        contains = conn.execute(
            text(
                "SELECT code FROM published_features WHERE kind = 'grids' AND "
                "ST_Contains(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4490))"
            ),
            {"lon": INSIDE[0], "lat": INSIDE[1]},
        ).scalars()
        assert list(contains) == ["G1"]
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            conn.execute(
                text("EXPLAIN SELECT id FROM features WHERE geom && ST_MakeEnvelope(0,0,1,1,4490)")
            ).scalars()
        )
    assert "ix_features_geom" in plan
