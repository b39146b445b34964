"""The evaluation (考核) through HTTP, after a week of cases driven round the loop.

The service's clock is set to each moment of the week 2025-06-09 (Monday) to
06-15, and cases are reported, dispatched, deferred, handled, closed and
reopened through the API as a grid centre would. The week is over, so it is
read as of Monday 06-16 00:00 whatever today is. Every expected figure is
worked out here by hand; names come from the demo town's own files.

All cases are reported in grid 310106113G01 (team WS01). CG01 and CG04 are
grid-level matters on natural time with limits dispatch 0.5 h, accept 1 h,
handle 4 h, verify 8 h: a yellow case is due 21.5 h after its report.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from conftest_cases import INSIDE, Desk, assert_problem, build_app, desk, grid_at
from fastapi import FastAPI

from gridsvc.config import DEMO_DIR

SH = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/evaluation"
WEEK = {"from": "2025-06-09", "to": "2025-06-15"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Clock:
    """The service's clock, set to Shanghai wall-clock times."""

    def __init__(self) -> None:
        self.now = datetime(2025, 6, 9, 9, 0, tzinfo=SH)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, module_db_url: str) -> FastAPI:
    return build_app(tmp_path_factory, "evaluation-api", module_db_url)


@pytest.fixture(scope="module")
def d(app: FastAPI) -> Iterator[Desk]:
    clock = Clock()
    app.state.cases.clock = clock
    for desk_ in desk(app):
        week_of_cases(desk_, clock)
        yield desk_


#: The week, case by case: category, the handler who answers, and what happened when
#: (a time without a day is on the previous step's day). Deadlines: 21.5 h after the report.
WEEK_OF_CASES = [
    # A: closed on time (due 06-10 06:30)
    ("CG01", "D01", "06-09 09:00 report, 09:05 dispatch, 09:30 accept, 11:00 handle, "
                    "12:00 verify, 12:30 close"),
    # B: due 06-10 07:30, closed 10:00: late (handled after 21 h 20 min: orange)
    ("CG01", "D01", "06-09 10:00 report, 10:20 dispatch, 10:40 accept, 06-10 08:00 handle, "
                    "09:00 verify, 10:00 close"),
    # C: deferred at 10:00, before its deadline (06-11 06:30), then closed late; ends red
    ("CG01", "D01", "06-10 09:00 report, 09:10 dispatch, 10:00 defer, 10:30 accept, "
                    "06-11 10:00 handle, 11:00 verify, 12:00 close"),
    # D: closed, reopened by a leader, closed again before its deadline (06-12 06:30)
    ("CG01", "D01", "06-11 09:00 report, 09:15 dispatch, 09:20 accept, 10:00 handle, "
                    "10:30 verify, 11:00 close, 14:00 reopen, 14:10 dispatch, 14:20 accept, "
                    "15:00 handle, 15:30 verify, 16:00 close"),
    # E: accepted and left open past its deadline (06-13 06:30)
    ("CG01", "D01", "06-12 09:00 report, 09:30 dispatch, 09:40 accept"),
    # F: cancelled: not due
    ("CG01", "D01", "06-12 10:00 report, 10:05 cancel"),
    # G: reported on Sunday evening, due 06-16 17:30, after the week
    ("CG01", "D01", "06-15 20:00 report"),
    # H: exposed garbage (CG04, department D10), closed on time
    ("CG04", "D10", "06-10 14:00 report, 14:05 dispatch, 14:10 accept, 15:00 handle, "
                    "15:10 verify, 15:20 close"),
]  # fmt: skip
BODY = {
    "handle": {"result": "已处置"},
    "defer": {"reason": "等待市场监管所联合执法"},
    "reopen": {"reason": "摊贩又回来了"},
    "cancel": {"reason": "重复上报"},
    "escalate": {"department": "X04"},
}


def run(d: Desk, clock: Clock, category: str, department: str, story: str) -> None:
    """Take each step of the story at its time; reopen is a leader's, accept and handle the
    department's handler's, everything else the dispatcher's."""
    who = {"accept": f"handler-{department}", "handle": f"handler-{department}", "reopen": "leader"}
    day, case = "", {}
    for step in story.split(", "):
        *when, action = step.split(" ")
        day = when[0] if len(when) == 2 else day
        clock.now = datetime.fromisoformat(f"2025-{day}T{when[-1]}").replace(tzinfo=SH)
        if action == "report":
            case = d.new_case(category)
        else:
            case = d.step(case, action, who.get(action, "dispatcher"), **BODY.get(action, {}))


def week_of_cases(d: Desk, clock: Clock) -> None:
    for category, department, story in WEEK_OF_CASES:
        run(d, clock, category, department, story)


@cache
def team_names() -> dict[str, dict[str, str]]:
    with open(DEMO_DIR / "teams.csv", encoding="utf-8-sig", newline="") as f:
        return {row["code"]: row for row in csv.DictReader(f)}


def evaluation(d: Desk, who: str = "leader", **params: Any) -> dict[str, Any]:
    response = d.client.get(URL, params=WEEK | params, headers=d.headers(who))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_the_week_is_read_as_of_its_end(d: Desk) -> None:
    body = evaluation(d, by="team")
    assert (body["from"], body["to"], body["by"]) == ("2025-06-09", "2025-06-15", "team")
    assert datetime.fromisoformat(body["as_of"]) == datetime(2025, 6, 16, tzinfo=SH)


def test_the_team_row_counts_the_week_by_hand(d: Desk) -> None:
    team = grid_at(*INSIDE)["team"]
    assert team == "WS01"
    (row,) = evaluation(d, by="team", min_cases=1)["rows"]
    assert (row["key"], row["name"]) == ("WS01", team_names()["WS01"]["name"])
    assert row["reported"] == 8  # A-H
    assert row["due"] == 6  # A B C D E H: F is cancelled, G due after the week
    assert row["deferred"] == 1  # C
    assert row["closed"] == 5  # A B C D H
    assert row["closed_on_time"] == 3  # A D H
    assert row["on_time_rate"] == pytest.approx(3 / (6 - 1))
    assert row["completion_rate"] == pytest.approx(5 / 6, abs=1e-4)
    assert (row["handled"], row["reopened"]) == (5, 1)
    assert row["rework_rate"] == pytest.approx(1 / 5)
    assert (row["overdue"], row["open_late"]) == (3, 1)  # B C E; E
    assert (row["yellow"], row["orange"], row["red"]) == (3, 2, 1)
    # to dispatch: 5, 20, 10, 15, 30, 5 min; to handling: 2, 22, 25, 1, 1 h;
    # to closure: 3.5, 24, 27, 7, 1 1/3 h
    assert row["median_hours_to_dispatch"] == pytest.approx(12.5 / 60, abs=1e-4)
    assert row["median_hours_to_handle"] == pytest.approx(2.0)
    assert row["median_hours_to_close"] == pytest.approx(7.0)
    assert row["score"] == pytest.approx(100 * (0.5 * 0.6 + 0.3 * 5 / 6 + 0.2 * 0.8))  # 71
    assert row["rank"] == 1


def test_a_category_with_one_case_does_not_top_the_table(d: Desk) -> None:
    rows = evaluation(d, by="category", min_cases=2)["rows"]
    assert [(r["key"], r["rank"], r["due"], r["score"]) for r in rows] == [
        ("CG01", 1, 5, pytest.approx(64.0)),  # 100 x (0.5 x 2/4 + 0.3 x 4/5 + 0.2 x 3/4)
        ("CG04", None, 1, 100.0),  # perfect, but one case: listed, unranked
    ]
    ranked = evaluation(d, by="category", min_cases=1)["rows"]
    assert [(r["key"], r["rank"]) for r in ranked] == [("CG04", 1), ("CG01", 2)]
    # with the default minimum of 10 nobody is ranked this week
    assert all(r["rank"] is None for r in evaluation(d, by="category")["rows"])


def test_departments_are_scored_bottom_up(d: Desk) -> None:
    rows = evaluation(d, by="department", line_score="D10=90", min_cases=1)["rows"]
    by_code = {r["key"]: r for r in rows}
    assert set(by_code) == {"D01", "D10"}
    on_call = by_code["D10"]  # a liaison of a county department: the town weighs 30 %
    assert (on_call["kind"], on_call["town_weight"], on_call["line_score"]) == ("on_call", 0.3, 90)
    assert on_call["overall_score"] == pytest.approx(0.3 * 100 + 0.7 * 90)
    squad = by_code["D01"]  # the town's own enforcement squad: not scored bottom-up
    assert (squad["town_weight"], squad["overall_score"]) == (None, None)


def test_an_escalated_case_counts_for_the_county_bureau_that_answered(d: Desk) -> None:
    story = (
        "06-23 09:00 report, 09:10 escalate, 09:30 accept, 10:00 handle, 10:30 verify, 11:00 close"
    )
    run(d, d.app.state.cases.clock, "CG01", "X04", story)  # X04: 区城管执法局
    params = {"from": "2025-06-23", "to": "2025-06-29", "by": "department", "min_cases": 1}
    response = d.client.get(URL, params=params, headers=d.headers("dispatcher"))
    (row,) = response.json()["rows"]
    assert (row["key"], row["kind"], row["town_weight"]) == ("X04", "county", 0.3)
    assert (row["due"], row["closed_on_time"]) == (1, 1)
    assert row["median_hours_to_dispatch"] == pytest.approx(10 / 60, abs=1e-4)


def test_names_in_english(d: Desk) -> None:
    (row,) = evaluation(d, by="team", lang="en")["rows"]
    assert row["name"] == team_names()["WS01"]["name_en"] == "Wenshui Street Workstation"


def download(
    d: Desk, who: str, params: dict[str, Any], headers: dict[str, str], media: str
) -> bytes:
    """A file of the week's evaluation, checked to come as an attachment of that type."""
    response = d.client.get(URL, params=WEEK | params, headers=d.headers(who) | headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media)
    assert "attachment" in response.headers["content-disposition"]
    return response.content


def parse_csv(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads UTF-8
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    ("params", "headers"),
    [({"format": "csv"}, {}), ({}, {"Accept": "text/csv"})],
    ids=["format", "accept"],
)
def test_csv_in_chinese_with_the_total_last(
    d: Desk, params: dict[str, str], headers: dict[str, str]
) -> None:
    wanted = {"by": "category", "min_cases": 2} | params
    cg01, cg04, total = parse_csv(download(d, "dispatcher", wanted, headers, "text/csv"))
    assert (cg01["排名"], cg01["代码"], cg01["名称"]) == ("1", "CG01", "乱设摊")
    assert (cg01["应结案数"], cg01["缓办数"], cg01["按期结案数"]) == ("5", "1", "2")
    assert float(cg01["按期结案率"]) == pytest.approx(0.5)
    assert (cg04["排名"], cg04["名称"]) == ("", "垃圾暴露")  # unranked: fewer than 2 cases
    assert (total["名称"], total["应结案数"], total["结案数"]) == ("合计", "6", "5")
    assert int(total["上报数"]) == int(cg01["上报数"]) + int(cg04["上报数"]) == 8


@pytest.mark.parametrize(
    ("params", "headers"),
    [({"format": "xlsx"}, {}), ({}, {"Accept": f"{XLSX}, application/json;q=0.5"})],
    ids=["format", "accept"],
)
def test_xlsx_reads_back_in_a_spreadsheet(
    d: Desk, params: dict[str, str], headers: dict[str, str]
) -> None:
    content = download(d, "admin", {"by": "team", "lang": "en"} | params, headers, XLSX)
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book["Evaluation"]
    header, team, total = ([c.value for c in row] for row in sheet.iter_rows())
    row = dict(zip(header, team, strict=True))
    assert row["Name"] == "Wenshui Street Workstation"
    assert (row["Due"], row["Deferred"], row["Closed on time"]) == (6, 1, 3)
    assert row["On-time closure rate"] == pytest.approx(0.6)
    assert row["Rank"] is None  # six due cases, fewer than the default ten
    rate_cell = sheet.cell(row=2, column=header.index("On-time closure rate") + 1)
    assert rate_cell.number_format == "0.0%"
    assert dict(zip(header, total, strict=True))["Name"] == "Total"
    assert "Notes" in book.sheetnames


@pytest.mark.parametrize(
    ("params", "mentions"),
    [
        ({"by": "street"}, "'street' is not a grouping for by="),
        ({"from": "2025-06-31"}, "'2025-06-31' is not a date for from="),
        ({"to": "2025-06-01"}, "comes before"),
        ({"from": "2024-01-01", "to": "2025-06-15"}, "at most 366 days"),
        ({"min_cases": 0}, "min_cases"),
        ({"lang": "fr"}, "'fr' is not offered for lang="),
        ({"format": "xml"}, "format='xml'"),
        ({"line_score": "D10=90"}, "by=department"),
        ({"by": "department", "line_score": "D01=90"}, "town's own"),
        ({"by": "department", "line_score": "D10:90"}, "CODE=SCORE"),
    ],
)
def test_bad_parameters_are_422_problems(d: Desk, params: dict[str, Any], mentions: str) -> None:
    response = d.client.get(URL, params=WEEK | params, headers=d.headers("leader"))
    assert mentions in assert_problem(response, 422, "invalid-input")["detail"]


def test_from_and_to_are_required(d: Desk) -> None:
    response = d.client.get(URL, params={"to": "2025-06-15"}, headers=d.headers("leader"))
    assert_problem(response, 422, "request-validation")
