"""The matrix of endpoints x roles: who may report, read a case, dispatch or defer it,
and read the evaluation.

Every cell is walked with a real key of that role (handlers are bound to
D01, the department a CG01 case is routed to), plus no key and an unknown
key. A refused call must leave the case as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest_cases import INSIDE, REPORTS, Desk, assert_problem, build_app, desk
from fastapi import FastAPI

ROLES = ["patrol", "dispatcher", "handler-D01", "planner", "leader", "admin"]
ANONYMOUS = [None, "unknown"]

#: expected status per endpoint and caller ("unknown" sends a key nobody issued)
MATRIX: dict[str, dict[str | None, int]] = {
    "POST /api/v1/reports": {
        "patrol": 201, "dispatcher": 201, "handler-D01": 403,
        "planner": 403, "leader": 403, "admin": 201,
        None: 401, "unknown": 401,
    },
    "GET /api/v1/cases/{id}": {
        "patrol": 200, "dispatcher": 200, "handler-D01": 200,
        "planner": 200, "leader": 200, "admin": 200,
        None: 401, "unknown": 401,
    },
    "POST /api/v1/cases/{id}/dispatch": {
        "patrol": 403, "dispatcher": 200, "handler-D01": 403,
        "planner": 403, "leader": 403, "admin": 200,
        None: 401, "unknown": 401,
    },
    "POST /api/v1/cases/{id}/defer": {
        "patrol": 403, "dispatcher": 200, "handler-D01": 403,
        "planner": 403, "leader": 403, "admin": 200,
        None: 401, "unknown": 401,
    },
    "GET /api/v1/evaluation": {
        "patrol": 403, "dispatcher": 200, "handler-D01": 403,
        "planner": 403, "leader": 200, "admin": 200,
        None: 401, "unknown": 401,
    },
}  # fmt: skip

#: A deferral is for a case in a department's hands, and needs a reason.
DISPATCHED_FIRST = {"POST /api/v1/cases/{id}/defer"}
BODY = {"POST /api/v1/cases/{id}/defer": {"reason": "等待法院裁定"}}


def _this_week() -> dict[str, str]:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return {"from": str(today - timedelta(days=6)), "to": str(today)}


CELLS = [
    pytest.param(endpoint, who, status, id=f"{endpoint} as {who or 'anonymous'}")
    for endpoint, row in MATRIX.items()
    for who, status in row.items()
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return build_app(tmp_path_factory, "roles")


@pytest.fixture(scope="module")
def d(app: FastAPI) -> Iterator[Desk]:
    yield from desk(app)


def test_matrix_covers_every_role_and_endpoint() -> None:
    for row in MATRIX.values():
        assert set(row) == {*ROLES, *ANONYMOUS}


@pytest.mark.parametrize(("endpoint", "who", "status"), CELLS)
def test_role_matrix(d: Desk, endpoint: str, who: str | None, status: int) -> None:
    case = d.new_case("CG01")  # a fresh reported case for every cell
    if endpoint in DISPATCHED_FIRST:
        case = d.step(case, "dispatch", "dispatcher")
    before = d.counts()
    headers = {"Authorization": "Bearer gs_never-issued"} if who == "unknown" else d.headers(who)
    method, path = endpoint.split(" ")
    path = path.replace("{id}", str(case["id"]))
    if endpoint == "POST /api/v1/reports":
        body = {"lon": INSIDE[0], "lat": INSIDE[1], "crs": "cgcs2000", "category": "CG01"}
        response = d.client.post(REPORTS, json=body, headers=headers)
    elif method == "GET":
        query = _this_week() if endpoint == "GET /api/v1/evaluation" else None
        response = d.client.get(path, headers=headers, params=query)
    else:
        response = d.client.post(
            path, headers=headers | {"If-Match": f'"{case["etag"]}"'}, json=BODY.get(endpoint)
        )

    if status >= 400:
        code = {401: "unauthenticated", 403: "forbidden"}[status]
        assert_problem(response, status, code)
        assert d.counts() == before  # a refused call writes nothing
        assert d.get(case["id"]).json()["etag"] == case["etag"]
        return
    assert response.status_code == status, response.text
    view = response.json()
    if endpoint == "POST /api/v1/reports":
        assert view["status"] == "reported" and d.counts()[0] == before[0] + 1
    elif endpoint == "GET /api/v1/evaluation":
        assert view["by"] == "grid" and view["total"]["reported"] >= 1  # this cell's case
    elif method == "GET":
        assert view["id"] == case["id"] and view["history"]
        assert response.headers["etag"] == f'"{case["etag"]}"'
    else:
        assert view["status"] == "dispatched"  # dispatched, or deferred and still dispatched
        assert view["history"][-1]["action"] == endpoint.rpartition("/")[2]
        assert view["history"][-1]["actor"] == who and view["history"][-1]["role"] == who
