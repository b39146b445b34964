"""A publish's reassignment writes (store/reassign.py), set-based through the driver: every
moved case gets its new place, the assignee rule, its layer version and a version bump,
and exactly one ``reassign`` event with the next seq; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from gridsvc.store import reassign
from gridsvc.store import schema as s
from gridsvc.store.cases import case_events, get_case, insert_events
from gridsvc.store.engine import make_engine
from gridsvc.store.reassign import reassign_cases

NOW = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)


def _case(k: int, team: str | None, assignee: str | None) -> dict:
    at = NOW - timedelta(days=3)
    return {
        "id": k,
        "number": f"R{k:04d}",
        "status": "dispatched" if k % 2 else "accepted",
        "status_since": at,
        "category": "CG01",
        "severity": 1,
        "colour": "yellow",
        "created_at": at,
        "updated_at": at,
        "lon": 121.0,
        "lat": 31.0,
        "raw_lon": 121.0,
        "raw_lat": 31.0,
        "raw_crs": "cgcs2000",
        "geom_wkb": b"",
        "grid_code": "G1",
        "team": team,
        "town_code": "W",
        "level": "grid",
        "department": "D01",
        "assignee": assignee,
        "layer_versions": {"grids": 1, "units": 4},
    }


@pytest.fixture
def engine(migrated_db_url: str) -> Engine:
    engine = make_engine(migrated_db_url)
    rows = [
        _case(1, "T1", "T1"),  # held by the team that changes: goes to the new team
        _case(2, "T1", "D07"),  # held by a department: stays there
        _case(3, None, None),  # no team before, none holding it: the new team holds it
        _case(4, "T1", "T1"),  # not moved
    ] + [_case(k, "T1", "T1") for k in range(5, 40)]
    with engine.begin() as conn:
        conn.execute(s.cases.insert(), rows)
        insert_events(
            conn,
            [
                {"case_id": 1, "seq": 1, "action": "report", "to_status": "reported",
                 "actor": "p", "role": "patrol", "at": NOW - timedelta(days=3)},
                {"case_id": 1, "seq": 2, "action": "dispatch", "from_status": "reported",
                 "to_status": "dispatched", "actor": "d", "role": "dispatcher", "at": NOW},
            ],
        )  # fmt: skip
    return engine


def _move(k: int, team_before: str | None) -> dict:
    place = {"grid_code": "G1", "unit_code": None, "committee_code": None, "town_code": "W"}
    return {
        "id": k,
        "from": {**place, "team": team_before},
        "to": {**place, "grid_code": "G2", "team": "T9", "town_code": "E"},
    }


def test_each_moved_case_gets_its_place_assignee_version_and_one_event(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reassign, "CHUNK", 7)  # several rounds
    moves = [_move(1, "T1"), _move(2, "T1"), _move(3, None)]
    moves += [_move(k, "T1") for k in range(5, 40)]
    with engine.begin() as conn:
        assert reassign_cases(conn, moves, "grids", 12, NOW) == len(moves)
    with engine.connect() as conn:
        one, two, three, four = (get_case(conn, k) for k in (1, 2, 3, 4))
        assert one is not None and two is not None and three is not None and four is not None
        assert (one["grid_code"], one["team"], one["town_code"]) == ("G2", "T9", "E")
        assert (one["assignee"], two["assignee"], three["assignee"]) == ("T9", "D07", "T9")
        assert one["layer_versions"] == {"grids": 12, "units": 4}
        assert (one["version"], four["version"]) == (2, 1)
        assert one["updated_at"] == NOW and four["updated_at"] == NOW - timedelta(days=3)
        assert (four["grid_code"], four["assignee"]) == ("G1", "T1")
        events = case_events(conn, 1)
        assert [e["seq"] for e in events] == [1, 2, 3]
        last = events[-1]
        assert (last["action"], last["from_status"], last["to_status"]) == (
            "reassign",
            "dispatched",
            "dispatched",
        )
        assert (last["actor"], last["role"], last["at"]) == ("planning", "planner", NOW)
        assert last["note"] == "grids version 12 published"
        assert last["data"] == {"from": moves[0]["from"], "to": moves[0]["to"], "version": 12}
        assert case_events(conn, 2)[0]["from_status"] == "accepted"
        per_case = conn.execute(
            select(s.case_events.c.case_id).where(s.case_events.c.action == "reassign")
        ).all()
        assert sorted(r[0] for r in per_case) == sorted(m["id"] for m in moves)


def test_a_publish_that_fails_after_the_writes_leaves_no_move_and_no_event(
    engine: Engine,
) -> None:
    """The writes are the caller's transaction: its rollback takes every update and event."""
    moves = [_move(1, "T1"), _move(2, "T1")]
    with pytest.raises(RuntimeError), engine.begin() as conn:
        reassign_cases(conn, moves, "grids", 12, NOW)
        raise RuntimeError("the publish fails after the writes")
    with engine.connect() as conn:
        case = get_case(conn, 1)
        assert case is not None and case["grid_code"] == "G1" and case["version"] == 1
        assert [e["action"] for e in case_events(conn, 1)] == ["report", "dispatch"]
