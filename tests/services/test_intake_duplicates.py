"""Possible duplicates at intake: found in memory, the same as a scan of the table.

Intake keeps the window's cases in memory and checks the status of the near
ones in the write transaction. These tests hold it to what a dispatcher
expects: every earlier open case of the matter within 50 m, nearest first;
not a cancelled one; cases another server process committed; reports
arriving in the same group commit; and never a report that was rolled back.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
import shapely
from case_kit import DISPATCHER, PATROL, Clock, run, service, submit
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from gridsvc.core.duplicates import metres
from gridsvc.services.case_rows import point_wkb
from gridsvc.services.cases import CaseService, Report

SPOT = (121.4405, 31.3380)  # inside the demo town, in CGCS2000


def at(category: str, dx: float = 0.0, dy: float = 0.0, **fields: Any) -> Report:
    return Report(lon=SPOT[0] + dx, lat=SPOT[1] + dy, crs="cgcs2000", category=category, **fields)


def ids(case: dict[str, Any]) -> list[int]:
    return [p["id"] for p in case["possible_duplicates"]]


def test_each_report_lists_the_earlier_open_cases_a_scan_finds(
    svc: CaseService, engine: Engine
) -> None:
    rng = random.Random(7)
    answers = []
    for _ in range(60):
        dx, dy = rng.uniform(-0.0008, 0.0008), rng.uniform(-0.0008, 0.0008)  # about ±80 m
        answers.append(submit(svc, at(rng.choice(["CG07", "CG08"]), dx, dy), PATROL).body)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, number, category, lon, lat FROM cases")).all()
    for case in answers:
        near = sorted(
            (metres(case["lon"], case["lat"], r.lon, r.lat), r.id)
            for r in rows
            if r.id < case["id"] and r.category == case["category"]
        )
        expected = [(round(d, 1), i) for d, i in near if d <= 50.0][:10]
        found = [(p["distance_m"], p["id"]) for p in case["possible_duplicates"]]
        assert found == expected
    assert sum(1 for a in answers if a["possible_duplicates"]) > 20  # the test saw duplicates
    last = answers[-1]  # with nothing after it, the stored case's search agrees
    assert svc.get(last["id"])["possible_duplicates"] == last["possible_duplicates"]


def test_a_cancelled_case_is_not_a_possible_duplicate(svc: CaseService) -> None:
    first = submit(svc, at("CG09", 0.002), PATROL).body
    second = submit(svc, at("CG09", 0.002), PATROL).body
    assert ids(second) == [first["id"]]
    svc.act(first["id"], "cancel", DISPATCHER, first["etag"], {"reason": "误报"})
    third = submit(svc, at("CG09", 0.002), PATROL).body
    assert ids(third) == [second["id"]]


def test_cases_committed_by_another_process_are_found(
    svc: CaseService, engine: Engine, clock: Clock
) -> None:
    other = service(engine, clock)  # its own writer and index, as a second worker has
    a = submit(svc, at("CG10", -0.002), PATROL).body
    b = submit(other, at("CG10", -0.002), PATROL).body
    c = submit(svc, at("CG10", -0.002), PATROL).body
    assert ids(b) == [a["id"]]
    assert sorted(ids(c)) == sorted([a["id"], b["id"]])
    other.writer.close()


def test_reports_committed_together_see_each_other(svc: CaseService) -> None:
    async def together() -> list[dict[str, Any]]:
        answers = await asyncio.gather(
            *(svc.submit(at("CG11", 0.0, 0.002), PATROL) for _ in range(8))
        )
        return [a.body for a in answers]

    answers = sorted(run(together()), key=lambda a: a["id"])
    for k, case in enumerate(answers):
        assert sorted(ids(case)) == [a["id"] for a in answers[:k]]


def test_a_report_rolled_back_is_never_listed(svc: CaseService, clock: Clock) -> None:
    spot = at("CG13", 0.0, -0.002)
    case = {"category": "CG13", "lon": spot.lon, "lat": spot.lat, "created_at": clock()}

    def write_then_fail(conn: Any) -> None:
        svc.intake.new_cases.add(case, {}, 2025)  # queued and indexed, as intake's write does
        raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError):
        svc.writer.run(write_then_fail)
    after = submit(svc, at("CG13", 0.0, -0.002), PATROL).body  # may get the freed id
    assert after["possible_duplicates"] == []
    third = submit(svc, at("CG13", 0.0, -0.002), PATROL).body
    assert ids(third) == [after["id"]]  # once, and no phantom beside it


@given(st.floats(-180, 180), st.floats(-90, 90))
def test_the_stored_point_is_the_wkb_shapely_writes(lon: float, lat: float) -> None:
    wkb = point_wkb(lon, lat)
    assert wkb == shapely.to_wkb(shapely.Point(lon, lat))
    assert shapely.from_wkb(wkb).equals(shapely.Point(lon, lat))
