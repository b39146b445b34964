"""Requests made up from the OpenAPI document (schemathesis): no answer is a server error.

Schemathesis reads the app's own OpenAPI and sends, for every operation,
requests that fit the documented parameters and bodies and requests that
break them: huge ids, empty strings, control characters, wrong types, broken
multipart bodies. Every answer must be below 500, and every error must be the
form the path promises: problem details, or Open311's list under /open311.
Runs of this kind found the seven 500s fixed on 2026-12-05 (ids past 2^63, a
point where the Gauss-Krüger zone has no coordinates, a CSV with a stray
carriage return).

The first run's key is an admin's, which passes every role check, so the
requests reach the code behind it; a shorter run per other role (a patrol, a
handler bound to a department, a dispatcher, a leader, a planner) reaches the
branches that only a narrower key takes (a patrol's own reports, a handler's
department), where a refusal must still be a 4xx problem. The map and dashboard pages are left out: each render
takes a second, and their parameters are tested in tests/maps and
tests/api/test_maps_api.py.
"""

from __future__ import annotations

import pytest
import schemathesis
from conftest_cases import PROBLEM_JSON, Desk, desk_fixtures
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

EXAMPLES = 25  # per operation: about 50 operations, a minute on this machine
ROLE_EXAMPLES = 5  # per operation and narrower role: five roles, another minute


app, d = desk_fixtures("fuzz")


@pytest.fixture(scope="module")
def api(app: FastAPI, d: Desk) -> schemathesis.BaseSchema:
    d.new_case()  # something for the ids to find
    # a made-up wait=25 on the live queue would hold each example 25 s
    app.state.settings = app.state.settings.model_copy(update={"live_max_wait_s": 0.05})
    return schemathesis.openapi.from_asgi("/openapi.json", app).exclude(
        path_regex=r"^/(maps|dashboard)"
    )


def answered_well(case: schemathesis.Case, d: Desk, who: str = "admin") -> None:
    """One made-up request: below 500, and an error in the form its path promises."""
    response = case.call(headers=d.headers(who))
    where = f"{case.method} {case.formatted_path} -> {response.status_code}"
    assert response.status_code < 500, (where, response.text[:500])
    if response.status_code < 400:
        return
    media = (response.headers.get("content-type") or [""])[0]  # schemathesis: value lists
    if case.path.startswith("/open311/"):
        assert media.startswith(("application/json", "application/xml")), (where, media)
        if "json" in media:
            assert all({"code", "description"} <= set(e) for e in response.json()), where
    else:
        assert media.startswith(PROBLEM_JSON), (where, media)
        body = response.json()
        assert body["status"] == response.status_code and body["detail"], where


def test_no_request_is_answered_with_a_server_error(
    app: FastAPI, api: schemathesis.BaseSchema, d: Desk
) -> None:
    """Each operation in turn, with hypothesis shrinking a failure to its smallest request;
    every operation's first failure is reported, not only the first operation's."""
    fuzz_every_operation(app, api, d, "admin", EXAMPLES)


@pytest.mark.parametrize("who", ["patrol", "handler-D01", "dispatcher", "leader", "planner"])
def test_no_request_with_a_narrower_key_is_a_server_error(
    app: FastAPI, api: schemathesis.BaseSchema, d: Desk, who: str
) -> None:
    fuzz_every_operation(app, api, d, who, ROLE_EXAMPLES)


def fuzz_every_operation(
    app: FastAPI, api: schemathesis.BaseSchema, d: Desk, who: str, examples: int
) -> None:
    """Every documented operation with ``examples`` made-up requests as ``who``."""
    failures = []
    operations = [result.ok() for result in api.get_all_operations()]
    documented = [
        f"{method.upper()} {path}"
        for path, methods in app.openapi()["paths"].items()
        if not path.startswith(("/maps", "/dashboard"))
        for method in methods
    ]
    assert sorted(op.label for op in operations) == sorted(documented)  # the whole API
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
        def each(case: schemathesis.Case) -> None:
            answered_well(case, d, who)

        try:
            each()
        except Exception as failure:  # noqa: BLE001 - every operation is tried, all reported
            failures.append(f"{operation.label}: {failure}")
    assert not failures, "\n".join(failures)
