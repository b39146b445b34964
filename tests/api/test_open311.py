"""Open311 GeoReport v2, exercised with a stock client (the `georeport` package) over real HTTP.

georeport has no POST, so requests are created with a plain form POST exactly
as the spec describes; everything else goes through the client unchanged,
in JSON and in XML.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from georeport import GeoReport
from sqlalchemy import func, select

from gridsvc.api.app import create_app
from gridsvc.config import Settings
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key
from gridsvc.store import schema

INSIDE = (121.45, 31.33)  # lon, lat inside 示范镇


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    tmp = tmp_path_factory.mktemp("open311")
    app = create_app(Settings(database_url=f"sqlite:///{tmp}/g.db", attachments_dir=tmp / "att"))
    keys = {
        role: create_key(
            app.state.engine, role, f"{role.value}-1", "D01" if role == Role.HANDLER else None
        )
        for role in (Role.PATROL, Role.HANDLER)
    }
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield {"root": f"http://127.0.0.1:{port}/open311/v2", "keys": keys, "app": app}
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def _post(server: dict[str, object], fmt: str = "json", **fields: object) -> httpx.Response:
    data = {
        "api_key": server["keys"][Role.PATROL],
        "service_code": "CG01",  # type: ignore[index]
        "lat": INSIDE[1],
        "long": INSIDE[0],
        "description": "路口乱设摊",
    }
    data.update({k: v for k, v in fields.items() if v is not None})
    data = {k: v for k, v in data.items() if v != "__omit__"}
    return httpx.post(f"{server['root']}/requests.{fmt}", data=data, timeout=10)


def _count_cases(server: dict[str, object]) -> int:
    with server["app"].state.engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(select(func.count()).select_from(schema.cases)).scalar_one())


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_list_is_the_responsibility_list(server: dict[str, object], fmt: str) -> None:
    services = GeoReport(str(server["root"]), output_format=fmt).get_service_list()
    codes = {s["service_code"] for s in services}
    assert len(services) == 40 and {"CG01", "CG02"} <= codes
    stall = next(s for s in services if s["service_code"] == "CG01")
    assert stall["service_name"] == "乱设摊"
    assert stall["type"] == "realtime"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition_offers_severity(server: dict[str, object], fmt: str) -> None:
    definition = GeoReport(str(server["root"]), output_format=fmt).get_service_definition("CG01")
    assert definition["service_code"] == "CG01"
    text = str(definition["attributes"])
    assert "severity" in text and "singlevaluelist" in text


def test_post_creates_the_same_case_as_the_native_api(server: dict[str, object]) -> None:
    response = _post(server, **{"attribute[severity]": 3})
    assert response.status_code == 201
    [answer] = response.json()
    number = answer["service_request_id"]
    client = GeoReport(str(server["root"]))
    request = client.get_service_request(number)
    assert request["service_code"] == "CG01"
    assert request["status"] == "open"
    assert request["lat"] == pytest.approx(INSIDE[1]) and request["long"] == pytest.approx(
        INSIDE[0]
    )
    assert request["agency_responsible"] == "WS06"  # the team of the grid at that point
    assert "reporter" not in request  # public fields only
    native = httpx.get(
        f"{str(server['root']).removesuffix('/open311/v2')}/api/v1/cases",
        headers={"Authorization": f"Bearer {server['keys'][Role.HANDLER]}"},  # type: ignore[index]
        params={"category": "CG01"},
        timeout=10,
    ).json()
    case = next(i for i in native["items"] if i["number"] == number)
    assert case["severity"] == 3 and case["supervision"]["colour"] == "red"
    assert case["grid_code"] == "310106113G11"


def test_search_filters_by_status_and_code(server: dict[str, object]) -> None:
    number = _post(server).json()[0]["service_request_id"]
    client = GeoReport(str(server["root"]))
    open_ones = client.get_service_requests(status="open", service_code="CG01")
    assert number in {r["service_request_id"] for r in open_ones}
    assert client.get_service_requests(status="closed", service_code="CG01") == []
    both = client.get_service_requests(service_request_id=number)
    assert [r["service_request_id"] for r in both] == [number]


def test_xml_request_reads_back(server: dict[str, object]) -> None:
    response = _post(server, fmt="xml")
    assert response.status_code == 201 and response.headers["content-type"].startswith(
        "application/xml"
    )
    assert "<service_request_id>" in response.text
    number = response.text.split("<service_request_id>")[1].split("<")[0]
    request = GeoReport(str(server["root"]), output_format="xml").get_service_request(number)
    assert request["service_request_id"] == number


@pytest.mark.parametrize(
    ("fields", "status", "needle"),
    [
        ({"service_code": "NOPE"}, 422, "unknown category"),
        ({"api_key": "__omit__"}, 401, "API key"),
        ({"api_key": "wrong"}, 401, "unknown"),
        ({"lat": 121.45, "long": 31.33}, 422, "swapped"),
        ({"lat": 31.0, "long": 121.9}, 422, "outside"),
        ({"lat": "abc"}, 422, "lat"),
    ],
)
def test_bad_posts_answer_in_the_spec_error_form_and_write_nothing(
    server: dict[str, object], fields: dict[str, object], status: int, needle: str
) -> None:
    before = _count_cases(server)
    response = _post(server, **fields)
    assert response.status_code == status
    [error] = response.json()
    assert error["code"] == status and needle in error["description"]
    assert _count_cases(server) == before


def test_handler_key_may_not_post(server: dict[str, object]) -> None:
    response = _post(server, api_key=server["keys"][Role.HANDLER])  # type: ignore[index]
    assert response.status_code == 403
    assert response.json()[0]["code"] == 403


def test_errors_in_xml(server: dict[str, object]) -> None:
    response = httpx.get(f"{server['root']}/requests/nope.xml", timeout=10)
    assert response.status_code == 404
    assert response.text.endswith(
        "<errors><error><code>404</code><description>no case numbered 'nope'</description></error></errors>"
    )


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("start_date=2025-01-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "90 days"),
        ("start_date=2026-01-02T00:00:00Z&end_date=2026-01-01T00:00:00Z", "before"),
        ("start_date=2026-01-01T00:00:00", "time zone"),
        ("status=pending", "status"),
    ],
)
def test_bad_searches(server: dict[str, object], query: str, needle: str) -> None:
    response = httpx.get(f"{server['root']}/requests.json?{query}", timeout=10)
    assert response.status_code == 422
    assert needle in response.json()[0]["description"]


def test_token_is_the_request_id(server: dict[str, object]) -> None:
    number = _post(server).json()[0]["service_request_id"]
    tokens = httpx.get(f"{server['root']}/tokens/{number}.json", timeout=10).json()
    assert tokens == [{"service_request_id": number, "token": number}]
