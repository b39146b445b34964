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
from dataclasses import replace
from functools import cache
from pathlib import Path

import geopandas as gpd
import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from georeport import GeoReport
from sqlalchemy import func, select

from gridsvc.api.app import create_app
from gridsvc.config import DEMO_DIR, Settings
from gridsvc.core.routing import ResponsibilityList
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key
from gridsvc.store import schema

INSIDE = (121.45, 31.33)  # lon, lat inside 示范镇


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    tmp = tmp_path_factory.mktemp("open311")
    settings = Settings(
        database_url=f"sqlite:///{tmp}/g.db",
        attachments_dir=tmp / "att",
        anonymous_rate_per_minute=100_000,
    )
    app = create_app(settings)
    keys = {
        role: create_key(
            app.state.engine, role, f"{role.value}-1", "D01" if role == Role.HANDLER else None
        )
        for role in (Role.PATROL, Role.HANDLER, Role.DISPATCHER, Role.LEADER)
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
    request = _lookup(server, number, Role.DISPATCHER)[0]  # a dispatcher sees where it is
    assert request["service_code"] == "CG01"
    assert request["status"] == "open"
    assert request["lat"] == pytest.approx(INSIDE[1]) and request["long"] == pytest.approx(
        INSIDE[0]
    )
    assert request["description"] == "路口乱设摊"
    assert request["agency_responsible"] == "WS06"  # the team of the grid at that point
    assert "reporter" not in request  # never the reporter
    public = GeoReport(str(server["root"])).get_service_request(number)  # a stock client
    assert public["service_code"] == "CG01" and public["agency_responsible"] == "WS06"
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


def _lookup(
    server: dict[str, object], ids: str, role: Role | None = None, fmt: str = "json"
) -> list[dict[str, object]]:
    key = server["keys"][role] if role else None  # type: ignore[index]
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = httpx.get(
        f"{server['root']}/requests.{fmt}",
        params={"service_request_id": ids},
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json() if fmt == "json" else [{"xml": response.text}]


@cache
def grid_points() -> dict[str, tuple[float, float]]:
    """Each demo grid's point on surface, as geopandas computes it from the file."""
    frame = gpd.read_file(DEMO_DIR / "shifan.gpkg", layer="grids")
    surface = frame.geometry.representative_point()
    return {str(c): (p.x, p.y) for c, p in zip(frame["code"], surface, strict=True)}


def _anonymous_views(server: dict[str, object], number: str) -> list[dict[str, object]]:
    """The same request read without a key in every way Open311 offers (both lookups, search)."""
    root = server["root"]
    one = httpx.get(f"{root}/requests/{number}.json", timeout=10).json()
    search = httpx.get(f"{root}/requests.json", params={"service_code": "CG01"}, timeout=10)
    listed = [r for r in search.json() if r["service_request_id"] == number]
    return [*_lookup(server, number), *one, *listed]


def test_strangers_see_the_grid_not_the_door_nor_the_words(server: dict[str, object]) -> None:
    """Finding: a lookup by id without a key showed the description, address and exact point."""
    number = _post(server, description="王阿姨家门口乱设摊", address_string="顺华路708号").json()[
        0
    ]["service_request_id"]
    grid = "310106113G11"  # the grid at INSIDE (test_post_creates_the_same_case_...)
    views = _anonymous_views(server, number)
    assert len(views) == 3
    for view in views:
        assert view["description"] == "" and view["address"] == "" and view["status_notes"] == ""
        assert (view["long"], view["lat"]) == pytest.approx(grid_points()[grid], abs=1e-6)
        assert (view["long"], view["lat"]) != pytest.approx(INSIDE, abs=1e-4)
    [xml] = _lookup(server, number, fmt="xml")
    assert "王阿姨" not in str(xml["xml"]) and "顺华路708号" not in str(xml["xml"])
    for role in (Role.PATROL, Role.LEADER):  # a key of another role shows no more
        [keyed] = _lookup(server, number, role)
        assert keyed["description"] == "" and keyed["address"] == ""
    [full] = _lookup(server, number, Role.DISPATCHER)
    assert full["description"] == "王阿姨家门口乱设摊" and full["address"] == "顺华路708号"


def test_a_public_matter_shows_its_words_but_not_its_point(server: dict[str, object]) -> None:
    app = server["app"]
    service = app.state.cases  # type: ignore[attr-defined]
    before = service.matters
    service.matters = ResponsibilityList(
        replace(m, public=m.code == "CG01")
        for m in before  # as a list with public=1 reads
    )
    try:
        number = _post(server, description="路灯不亮", address_string="静泰路").json()[0][
            "service_request_id"
        ]
        [view] = _lookup(server, number)
    finally:
        service.matters = before
    assert view["description"] == "路灯不亮" and view["address"] == "静泰路"
    assert (view["long"], view["lat"]) == pytest.approx(grid_points()["310106113G11"], abs=1e-6)


def test_a_lookup_takes_at_most_50_ids(server: dict[str, object]) -> None:
    ids = ",".join(f"2026-{n:07d}" for n in range(1, 52))
    response = httpx.get(
        f"{server['root']}/requests.json", params={"service_request_id": ids}, timeout=10
    )
    assert response.status_code == 422
    assert "at most 50" in response.json()[0]["description"]


@pytest.mark.parametrize(
    ("headers", "query", "needle"),
    [
        ({"Authorization": "Bearer gs_never-issued"}, "", "unknown"),
        ({}, "?api_key=gs_never-issued", "not accepted"),
    ],
)
def test_a_bad_key_on_a_read_is_refused(
    server: dict[str, object], headers: dict[str, str], query: str, needle: str
) -> None:
    response = httpx.get(f"{server['root']}/requests.json{query}", headers=headers, timeout=10)
    assert response.status_code == 401
    assert needle in response.json()[0]["description"]


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/requests.json", "GET, OPTIONS, POST"),
        ("/requests.xml", "GET, OPTIONS, POST"),
        ("/requests/2026-0000001.json", "GET, OPTIONS"),
        ("/services.json", "GET, OPTIONS"),
        ("/services/CG01.xml", "GET, OPTIONS"),
        ("/tokens/2026-0000001.json", "GET, OPTIONS"),
    ],
)
def test_options_names_the_methods_of_the_path(
    server: dict[str, object], path: str, allow: str
) -> None:
    """Finding: OPTIONS of requests.json was a 405 naming POST only."""
    response = httpx.options(f"{server['root']}{path}", timeout=10)
    assert response.status_code == 204
    assert response.headers["allow"] == allow


def test_strangers_are_rate_limited_by_address_each_id_counting(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/g.db",
        attachments_dir=tmp_path / "att",
        anonymous_rate_per_minute=1,  # a burst of 50, then one a minute
    )
    app = create_app(settings)
    dispatcher = create_key(app.state.engine, Role.DISPATCHER, "调度")
    with TestClient(app) as client:
        ids = ",".join(f"2026-{n:07d}" for n in range(1, 50))  # 49 ids: 49 of the 50
        assert (
            client.get("/open311/v2/requests.json", params={"service_request_id": ids}).status_code
            == 404
        )
        assert client.get("/open311/v2/services.json").status_code == 200  # not counted
        assert client.get("/open311/v2/requests.json").status_code == 200  # the 50th
        refused = client.get("/open311/v2/requests.json")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert "without an API key" in refused.json()[0]["description"]
        keyed = client.get(
            "/open311/v2/requests.json", headers={"Authorization": f"Bearer {dispatcher}"}
        )
        assert keyed.status_code == 200
