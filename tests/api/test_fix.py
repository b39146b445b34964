"""自行处置: a patrol fixes a small-loop (grid-level) matter on the spot and says what it
did; the grid centre then verifies and closes as for any handled case. A town matter
cannot be fixed on the spot; another patrol's report cannot be touched."""

from __future__ import annotations

from conftest_cases import Desk, assert_problem, desk_fixtures, matters

app, d = desk_fixtures("fix", both_backends=True)

GRID_MATTER = next(c for c, m in matters().items() if m["level"] == "grid")
TOWN_MATTER = next(c for c, m in matters().items() if m["level"] == "town")


def fix(d: Desk, case: dict, who: str = "patrol", **body: str):
    return d.act(case["id"], "fix", who, case["etag"], **({"result": "已当场清理"} | body))


def test_the_intake_answer_offers_the_fix_for_a_grid_matter_only(d: Desk) -> None:
    assert d.new_case(category=GRID_MATTER)["actions"] == ["fix"]
    assert d.new_case(category=TOWN_MATTER)["actions"] == []


def test_a_patrol_fixes_its_grid_report_and_the_centre_closes_it(d: Desk) -> None:
    case = d.new_case(category=GRID_MATTER)
    fixed = fix(d, case)
    assert fixed.status_code == 200, fixed.text
    view = fixed.json()
    assert view["status"] == "handled"
    assert view["history"][-1]["action"] == "fix" and view["history"][-1]["note"] == "已当场清理"
    verified = d.act(case["id"], "verify", "dispatcher", view["etag"])
    assert verified.status_code == 200, verified.text
    closed = d.act(case["id"], "close", "dispatcher", verified.json()["etag"])
    assert closed.json()["status"] == "closed"


def test_a_town_matter_cannot_be_fixed_on_the_spot(d: Desk) -> None:
    case = d.new_case(category=TOWN_MATTER)
    body = assert_problem(fix(d, case), 409, "illegal-transition")
    assert "grid-level" in body["detail"]
    assert d.get(case["id"], "dispatcher").json()["status"] == "reported"  # nothing written


def test_a_fix_needs_a_result(d: Desk) -> None:
    case = d.new_case(category=GRID_MATTER)
    assert_problem(fix(d, case, result=""), 422, None)


def test_another_patrols_report_is_not_found(d: Desk) -> None:
    case = d.new_case(category=GRID_MATTER)
    assert_problem(fix(d, case, who="patrol-2"), 404, None)


def test_a_dispatched_case_is_no_longer_the_patrols(d: Desk) -> None:
    case = d.new_case(category=GRID_MATTER)
    sent = d.act(case["id"], "dispatch", "dispatcher", case["etag"])
    assert_problem(fix(d, sent.json()), 409, "illegal-transition")
