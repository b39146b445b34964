"""What each key may read of a case: a patrol its own reports, the reporter's contact the desk only;
and a key never in a URL of the API nor in a log line."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import httpx
import pytest
import uvicorn
from conftest_cases import Desk, assert_problem, desk_fixtures, picture
from fastapi import FastAPI

from gridsvc.api.logredact import redact

app, d = desk_fixtures("privacy", both_backends=True)

REPORTER = "李四 13800138000"  # a citizen's name and phone, as a patrol writes them down


def report(d: Desk, who: str = "patrol") -> dict[str, Any]:
    response = d.report(who, reporter=REPORTER, description="门口乱设摊")
    assert response.status_code == 201, response.text
    return response.json()


# ---- a patrol reads its own reports only ------------------------------------------------------


def test_a_patrol_reads_its_own_report(d: Desk) -> None:
    case = report(d, "patrol")
    assert d.get(case["id"], "patrol").status_code == 200


def test_a_patrol_reading_another_patrols_case_gets_404(d: Desk) -> None:
    """Finding: any key, a patrol's included, read any case by id."""
    case = report(d, "patrol-2")
    mine = d.get(case["id"], "patrol")
    body = assert_problem(mine, 404, "not-found")
    nowhere = assert_problem(d.get(10**9, "patrol"), 404, "not-found")
    assert body["detail"] == f"no case with id {case['id']}"  # the same as for no case at all
    assert nowhere["detail"] == "no case with id 1000000000"
    assert d.get(case["id"], "patrol-2").status_code == 200


def test_a_patrol_gets_404_for_another_patrols_photo_and_actions(d: Desk) -> None:
    case = report(d, "patrol-2")
    files = {"file": ("现场.png", picture("PNG"), "image/png")}
    url = f"/api/v1/cases/{case['id']}/attachments"
    photo = d.client.post(url, headers=d.headers("patrol-2"), files=files)
    assert photo.status_code == 201, photo.text
    read = d.client.get(f"{url}/{photo.json()['id']}", headers=d.headers("patrol"))
    assert_problem(read, 404, "not-found")
    stale = d.act(case["id"], "dispatch", "patrol", 99)  # a wrong ETag named the case number
    assert_problem(stale, 404, "not-found")
    assert case["number"] not in stale.text


def test_a_case_a_dispatcher_reported_is_no_patrols(d: Desk) -> None:
    """Own is by key: a case another key reported (or loaded history, with none) is not."""
    case = report(d, "dispatcher")
    assert d.get(case["id"], "dispatcher").status_code == 200
    assert_problem(d.get(case["id"], "patrol"), 404, "not-found")


# ---- the reporter's contact: dispatchers and admins only --------------------------------------


@pytest.mark.parametrize("who", ["leader", "handler-D01", "patrol", "planner"])
def test_the_reporter_is_hidden_from(d: Desk, who: str) -> None:
    """Finding: every key read the reporter's name and phone."""
    case = report(d, "patrol" if who != "patrol" else who)
    response = d.get(case["id"], who)
    assert response.status_code == 200, response.text
    view = response.json()
    assert "reporter" not in view
    assert view["history"][0]["action"] == "report" and view["history"][0]["actor"] == ""
    assert "reporter_key" not in view["history"][0]["data"]
    assert "李四" not in response.text and "13800138000" not in response.text


@pytest.mark.parametrize("who", ["dispatcher", "admin"])
def test_the_reporter_is_shown_to(d: Desk, who: str) -> None:
    case = report(d)
    view = d.get(case["id"], who).json()
    assert view["reporter"] == REPORTER
    assert view["history"][0]["actor"] == "patrol"  # the key that reported


def test_the_intake_answer_and_an_action_answer_hide_the_reporter(d: Desk) -> None:
    case = report(d)  # the patrol's own answer
    assert "reporter" not in case and "李四" not in str(case)
    dispatched = d.step(case, "dispatch", "dispatcher")
    assert dispatched["reporter"] == REPORTER
    accepted = d.step(dispatched, "accept", "handler-D01")
    assert "reporter" not in accepted and "李四" not in str(accepted)


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/api/v1/cases", "leader"),
        ("/api/v1/cases", "dispatcher"),
        ("/api/v1/cases.csv", "handler-D01"),
        ("/api/v1/supervision", "leader"),
        ("/ogc/collections/cases/items?limit=1000", "planner"),
    ],
)
def test_lists_and_files_carry_no_reporter(d: Desk, path: str, who: str) -> None:
    case = report(d)
    response = d.client.get(path, headers=d.headers(who))
    assert response.status_code == 200, response.text
    if path.startswith("/api/v1/cases") and not path.endswith(".csv"):
        assert case["number"] in response.text  # the case is there, its reporter not
    assert "李四" not in response.text and "reporter" not in response.text


# ---- keys in URLs and in logs ------------------------------------------------------------------


def test_a_key_in_the_url_of_the_api_is_refused_and_bearer_works(d: Desk) -> None:
    """Finding: ?api_key= was taken on every route."""
    key = d.key("dispatcher")
    refused = d.client.get(f"/api/v1/cases?api_key={key}")
    body = assert_problem(refused, 401, "unauthenticated")
    assert "Authorization: Bearer" in body["detail"] and key not in refused.text
    assert d.client.get("/api/v1/cases", headers=d.headers("dispatcher")).status_code == 200
    intake = d.client.post(f"/api/v1/reports?api_key={d.key('patrol')}", json={})
    assert_problem(intake, 401, "unauthenticated")
    ogc = d.client.get(f"/ogc/collections/cases/items?api_key={key}")
    assert_problem(ogc, 401, "unauthenticated")


@pytest.mark.parametrize(
    "line",
    [
        '127.0.0.1:5 - "GET /maps/coverage?api_key=gs_AbC-123_xyzxyzxyzxyzxyz&lang=en HTTP/1.1" 200',
        "GET /dashboard?lang=zh&API_KEY=secret-value HTTP/1.1",
        "api%5Fkey=secret-value",
        "headers: {'authorization': 'Bearer gs_AbC-123_xyzxyzxyzxyzxyz'}",
        "Authorization: Bearer secret-value",
        "a key gs_AbC-123_xyzxyzxyzxyzxyz alone",
    ],
)
def test_redact_removes_every_key(line: str) -> None:
    out = redact(line)
    assert "secret-value" not in out and "gs_AbC" not in out
    assert "[redacted]" in out


@pytest.fixture
def live(app: FastAPI) -> Any:
    """The app under a real uvicorn with its access log on, logging to the root (caplog)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=True)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_the_access_log_shows_no_key(live: str, d: Desk, caplog: pytest.LogCaptureFixture) -> None:
    """Finding: ?api_key= landed in uvicorn's access log in clear."""
    key = d.key("leader")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        page = httpx.get(f"{live}/maps/coverage?api_key={key}&lang=en", timeout=30)
        api = httpx.get(f"{live}/api/v1/cases?api_key={key}", timeout=30)
        deadline = time.monotonic() + 5
        while len([r for r in caplog.records if r.name == "uvicorn.access"]) < 2:
            assert time.monotonic() < deadline, caplog.text
            time.sleep(0.05)
    assert page.status_code == 200 and api.status_code == 401
    access = [r for r in caplog.records if r.name == "uvicorn.access"]
    text = "\n".join(r.getMessage() for r in access)
    assert "/maps/coverage?api_key=[redacted]&lang=en" in text
    assert key not in caplog.text
