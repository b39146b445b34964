"""The live queue (``/changes``, long polling), the 412 that names who came first, and the
actions a case view offers its reader."""

from __future__ import annotations

import threading
import time

from conftest_cases import Desk, assert_problem, desk_fixtures

app, d = desk_fixtures("live", both_backends=True)


def changes(d: Desk, **params: object) -> dict:
    response = d.client.get("/api/v1/changes", headers=d.headers("dispatcher"), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_new_report_shows_after_the_cursor(d: Desk) -> None:
    cursor = changes(d)["cursor"]
    assert changes(d, after=cursor)["items"] == []
    case = d.new_case()
    answer = changes(d, after=cursor)
    assert [c["id"] for c in answer["items"]] == [case["id"]]
    assert answer["cursor"] > cursor
    assert changes(d, after=answer["cursor"])["items"] == []


def test_an_action_shows_the_case_again_with_its_new_status(d: Desk) -> None:
    case = d.new_case()
    cursor = changes(d)["cursor"]
    assert d.act(case["id"], "dispatch", "dispatcher", case["etag"]).status_code == 200
    items = changes(d, after=cursor)["items"]
    assert [(c["id"], c["status"]) for c in items] == [(case["id"], "dispatched")]


def test_a_waiting_request_answers_when_a_report_arrives(d: Desk) -> None:
    cursor = changes(d)["cursor"]
    made: list[dict] = []
    timer = threading.Timer(1.0, lambda: made.append(d.new_case()))
    timer.start()
    started = time.monotonic()
    answer = changes(d, after=cursor, wait=10)
    waited = time.monotonic() - started
    timer.join()
    assert [c["id"] for c in answer["items"]] == [made[0]["id"]]
    assert 0.9 <= waited < 5  # held until the report, not for the whole wait


def test_nothing_new_answers_empty_after_the_wait(d: Desk) -> None:
    cursor = changes(d)["cursor"]
    started = time.monotonic()
    assert changes(d, after=cursor, wait=1)["items"] == []
    assert time.monotonic() - started >= 1


def test_changes_refuse_bad_cursors_and_long_waits(d: Desk) -> None:
    for params in ({"after": -1}, {"after": "x"}, {"wait": 26}, {"wait": "nan"}):
        response = d.client.get("/api/v1/changes", headers=d.headers("dispatcher"), params=params)
        assert response.status_code == 422, (params, response.text)


def test_a_patrol_may_not_watch_the_queue(d: Desk) -> None:
    response = d.client.get("/api/v1/changes", headers=d.headers("patrol"))
    assert_problem(response, 403, "forbidden")


def test_the_second_dispatcher_learns_who_came_first(d: Desk) -> None:
    case = d.new_case()
    stale = f'"{case["etag"]}"'
    first = d.client.post(
        f"/api/v1/cases/{case['id']}/dispatch",
        headers=d.headers("dispatcher", **{"If-Match": stale}),
    )
    assert first.status_code == 200, first.text
    second = d.client.post(
        f"/api/v1/cases/{case['id']}/dispatch",
        headers=d.headers("dispatcher-2", **{"If-Match": stale}),
    )
    body = assert_problem(second, 412, "stale-version")
    assert body["last_change"]["action"] == "dispatch"
    assert body["last_change"]["actor"] == "dispatcher"
    assert body["last_change"]["status"] == "dispatched"


def test_a_case_view_offers_the_readers_actions(d: Desk) -> None:
    case = d.new_case()
    as_dispatcher = d.client.get(f"/api/v1/cases/{case['id']}", headers=d.headers("dispatcher"))
    assert {"dispatch", "cancel", "escalate", "duplicate"} <= set(as_dispatcher.json()["actions"])
    as_patrol = d.client.get(f"/api/v1/cases/{case['id']}", headers=d.headers("patrol"))
    assert as_patrol.json()["actions"] == ["fix"]  # its own grid-level report: 自行处置
