"""Migration 0010: cases stored before towns existed get their town from their unit."""

from __future__ import annotations

from datetime import UTC, datetime

import shapely
from sqlalchemy import insert, select, text

from gridsvc.store import schema as s
from gridsvc.store.engine import make_engine, upgrade

T0 = datetime(2026, 11, 2, 8, tzinfo=UTC)


def _case(case_id: int, unit: str | None) -> dict[str, object]:
    return {
        "id": case_id,
        "number": f"2026-{case_id:07d}",
        "status": "reported",
        "status_since": T0,
        "version": 1,
        "category": "CG01",
        "severity": 2,
        "colour": "yellow",
        "created_at": T0,
        "updated_at": T0,
        "lon": 121.44,
        "lat": 31.33,
        "raw_lon": 121.44,
        "raw_lat": 31.33,
        "raw_crs": "cgcs2000",
        "geom_wkb": shapely.to_wkb(shapely.Point(121.44, 31.33)),
        "unit_code": unit,
        "level": "town",
        "department": "D01",
    }


def test_old_cases_take_the_town_of_their_published_unit(db_url: str) -> None:
    upgrade(db_url, "0009")
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO layer_versions (id, kind, label, status, created_at) VALUES "
                "(1, 'units', 'old', 'retired', :t), (2, 'units', 'now', 'published', :t)"
            ),
            {"t": T0},
        )
        conn.execute(
            text(
                "INSERT INTO features (id, version_id, code, name, parent_code, attrs, geom_wkb)"
                " VALUES (1, 1, 'U1', 'a', 'OLD', '{}', :g), (2, 2, 'U1', 'a', 'T1', '{}', :g),"
                " (3, 2, 'U2', 'b', 'T2', '{}', :g), (4, 2, 'U3', 'c', '', '{}', :g)"
            ),
            {"g": shapely.to_wkb(shapely.box(121.4, 31.3, 121.5, 31.4))},
        )
        rows = [_case(1, "U1"), _case(2, "U2"), _case(3, None), _case(4, "U3"), _case(5, "U9")]
        conn.execute(insert(s.cases), rows)  # town_code has no default: not sent
    upgrade(db_url)
    with engine.connect() as conn:
        got = dict(conn.execute(select(s.cases.c.id, s.cases.c.town_code)).all())
    # the published unit decides; no unit, a unit with no parent or an unknown one: none yet
    assert got == {1: "T1", 2: "T2", 3: None, 4: None, 5: None}
