"""Ids and versions past what the database can store: a 422 naming the parameter, not a 500.

Every one of these was an OverflowError from the SQLite driver (a 500) until
the parameters were bounded (found by schemathesis). Just inside the bound,
the same requests are plain 404s or refusals of their own.
"""

from __future__ import annotations

import pytest
from conftest_cases import Desk, assert_problem, desk_fixtures

from gridsvc.api.params import MAX_ID

TOO_BIG = MAX_ID + 1  # 2**63: one past SQLite's largest INTEGER
HUGE = 32185576957927354368  # what schemathesis sent


app, d = desk_fixtures("params", both_backends=True)


GETS = [
    ("dispatcher", "/api/v1/cases/{n}", "case_id"),
    ("dispatcher", "/api/v1/cases/1/attachments/{n}", "attachment_id"),
    ("dispatcher", "/api/v1/cases/{n}/attachments/1", "case_id"),
    ("dispatcher", "/api/v1/cases?cursor={n}", "cursor"),
    ("dispatcher", "/api/v1/cases?cursor=-{n}", "cursor"),
    ("planner", "/api/v1/layers/grids/versions/{n}.gpkg", "version_id"),
    ("planner", "/api/v1/layers/grids/drafts/{n}/impact", "draft_id"),
    ("planner", "/api/v1/layers/grids/drafts/{n}/validation", "draft_id"),
    ("planner", "/maps/impact/grids/{n}", "draft_id"),
    ("planner", "/api/v1/responsibility-list/drafts/{n}/changes", "draft_id"),
    ("dispatcher", "/ogc/collections/cases/items?offset={n}", "offset"),
    ("dispatcher", "/ogc/collections/grids/items?offset={n}", "offset"),
]


@pytest.mark.parametrize("n", [TOO_BIG, HUGE])
@pytest.mark.parametrize(("who", "url", "name"), GETS)
def test_an_id_past_the_database_is_a_422_naming_it(
    d: Desk, who: str, url: str, name: str, n: int
) -> None:
    body = assert_problem(
        d.client.get(url.format(n=n), headers=d.headers(who)), 422, "request-validation"
    )
    assert name in body["detail"]


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("dispatcher", f"/api/v1/cases/{MAX_ID}"),
        ("planner", f"/api/v1/layers/grids/drafts/{MAX_ID}/impact"),
        ("planner", f"/api/v1/responsibility-list/drafts/{MAX_ID}/changes"),
    ],
)
def test_the_largest_id_is_looked_up_and_not_found(d: Desk, who: str, url: str) -> None:
    assert_problem(d.client.get(url, headers=d.headers(who)), 404, None)


def test_an_action_on_a_case_past_the_database_writes_nothing(d: Desk) -> None:
    case = d.new_case()
    before = d.counts()
    huge = d.act(TOO_BIG, "dispatch", "dispatcher", 1)
    assert_problem(huge, 422, "request-validation")
    twin = d.act(case["id"], "duplicate", "dispatcher", case["etag"], duplicate_of=HUGE)
    assert "duplicate_of" in assert_problem(twin, 422, "request-validation")["detail"]
    assert d.counts() == before
    assert d.get(case["id"]).json()["etag"] == case["etag"]


@pytest.mark.parametrize(
    ("path", "header"),
    [
        ("/api/v1/layers/grids/drafts/1/publish", f'"draft-{HUGE}", "active-1"'),
        ("/api/v1/layers/grids/drafts/1/publish", f'"draft-1", "active-{TOO_BIG}"'),
        ("/api/v1/layers/grids/rollback", f'"active-{HUGE}"'),
        ("/api/v1/responsibility-list/drafts/1/publish", f'"draft-{TOO_BIG}"'),
    ],
)
def test_an_if_match_version_past_the_database_is_a_422(d: Desk, path: str, header: str) -> None:
    before = d.counts()
    response = d.client.post(path, headers=d.headers("planner", **{"If-Match": header}))
    body = assert_problem(response, 422, "invalid-input")
    assert "If-Match" in body["detail"]
    assert d.counts() == before
