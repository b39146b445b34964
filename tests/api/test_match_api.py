"""GET /api/v1/match on the demo town, checked the way a client of the API would.

Expected answers are worked out here from the GeoPackage with geopandas, not
from the matcher, so the test and the service cannot share a mistake.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import pytest
import shapely
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gridsvc.api.app import create_app
from gridsvc.api.routes.match import get_matcher
from gridsvc.config import Settings
from gridsvc.core.crs import wgs84_to_gcj02
from gridsvc.core.errors import StorageUnavailable

PROBLEM_JSON = "application/problem+json"
MATCH = "/api/v1/match"
WORK_CRS = "EPSG:4549"  # CGCS2000 Gauss-Krüger 120°E, the zone the README measures in
STREET_RADIUS_M = 50.0


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The service on the demo town, with a fresh database of its own."""
    database = tmp_path_factory.mktemp("api") / "gridsvc.db"
    return create_app(Settings(database_url=f"sqlite:///{database}"))


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def town() -> dict[str, gpd.GeoDataFrame]:
    path = Settings().town_file
    return {
        name: gpd.read_file(path, layer=name).sort_values("code").reset_index(drop=True)
        for name in ("grids", "committees", "streets")
    }


def _get(client: TestClient, **params: Any) -> Any:
    return client.get(MATCH, params={k: str(v) for k, v in params.items()})


def _assert_problem(response: Any, status: int, type_suffix: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["type"].endswith("/" + type_suffix), body
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    return body


def _expected_street(streets: gpd.GeoDataFrame, point: shapely.Point) -> tuple[Any, Any, Any]:
    """Nearest street within the radius, lowest code on a tie; (None, None, None) when none."""
    projected = streets.to_crs(WORK_CRS)
    here = gpd.GeoSeries([point], crs="EPSG:4490").to_crs(WORK_CRS).iloc[0]
    distance = projected.distance(here)
    near = projected.assign(distance=distance)[distance <= STREET_RADIUS_M]
    if near.empty:
        return None, None, None
    best = near.sort_values(["distance", "code"]).iloc[0]
    return best["code"], best["name"], float(best["distance"])


@pytest.mark.parametrize("grid_index", range(14))
def test_interior_point_of_each_grid(
    client: TestClient, town: dict[str, gpd.GeoDataFrame], grid_index: int
) -> None:
    grid = town["grids"].iloc[grid_index]
    point = grid.geometry.representative_point()
    committee = town["committees"][town["committees"].contains(point)]
    assert len(committee) == 1  # the test's own premise: an interior point of one committee
    street_id, street_name, street_m = _expected_street(town["streets"], point)

    response = _get(client, lon=point.x, lat=point.y)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["status"] == "matched"
    assert body["reason"] is None
    assert body["grid_code"] == grid["code"]
    assert body["grid_name"] == grid["name"]
    assert body["unit_code"] == grid["parent_code"]
    assert body["team"] == grid["team"]
    assert body["committee_code"] == committee["code"].iloc[0]
    assert body["street_id"] == street_id
    assert body["street_name"] == street_name
    if street_m is None:
        assert body["street_distance_m"] is None
    else:
        assert body["street_distance_m"] == pytest.approx(street_m, abs=0.02)
    assert body["boundary_distance_m"] is None
    assert body["lon"] == pytest.approx(point.x) and body["lat"] == pytest.approx(point.y)


def test_some_interior_point_has_a_street_nearby(
    client: TestClient, town: dict[str, gpd.GeoDataFrame]
) -> None:
    """The street part of the answer is exercised, not only its 'None' branch."""
    points = [g.representative_point() for g in town["grids"].geometry]
    with_street = [p for p in points if _expected_street(town["streets"], p)[0] is not None]
    assert with_street
    body = _get(client, lon=with_street[0].x, lat=with_street[0].y).json()
    assert 0 <= body["street_distance_m"] <= STREET_RADIUS_M


def _shared_vertex(grids: gpd.GeoDataFrame) -> tuple[tuple[float, float], list[str]]:
    """A vertex on the boundary of exactly two grids, and the codes of those grids."""
    for i in range(len(grids)):
        for j in range(i + 1, len(grids)):
            a, b = grids.geometry.iloc[i], grids.geometry.iloc[j]
            common = set(map(tuple, shapely.get_coordinates(a.exterior))) & set(
                map(tuple, shapely.get_coordinates(b.exterior))
            )
            for xy in sorted(common):
                holders = grids[grids.intersects(shapely.Point(xy))]["code"].tolist()
                if len(holders) == 2:
                    return xy, holders
    raise AssertionError("the demo grids share no vertex")


def test_point_on_a_shared_vertex_goes_to_the_lower_code(
    client: TestClient, town: dict[str, gpd.GeoDataFrame]
) -> None:
    (x, y), holders = _shared_vertex(town["grids"])
    response = client.get(MATCH, params={"lon": repr(float(x)), "lat": repr(float(y))})
    assert response.status_code == 200
    assert response.json()["status"] == "matched"
    assert response.json()["grid_code"] == min(holders)


def test_gcj02_input_of_a_wgs84_point_matches_the_same_grid(
    client: TestClient, town: dict[str, gpd.GeoDataFrame]
) -> None:
    for grid in town["grids"].itertuples():
        point = grid.geometry.representative_point()
        gx, gy = wgs84_to_gcj02(point.x, point.y)
        body = _get(client, lon=float(gx), lat=float(gy), crs="gcj02").json()
        assert body["grid_code"] == grid.code
        assert body["lon"] == pytest.approx(point.x, abs=1e-7)
        assert body["lat"] == pytest.approx(point.y, abs=1e-7)


def test_a_point_in_africa_is_outside_with_nothing_to_measure(client: TestClient) -> None:
    """The town's Gauss-Krüger zone has no coordinates there: still an answer, not a 500."""
    response = _get(client, lon=25.0, lat=0.0)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "outside" and body["grid_code"] is None
    assert body["nearest_grid_code"] is None and body["boundary_distance_m"] is None
    assert "too far" in body["reason"]


def test_far_outside_point_is_outside_with_distance_and_nearest_grid(client: TestClient) -> None:
    response = _get(client, lon=121.6, lat=31.2)  # ~18 km south-east of the town
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "outside"
    assert body["grid_code"] is None and body["unit_code"] is None and body["team"] is None
    assert body["boundary_distance_m"] > 10_000
    assert body["nearest_grid_code"].startswith("310106113G")
    assert body["reason"]


def test_swapped_coordinates_are_refused(
    client: TestClient, town: dict[str, gpd.GeoDataFrame]
) -> None:
    point = town["grids"].geometry.iloc[0].representative_point()
    body = _assert_problem(_get(client, lon=point.y, lat=point.x), 422, "swapped-coordinates")
    assert body["instance"] == MATCH


@pytest.mark.parametrize(
    ("params", "type_suffix"),
    [
        ({"lon": 200, "lat": 31.33}, "coordinates-out-of-range"),
        ({"lon": 121.45, "lat": -91}, "coordinates-out-of-range"),
        ({"lon": "abc", "lat": 31.33}, "request-validation"),
        ({"lat": 31.33}, "request-validation"),
        ({"lon": 121.45, "lat": 31.33, "crs": "mars"}, "unknown-crs"),
        ({"lon": 121.45, "lat": 31.33, "crs": "EPSG:99999"}, "unknown-crs"),
    ],
)
def test_bad_requests_are_422_problems(
    client: TestClient, params: dict[str, Any], type_suffix: str
) -> None:
    _assert_problem(_get(client, **params), 422, type_suffix)


def test_non_numeric_lon_names_the_field(client: TestClient) -> None:
    body = _assert_problem(_get(client, lon="abc", lat=31.33), 422, "request-validation")
    assert "lon" in body["detail"]


@pytest.mark.parametrize("method", ["DELETE", "PUT", "TRACE"])
def test_a_method_the_path_does_not_take_is_405_naming_those_it_does(
    client: TestClient, method: str
) -> None:
    """RFC 9110: a 405 carries Allow; in the problem form, and in Open311's own."""
    response = client.request(method, "/api/v1/match", params={"lon": 121.45, "lat": 31.33})
    _assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["allow"]
    open311 = client.request(method, "/open311/v2/services.json")
    assert open311.status_code == 405
    assert open311.json() == [{"code": 405, "description": "Method Not Allowed"}]
    assert "GET" in open311.headers["allow"]


def test_unknown_path_is_a_404_problem(client: TestClient) -> None:
    _assert_problem(client.get("/api/v1/nowhere"), 404, "not-found")


def test_openapi_lists_the_match_route(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    operation = response.json()["paths"]["/api/v1/match"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"lon", "lat", "crs"}


def test_openapi_documents_errors_as_they_are_answered(client: TestClient) -> None:
    """Every operation's errors are documented as problem details (Open311's list under
    /open311), and a real 422 has every member the documented schema requires."""
    document = client.get("/openapi.json").json()
    problem = document["components"]["schemas"]["Problem"]
    assert "HTTPValidationError" not in str(document)
    for path, operations in document["paths"].items():
        media, form = (
            ("application/json", "Open311Errors")
            if path.startswith("/open311/")
            else ("application/problem+json", "Problem")
        )
        for method, operation in operations.items():
            for status in {"default", "422"} & set(operation["responses"]):
                schema = operation["responses"][status]["content"][media]["schema"]
                assert schema == {"$ref": f"#/components/schemas/{form}"}, (method, path)
            assert "default" in operation["responses"], (method, path)
    answer = _get(client, lon="abc", lat=31.33)
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert set(problem["required"]) <= set(answer.json())
    types = {"string": str, "integer": int}
    for name, spec in problem["properties"].items():
        assert isinstance(answer.json()[name], types[spec["type"]]), name


def test_openapi_documents_the_report_body_and_headers(client: TestClient) -> None:
    """The intake route reads its body itself; its schema is declared by hand, and must
    still tell a client what to send."""
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/reports"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["required"]) == {"lon", "lat", "category"}
    assert {"crs", "description", "severity", "reporter", "client_time"} <= set(
        schema["properties"]
    )
    assert {p["name"].lower() for p in operation["parameters"]} == {
        "authorization",
        "idempotency-key",
    }
    assert "201" in operation["responses"]


@pytest.mark.parametrize(
    "error",
    [RuntimeError("db password hunter2 at /srv/secret"), StorageUnavailable("db hunter2 down")],
)
def test_server_errors_tell_the_client_nothing_internal(app: FastAPI, error: Exception) -> None:
    def broken() -> None:
        raise error

    app.dependency_overrides[get_matcher] = broken
    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            response = _get(c, lon=121.45, lat=31.33)
    finally:
        app.dependency_overrides.clear()
    assert response.status_code >= 500
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert response.json()["status"] == response.status_code
