"""A case is judged by the limits of the responsibility list it was routed under.

Two CG01 cases, both closed 30 h after their report. The first is routed by
the demo list (handling 4 h: due 21.5 h after the report, so late); then a
list with a 40 h handling limit is published, and the second case (due
57.5 h after its report) is on time. Publishing the new list must not make
the first case on time after the fact.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime

import pytest
from conftest_cases import Desk, build_app, desk
from test_evaluation_api import SH, Clock, run

from gridsvc.config import DEMO_DIR


def list_with_slow_cg01() -> bytes:
    with open(DEMO_DIR / "responsibility_list.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    next(r for r in rows if r["code"] == "CG01")["limit_handle_h"] = "40"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


@pytest.fixture(scope="module")
def d(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    app = build_app(tmp_path_factory, "evaluation-versions")
    clock = Clock()
    app.state.cases.clock = clock
    app.state.evaluation.clock = lambda: datetime(2025, 6, 20, tzinfo=SH)
    for desk_ in desk(app):
        close_after_30h = "dispatch, 10:00 accept, 06-10 14:00 handle, 14:30 verify, 15:00 close"
        run(desk_, clock, "CG01", "D01", f"06-09 09:00 report, 09:10 {close_after_30h}")
        draft = desk_.client.post(
            "/api/v1/responsibility-list/drafts",
            headers=desk_.headers("planner"),
            files={"file": ("list.csv", list_with_slow_cg01())},
        ).json()
        tags = {"If-Match": f'"draft-{draft["id"]}", "active-{draft["active"]}"'}
        published = desk_.client.post(
            f"/api/v1/responsibility-list/drafts/{draft['id']}/publish",
            headers=desk_.headers("planner", **tags),
        )
        assert published.status_code == 200, published.text
        run(desk_, clock, "CG01", "D01", f"06-09 09:00 report, 09:10 {close_after_30h}")
        yield desk_


def test_each_case_keeps_the_limits_it_was_routed_under(d: Desk) -> None:
    body = d.client.get(
        "/api/v1/evaluation",
        params={"from": "2025-06-09", "to": "2025-06-15", "by": "category"},
        headers=d.headers("leader"),
    ).json()
    (row,) = body["rows"]
    assert (row["key"], row["due"], row["closed"], row["closed_on_time"]) == ("CG01", 2, 2, 1)
    assert row["on_time_rate"] == 0.5
