"""The case service through HTTP, checked the way a grid-centre dispatcher would.

The closed loop for each handling level (grid, town, county), return and
re-dispatch, rework, duplicates and cancellation; every bad input refused
with a precise problem and nothing written; idempotent retries; ETags and
If-Match; who may act on a case.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest_cases import (
    FAR_OUTSIDE,
    INSIDE,
    NEAR_OUTSIDE,
    REPORTS,
    Desk,
    assert_problem,
    cooperating,
    departments,
    desk_fixtures,
    grid_at,
    matters,
    nearest_grid,
)
from sqlalchemy import text

from gridsvc.api.routes.cases import ReportIn
from gridsvc.core.crs import wgs84_to_gcj02
from gridsvc.services.cases import _principal
from gridsvc.services.reading import Principal
from gridsvc.store import cases as store

GOOD = {"lon": INSIDE[0], "lat": INSIDE[1], "crs": "cgcs2000", "category": "CG01"}


app, d = desk_fixtures("cases-api", both_backends=True)


def history(view: dict[str, Any]) -> list[tuple[str, str | None, str, str, str]]:
    return [(e["action"], e["from"], e["to"], e["actor"], e["role"]) for e in view["history"]]


def assert_traced(view: dict[str, Any], since: datetime) -> None:
    """Every step has a sequence number, an actor, a role and an aware time, in order."""
    times = [datetime.fromisoformat(e["at"]) for e in view["history"]]
    assert all(t.utcoffset() is not None for t in times)
    assert times == sorted(times)
    assert since - timedelta(seconds=1) <= times[0] and times[-1] <= datetime.now(UTC)
    assert [e["seq"] for e in view["history"]] == list(range(1, len(times) + 1))
    assert all(e["actor"] and e["role"] for e in view["history"])


def events_of(d: Desk, case_id: int) -> int:
    with d.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM case_events WHERE case_id = :i"), {"i": case_id}
            ).scalar_one()
        )


def assert_unchanged(d: Desk, case: dict[str, Any]) -> None:
    """The case is still at the version the caller read, with no new event."""
    now = d.get(case["id"]).json()
    assert now["etag"] == case["etag"] and now["status"] == case["status"]
    assert events_of(d, case["id"]) == len(case["history"])


# ---- the closed loop, for each handling level ----------------------------------------------


def test_grid_level_matter_closes_in_the_small_loop(d: Desk) -> None:
    started = datetime.now(UTC)
    grid = grid_at(*INSIDE)
    matter = matters()["CG01"]
    assert matter["level"] == "grid"

    response = d.report(category="CG01", description="人行道上有流动摊贩", severity=1)
    assert response.status_code == 201, response.text
    case = response.json()
    assert response.headers["etag"] == '"1"' and case["etag"] == 1
    assert case["status"] == "reported" and case["open"] is True
    assert case["number"].endswith(f"{case['id']:07d}")
    assert (case["grid_code"], case["team"]) == (grid["code"], grid["team"])
    assert case["level"] == "grid"
    assert case["assignee"] == grid["team"]  # the grid's team handles it on the spot
    assert case["department"] == matter["primary_department"] == "D01"
    assert case["cooperating"] == cooperating("CG01")
    assert case["group_code"] == matter["group"]
    assert case["colour"] == case["supervision"]["colour"] == "yellow"
    assert case["supervision"]["deadline"] is not None

    etags = [case["etag"]]
    case = d.step(case, "dispatch", "dispatcher")
    assert case["status"] == "dispatched"
    etags.append(case["etag"])
    case = d.step(case, "accept", "handler-D01")
    assert case["status"] == "accepted"
    etags.append(case["etag"])
    case = d.step(case, "handle", "handler-D01", result="摊贩已劝离, 现场已清理")
    assert case["status"] == "handled"
    etags.append(case["etag"])
    case = d.step(case, "verify", "dispatcher", note="复核现场无摊贩")
    assert case["status"] == "verified"
    etags.append(case["etag"])
    case = d.step(case, "close", "dispatcher")
    etags.append(case["etag"])
    assert etags == sorted(set(etags)) and len(etags) == 6  # a new ETag at every step

    read = d.get(case["id"])
    assert read.status_code == 200
    assert read.headers["etag"] == f'"{etags[-1]}"'
    view = read.json()
    assert view["status"] == "closed" and view["open"] is False
    assert view["supervision"]["deadline"] is None  # no clock runs in a closed case
    assert history(view) == [
        ("report", None, "reported", "patrol", "patrol"),
        ("dispatch", "reported", "dispatched", "dispatcher", "dispatcher"),
        ("accept", "dispatched", "accepted", "handler-D01", "handler"),
        ("handle", "accepted", "handled", "handler-D01", "handler"),
        ("verify", "handled", "verified", "dispatcher", "dispatcher"),
        ("close", "verified", "closed", "dispatcher", "dispatcher"),
    ]
    assert view["history"][3]["note"] == "摊贩已劝离, 现场已清理"
    assert view["history"][0]["note"] == "人行道上有流动摊贩"
    assert_traced(view, started)


def test_town_level_matter_goes_to_its_primary_department(d: Desk) -> None:
    started = datetime.now(UTC)
    matter = matters()["CG12"]  # unlicensed business: market supervision
    assert matter["level"] == "town"
    case = d.new_case("CG12", description="无照经营的小作坊")
    assert case["level"] == "town"
    assert case["department"] == case["assignee"] == matter["primary_department"] == "D05"
    assert case["cooperating"] == cooperating("CG12")
    assert case["group_code"] == matter["group"] == "WG01"

    case = d.step(case, "dispatch", "dispatcher")
    assert case["assignee"] == "D05"
    case = d.step(case, "accept", "handler-D05")
    case = d.step(case, "handle", "handler-D05", result="已责令停业整改")
    case = d.step(case, "verify", "dispatcher")
    case = d.step(case, "close", "dispatcher")
    assert case["status"] == "closed"
    assert [a for a, *_ in history(case)] == [
        "report", "dispatch", "accept", "handle", "verify", "close",
    ]  # fmt: skip
    assert_traced(case, started)


def test_county_level_matter_is_escalated_and_answered_on_the_same_case(d: Desk) -> None:
    """乡呼县应: the town calls the county bureau; its answer and closure come back here."""
    started = datetime.now(UTC)
    matter = matters()["CG14"]  # illegal medical practice
    bureau = matter["primary_department"]
    assert matter["level"] == "county" and departments()[bureau]["level"] == "county"

    case = d.new_case("CG14", description="居民楼内非法诊所")
    assert (case["level"], case["department"], case["assignee"]) == ("county", bureau, bureau)
    case_id = case["id"]

    case = d.step(case, "escalate", "dispatcher", department=bureau, note="乡呼县应")
    assert case["status"] == "escalated" and case["assignee"] == bureau
    assert case["supervision"]["deadline"] is not None  # the bureau's own deadline runs
    # A town department outside the matter cannot take the county's call.
    other = d.act(case_id, "accept", "handler-D08", case["etag"])
    assert_problem(other, 403, "forbidden")
    assert_unchanged(d, case)

    case = d.step(case, "accept", f"handler-{bureau}")
    case = d.step(case, "handle", f"handler-{bureau}", result="区卫健委已取缔并立案")
    case = d.step(case, "verify", "dispatcher")
    case = d.step(case, "close", "dispatcher")
    assert case["id"] == case_id and case["status"] == "closed"
    assert history(case) == [
        ("report", None, "reported", "patrol", "patrol"),
        ("escalate", "reported", "escalated", "dispatcher", "dispatcher"),
        ("accept", "escalated", "accepted", f"handler-{bureau}", "handler"),
        ("handle", "accepted", "handled", f"handler-{bureau}", "handler"),
        ("verify", "handled", "verified", "dispatcher", "dispatcher"),
        ("close", "verified", "closed", "dispatcher", "dispatcher"),
    ]
    assert case["history"][1]["data"]["department"] == bureau
    assert_traced(case, started)


def test_returned_case_goes_back_to_dispatch_and_is_dispatched_again(d: Desk) -> None:
    case = d.step(d.new_case("CG12"), "dispatch", "dispatcher")
    refused = d.act(case["id"], "return", "handler-D05", case["etag"])  # no reason
    body = assert_problem(refused, 422, "invalid-input")
    assert "reason" in body["detail"]
    assert_unchanged(d, case)

    case = d.step(case, "return", "handler-D05", reason="不属于本所职责, 应由执法队处理")
    assert case["status"] == "returned" and case["open"] is True
    assert case["history"][-1]["note"] == "不属于本所职责, 应由执法队处理"
    assert case["history"][-1]["actor"] == "handler-D05"
    case = d.step(case, "dispatch", "dispatcher")
    assert case["status"] == "dispatched"
    assert [a for a, *_ in history(case)] == ["report", "dispatch", "return", "dispatch"]


def test_a_single_town_has_no_district_to_refer_to(d: Desk) -> None:
    case = d.new_case("CG12")
    assert "refer" not in case["actions"]
    refused = d.act(case["id"], "refer", "dispatcher", case["etag"], reason="请区里协调")
    body = assert_problem(refused, 409, "illegal-transition")
    assert "single town" in body["detail"]
    assert_unchanged(d, case)
    assert "centre" not in d.step(case, "dispatch", "dispatcher")["history"][-1]["data"]


def _loop_to_closed(d: Desk, case: dict[str, Any]) -> dict[str, Any]:
    case = d.step(case, "dispatch", "dispatcher")
    case = d.step(case, "accept", "handler-D01")
    case = d.step(case, "handle", "handler-D01", result="已处置")
    case = d.step(case, "verify", "dispatcher")
    return d.step(case, "close", "dispatcher")


def test_closed_case_is_reopened_for_rework_and_counts_it(d: Desk) -> None:
    case = _loop_to_closed(d, d.new_case("CG01"))
    assert case["reopen_count"] == 0
    refused = d.act(case["id"], "reopen", "dispatcher", case["etag"])
    assert_problem(refused, 422, "invalid-input")
    assert_unchanged(d, case)

    case = d.step(case, "reopen", "dispatcher", reason="群众反映摊贩又回来了")
    assert case["status"] == "reopened" and case["open"] is True
    assert case["reopen_count"] == 1
    case = _loop_to_closed(d, case)
    case = d.step(case, "reopen", "leader", reason="督查抽查未整改到位")
    assert case["reopen_count"] == 2
    assert history(case)[-1] == ("reopen", "closed", "reopened", "leader", "leader")


def test_deferral_needs_a_reason_and_keeps_the_case_where_it_is(d: Desk) -> None:
    case = d.step(d.new_case("CG01"), "dispatch", "dispatcher")
    refused = d.act(case["id"], "defer", "dispatcher", case["etag"])
    assert_problem(refused, 422, "invalid-input")
    assert_unchanged(d, case)
    assert_problem(d.act(case["id"], "defer", "handler-D01", case["etag"], reason="x"), 403, None)

    deferred = d.step(case, "defer", "dispatcher", reason="等待法院裁定")
    assert deferred["status"] == "dispatched" and deferred["etag"] > case["etag"]
    assert deferred["supervision"]["deadline"] == case["supervision"]["deadline"]  # same clock
    kept = ("defer", "dispatched", "dispatched", "dispatcher", "dispatcher")
    assert history(deferred)[-1] == kept
    assert deferred["history"][-1]["note"] == "等待法院裁定"
    accepted = d.step(deferred, "accept", "handler-D01")  # the loop goes on
    assert accepted["status"] == "accepted"

    fresh = d.new_case("CG01")  # nothing to defer before dispatch
    too_early = d.act(fresh["id"], "defer", "dispatcher", fresh["etag"], reason="x")
    assert_problem(too_early, 409, "illegal-transition")


def test_duplicate_report_is_marked_duplicate_of_the_first(d: Desk) -> None:
    first = d.new_case("CG03")
    nearby = (INSIDE[0] + 0.0001, INSIDE[1])  # ~10 m east
    second = d.new_case("CG03", at=nearby)
    assert first["id"] in [p["id"] for p in second["possible_duplicates"]]
    near = next(p for p in second["possible_duplicates"] if p["id"] == first["id"])
    assert 5 < near["distance_m"] < 15

    second = d.step(second, "duplicate", "dispatcher", duplicate_of=first["id"])
    assert second["status"] == "duplicate" and second["duplicate_of"] == first["id"]
    assert second["open"] is False
    again = d.act(second["id"], "dispatch", "dispatcher", second["etag"])
    assert assert_problem(again, 409, "illegal-transition")["allowed"] == []


def test_cancelled_case_needs_a_reason_and_stays_cancelled(d: Desk) -> None:
    case = d.new_case("CG05")
    assert_problem(d.act(case["id"], "cancel", "dispatcher", case["etag"]), 422, "invalid-input")
    assert_unchanged(d, case)
    case = d.step(case, "cancel", "dispatcher", reason="误报")
    assert case["status"] == "cancelled" and case["open"] is False
    assert case["supervision"]["deadline"] is None
    again = d.act(case["id"], "cancel", "dispatcher", case["etag"], reason="again")
    assert_problem(again, 409, "illegal-transition")


@pytest.mark.parametrize("department", ["X99", "D01"])
def test_escalation_names_a_county_bureau(d: Desk, department: str) -> None:
    case = d.new_case("CG14")
    response = d.act(case["id"], "escalate", "dispatcher", case["etag"], department=department)
    assert_problem(response, 422, None)
    assert_unchanged(d, case)


def test_duplicate_of_a_missing_case_is_refused(d: Desk) -> None:
    case = d.new_case("CG01")
    response = d.act(case["id"], "duplicate", "dispatcher", case["etag"], duplicate_of=10**9)
    assert response.status_code in (404, 422), response.text
    assert_unchanged(d, case)


def test_case_cannot_be_a_duplicate_of_itself(d: Desk) -> None:
    case = d.new_case("CG01")
    response = d.act(case["id"], "duplicate", "dispatcher", case["etag"], duplicate_of=case["id"])
    assert_problem(response, 422, None)
    assert_unchanged(d, case)


# ---- bad input: a precise problem, and nothing written -------------------------------------


def _json(body: Any) -> dict[str, Any]:
    return {"content": json.dumps(body).encode(), "headers": {"Content-Type": "application/json"}}


def _chunks(body: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    for i in range(0, len(body), size):
        yield body[i : i + size]


BAD_REPORTS: list[Any] = [
    pytest.param(_json(GOOD | {"lon": INSIDE[1], "lat": INSIDE[0]}), 422, "swapped-coordinates",
                 id="swapped"),
    pytest.param(_json(GOOD | {"lon": 200.0}), 422, "coordinates-out-of-range", id="lon-200"),
    pytest.param(_json(GOOD | {"lat": -91.0}), 422, "coordinates-out-of-range", id="lat-91"),
    pytest.param({"content": json.dumps(GOOD | {"lon": float("nan")}).encode(),
                  "headers": {"Content-Type": "application/json"}},
                 422, "coordinates-out-of-range", id="lon-NaN"),
    pytest.param(_json(GOOD | {"priority": "high"}), 422, "request-validation", id="unknown-field"),
    pytest.param(_json(GOOD | {"crs": "mars"}), 422, "request-validation", id="unknown-crs"),
    pytest.param(_json(GOOD | {"lon": "abc"}), 422, "request-validation", id="lon-not-a-number"),
    pytest.param(_json({k: v for k, v in GOOD.items() if k != "category"}), 422,
                 "request-validation", id="no-category"),
    pytest.param(_json(GOOD | {"severity": 9}), 422, "request-validation", id="severity-9"),
    pytest.param(_json([GOOD]), 422, "request-validation", id="json-array"),
    pytest.param({"content": b'{"lon": 121.44, "lat":', "headers": {"Content-Type":
                  "application/json"}}, 422, "request-validation", id="malformed-json"),
    pytest.param({"content": b"", "headers": {"Content-Type": "application/json"}}, 422,
                 "request-validation", id="empty-body"),
    pytest.param({"content": json.dumps(GOOD).encode(), "headers": {"Content-Type":
                  "text/plain"}}, 415, "unsupported-media-type", id="text-plain"),
    pytest.param({"content": b"lon=121.44&lat=31.33&category=CG01", "headers": {
                  "Content-Type": "application/x-www-form-urlencoded"}}, 415,
                 "unsupported-media-type", id="form-encoded"),
    pytest.param({"content": json.dumps(GOOD).encode()}, 415, "unsupported-media-type",
                 id="no-content-type"),
    pytest.param({"content": (json.dumps(GOOD) + " " * 200_000).encode(), "headers": {
                  "Content-Type": "application/json"}}, 413, "payload-too-large",
                 id="huge-padded-body"),
    pytest.param(_json(GOOD | {"description": "摊" * 1_000_000}), 413, "payload-too-large",
                 id="huge-description"),
]  # fmt: skip


@pytest.mark.parametrize(("request_kwargs", "status", "code"), BAD_REPORTS)
def test_bad_report_is_refused_precisely_and_writes_nothing(
    d: Desk, request_kwargs: dict[str, Any], status: int, code: str
) -> None:
    before = d.counts()
    headers = d.headers("patrol", **request_kwargs.get("headers", {}))
    response = d.client.post(REPORTS, content=request_kwargs["content"], headers=headers)
    assert_problem(response, status, code)
    assert d.counts() == before


def test_huge_body_streamed_without_length_is_refused_and_writes_nothing(d: Desk) -> None:
    before = d.counts()
    body = (json.dumps(GOOD) + " " * 500_000).encode()
    headers = d.headers("patrol", **{"Content-Type": "application/json"})
    response = d.client.post(REPORTS, content=_chunks(body), headers=headers)
    assert_problem(response, 413, "payload-too-large")
    assert d.counts() == before


def test_swapped_coordinates_name_the_point_meant(d: Desk) -> None:
    before = d.counts()
    body = assert_problem(d.report(at=(INSIDE[1], INSIDE[0])), 422, "swapped-coordinates")
    assert "swapped" in body["detail"] and str(INSIDE[0]) in body["detail"]
    assert d.counts() == before


def test_outside_the_jurisdiction_is_refused_naming_the_nearest_grid(d: Desk) -> None:
    before = d.counts()
    body = assert_problem(d.report(at=FAR_OUTSIDE), 422, "outside-jurisdiction")
    expected = nearest_grid(*FAR_OUTSIDE)
    assert body["nearest_grid_code"] == expected
    assert expected in body["detail"]
    assert body["boundary_distance_m"] == pytest.approx(300, abs=5)
    assert d.counts() == before


def test_outside_a_few_metres_is_accepted_for_a_matter_that_allows_it(d: Desk) -> None:
    assert matters()["CG28"]["allow_outside"] == "1"  # river pollution drifts over the line
    before = d.counts()
    case = d.new_case("CG28", at=NEAR_OUTSIDE, description="河面漂浮油污")
    assert case["grid_code"] == nearest_grid(*NEAR_OUTSIDE)
    assert case["department"] == matters()["CG28"]["primary_department"]
    assert d.counts() == (before[0] + 1, before[1] + 1)
    # ...but the same spot for a matter that does not allow it is refused.
    body = assert_problem(d.report(at=NEAR_OUTSIDE, category="CG01"), 422, "outside-jurisdiction")
    assert body["nearest_grid_code"] == case["grid_code"]
    assert d.counts() == (before[0] + 1, before[1] + 1)


def test_too_far_for_any_grid_is_refused_even_for_a_matter_that_allows_outside(d: Desk) -> None:
    before = d.counts()
    body = assert_problem(d.report(at=(25.0, 0.0), category="CG28"), 422, "outside-jurisdiction")
    assert "no grid is near enough" in body["detail"]
    assert body["nearest_grid_code"] is None
    assert d.counts() == before


def test_unknown_category_lists_valid_codes(d: Desk) -> None:
    before = d.counts()
    body = assert_problem(d.report(category="CG99"), 422, "unknown-category")
    assert "CG99" in body["detail"]
    shown = [code for code in matters() if code in body["detail"]]
    assert len(shown) >= 10 and "CG01" in shown
    assert str(len(matters())) in body["detail"]  # "... and 30 more (40 in all)"
    assert d.counts() == before


def test_gcj02_report_is_stored_in_cgcs2000_with_the_raw_coordinates_kept(d: Desk) -> None:
    lon, lat = wgs84_to_gcj02(*INSIDE)
    case = d.new_case("CG01", at=(float(lon), float(lat)), crs="gcj02")
    assert (case["raw_lon"], case["raw_lat"], case["raw_crs"]) == (lon, lat, "gcj02")
    assert case["lon"] == pytest.approx(INSIDE[0], abs=2e-5)
    assert case["lat"] == pytest.approx(INSIDE[1], abs=2e-5)
    assert case["grid_code"] == grid_at(*INSIDE)["code"]


def test_client_time_without_offset_is_a_422(d: Desk) -> None:
    before = d.counts()
    response = d.report(client_time="2025-06-09T09:00:00")
    assert_problem(response, 422, None)
    assert d.counts() == before


# ---- idempotent retries --------------------------------------------------------------------


def test_retry_with_the_same_key_and_body_answers_the_same_case(d: Desk) -> None:
    before = d.counts()
    key = {"Idempotency-Key": "retry-same-0001"}
    first = d.report(headers=key, description="弱网重试")
    again = d.report(headers=key, description="弱网重试")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    assert d.counts() == (before[0] + 1, before[1] + 1)


def test_same_key_with_another_body_is_422_and_writes_nothing(d: Desk) -> None:
    key = {"Idempotency-Key": "retry-other-0001"}
    assert d.report(headers=key, description="第一次").status_code == 201
    before = d.counts()
    response = d.report(headers=key, description="换了内容")
    assert_problem(response, 422, "idempotency-key-reused")
    assert d.counts() == before


def _claim_in_flight(d: Desk, who: str, key: str, body: dict[str, Any], age_s: float) -> None:
    """Leave the key claimed as if a first request by ``who`` were still being processed."""
    principal = d.app.state.keyring.authenticate(d.key(who))
    assert isinstance(principal, Principal)
    fingerprint = ReportIn(**body).to_domain().fingerprint()
    with d.engine.begin() as conn:
        claimed = store.claim_idempotency_key(
            conn,
            _principal(principal),
            key,
            fingerprint,
            datetime.now(UTC) - timedelta(seconds=age_s),
        )
    assert claimed is None


def test_retry_while_the_first_is_in_flight_is_409(d: Desk) -> None:
    body = GOOD | {"description": "in flight"}
    _claim_in_flight(d, "patrol", "in-flight-0001", body, age_s=1)
    before = d.counts()
    response = d.client.post(
        REPORTS, json=body, headers=d.headers("patrol", **{"Idempotency-Key": "in-flight-0001"})
    )
    assert_problem(response, 409, "conflict")
    assert d.counts() == before


def test_abandoned_in_flight_claim_is_taken_over(d: Desk) -> None:
    body = GOOD | {"description": "abandoned"}
    _claim_in_flight(d, "patrol", "abandoned-0001", body, age_s=600)
    before = d.counts()
    response = d.client.post(
        REPORTS, json=body, headers=d.headers("patrol", **{"Idempotency-Key": "abandoned-0001"})
    )
    assert response.status_code == 201, response.text
    assert d.counts() == (before[0] + 1, before[1] + 1)


def test_refused_report_does_not_use_up_its_key(d: Desk) -> None:
    key = {"Idempotency-Key": "refused-then-fixed"}
    assert_problem(d.report(headers=key, at=FAR_OUTSIDE), 422, "outside-jurisdiction")
    assert d.report(headers=key).status_code == 201


def test_keys_belong_to_their_patrol(d: Desk) -> None:
    key = {"Idempotency-Key": "shared-0001"}
    mine = d.report("patrol", headers=key)
    theirs = d.report("patrol-2", headers=key)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


# ---- ETag and If-Match ---------------------------------------------------------------------


def test_transition_without_if_match_is_428(d: Desk) -> None:
    case = d.new_case()
    assert_problem(d.act(case["id"], "dispatch", "dispatcher", None), 428, "precondition-required")
    assert_unchanged(d, case)


def test_transition_with_a_stale_etag_is_412(d: Desk) -> None:
    case = d.step(d.new_case(), "dispatch", "dispatcher")
    stale = d.act(case["id"], "accept", "handler-D01", case["etag"] - 1)
    assert_problem(stale, 412, "stale-version")
    assert_unchanged(d, case)


def test_if_match_that_is_no_etag_is_422(d: Desk) -> None:
    case = d.new_case()
    assert_problem(d.act(case["id"], "dispatch", "dispatcher", '"abc"'), 422, "invalid-input")
    assert_unchanged(d, case)


def test_two_dispatchers_cannot_overwrite_each_other(d: Desk) -> None:
    case = d.new_case()
    read_a = d.get(case["id"], "dispatcher")
    read_b = d.get(case["id"], "admin")
    assert read_a.headers["etag"] == read_b.headers["etag"] == '"1"'
    first = d.act(case["id"], "dispatch", "dispatcher", read_a.headers["etag"])
    second = d.act(case["id"], "dispatch", "admin", read_b.headers["etag"], assignee="WS02")
    assert first.status_code == 200, first.text
    assert_problem(second, 412, "stale-version")
    view = d.get(case["id"]).json()
    assert view["assignee"] == case["assignee"]  # the second dispatcher's choice never landed
    assert [a for a, *_ in history(view)] == ["report", "dispatch"]


# ---- who may act ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("walk", "action", "who", "allowed"),
    [
        ([], "close", "dispatcher", ["cancel", "dispatch", "duplicate", "escalate"]),
        ([], "accept", "handler-D01", []),
        (["dispatch"], "handle", "handler-D01", ["accept", "return"]),
        (["dispatch", "accept"], "verify", "dispatcher", ["defer", "escalate"]),
        (["dispatch", "accept", "handle"], "close", "dispatcher", ["reopen", "verify"]),
    ],
)
def test_illegal_transition_is_409_naming_the_allowed_actions(
    d: Desk, walk: list[str], action: str, who: str, allowed: list[str]
) -> None:
    case = d.new_case()
    for step in walk:
        actor = "handler-D01" if step in {"accept", "handle"} else "dispatcher"
        case = d.step(case, step, actor, result="ok" if step == "handle" else None)
    response = d.act(case["id"], action, who, case["etag"])
    body = assert_problem(response, 409, "illegal-transition")
    assert sorted(body["allowed"]) == allowed
    assert_unchanged(d, case)


def test_handler_of_another_department_is_403(d: Desk) -> None:
    case = d.step(d.new_case("CG01"), "dispatch", "dispatcher")
    outsider = "handler-D08"  # housing liaison: neither primary nor cooperating for CG01
    assert outsider.removeprefix("handler-") not in ["D01", *cooperating("CG01")]
    assert_problem(d.act(case["id"], "accept", outsider, case["etag"]), 403, "forbidden")
    assert_unchanged(d, case)


def test_patrol_cannot_dispatch(d: Desk) -> None:
    case = d.new_case()
    assert_problem(d.act(case["id"], "dispatch", "patrol", case["etag"]), 403, "forbidden")
    assert_unchanged(d, case)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer gs_not-a-key"}, {"Authorization": "Basic cGF0cm9sOnB3"}],
    ids=["no-key", "unknown-key", "basic-scheme"],
)
def test_report_without_a_valid_key_is_401_and_writes_nothing(
    d: Desk, headers: dict[str, str]
) -> None:
    before = d.counts()
    response = d.client.post(REPORTS, json=GOOD, headers=headers)
    assert_problem(response, 401, "unauthenticated")
    assert d.counts() == before


def test_401_names_the_bearer_scheme(d: Desk) -> None:
    response = d.client.post(REPORTS, json=GOOD)
    assert response.status_code == 401
    assert response.headers.get("www-authenticate", "").lower().startswith("bearer")


def test_unknown_action_and_unknown_case_are_404(d: Desk) -> None:
    case = d.new_case()
    body = assert_problem(d.act(case["id"], "approve", "dispatcher", 1), 404, "unknown-action")
    assert "dispatch" in body["detail"]
    assert_problem(d.get(10**9), 404, "not-found")
    assert_problem(d.act(10**9, "dispatch", "dispatcher", 1), 404, "not-found")
    assert_unchanged(d, case)


@pytest.mark.parametrize("bbox", ["nan,nan,nan,nan", "121,31,inf,32", "121,31,122", "a,b,c,d"])
def test_a_bbox_that_is_not_four_finite_numbers_is_a_422(d: Desk, bbox: str) -> None:
    response = d.client.get("/api/v1/cases", headers=d.headers("dispatcher"), params={"bbox": bbox})
    body = assert_problem(response, 422, "invalid-input")
    assert "bbox" in body["detail"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("lon", True), ("lon", "121.45"), ("lat", "31.3"), ("severity", True)],
)
def test_a_number_field_takes_only_a_json_number(d: Desk, field: str, value: Any) -> None:
    """true was taken as 1.0 and "121.45" as 121.45: a phone that sends them is broken."""
    body = assert_problem(d.report(**{field: value}), 422, "request-validation")
    assert field in body["detail"]


@pytest.mark.parametrize(
    "offset", [timedelta(days=2), timedelta(days=-31), timedelta(days=2_900_000)]
)
def test_a_client_time_off_the_plausible_window_is_a_422(d: Desk, offset: timedelta) -> None:
    when = min(datetime.now(UTC) + offset, datetime(9999, 1, 1, tzinfo=UTC))
    body = assert_problem(d.report(client_time=when.isoformat()), 422, "request-validation")
    assert "client_time" in body["detail"]


def test_a_report_kept_a_week_in_the_outbox_is_taken(d: Desk) -> None:
    when = datetime.now(UTC) - timedelta(days=7)
    assert d.report(client_time=when.isoformat()).status_code == 201


@pytest.mark.parametrize("param", ["from", "to"])
def test_a_bare_number_is_not_a_time(d: Desk, param: str) -> None:
    """to=0.5 was read as half a second after 1970."""
    response = d.client.get("/api/v1/cases", headers=d.headers("dispatcher"), params={param: "0.5"})
    body = assert_problem(response, 422, "request-validation")
    assert param in body["detail"] and "ISO 8601" in body["detail"]
    dated = d.client.get(
        "/api/v1/cases",
        headers=d.headers("dispatcher"),
        params={param: "2026-11-30T00:00:00+08:00"},
    )
    assert dated.status_code == 200
