"""OGC API – Features read back by GDAL's OAPIF driver (as QGIS does) from a running server.

The server runs as a subprocess: GDAL makes its HTTP calls while holding the
interpreter, so a server thread in the test process could never answer.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyogrio
import pytest
import shapely

from gridsvc.core.layers import LayerKind
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key
from gridsvc.services.setup import load_demo
from gridsvc.store import reference
from gridsvc.store.engine import make_engine, upgrade

KINDS = ["jurisdiction", "units", "grids", "committees", "cells", "streets"]
EPSG_4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    tmp = tmp_path_factory.mktemp("ogc")
    url = f"sqlite:///{tmp}/g.db"
    upgrade(url)
    engine = make_engine(url)
    load_demo(
        engine,
        Path(__file__).resolve().parents[2] / "data" / "demo",
        history=False,
        say=lambda _: None,
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GRIDSVC_DATABASE_URL": url, "GRIDSVC_ATTACHMENTS_DIR": str(tmp / "att")}
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "gridsvc.api.app:create_app",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}/ogc"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "the server did not start"
            time.sleep(0.2)
        keys = {role: create_key(engine, role, role.value) for role in (Role.PATROL, Role.LEADER)}
        yield {"base": base, "engine": engine, "keys": keys}
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def test_gdal_lists_every_collection(server: dict[str, object]) -> None:
    layers = {name for name, _ in pyogrio.list_layers(f"OAPIF:{server['base']}")}
    assert layers == {*KINDS, "cases"}


@pytest.mark.parametrize("kind", KINDS)
def test_gdal_reads_each_collection_as_stored(server: dict[str, object], kind: str) -> None:
    read = pyogrio.read_dataframe(f"OAPIF:{server['base']}", layer=kind)
    with server["engine"].connect() as conn:  # type: ignore[attr-defined]
        version = reference.active_versions(conn)[LayerKind(kind)]
        stored = reference.load_layer(conn, LayerKind(kind), version).frame
    assert read.crs.to_epsg() == 4490
    assert sorted(read["code"]) == sorted(stored["code"])
    by_code = stored.set_index("code")
    for code, name, geom in zip(read["code"], read["name"], read.geometry, strict=True):
        assert name == by_code.loc[code, "name"]  # Chinese names survive the round trip
        assert shapely.equals_exact(geom, by_code.loc[code, "geometry"], tolerance=1e-9)


def test_pages_follow_next_links(server: dict[str, object]) -> None:
    first = httpx.get(
        f"{server['base']}/collections/cells/items", params={"limit": 100}, timeout=10
    ).json()
    assert first["numberReturned"] == 100 and first["numberMatched"] > 500
    seen = {f["id"] for f in first["features"]}
    page = first
    while nxt := next((link["href"] for link in page["links"] if link["rel"] == "next"), None):
        page = httpx.get(nxt, timeout=10).json()
        seen |= {f["id"] for f in page["features"]}
    assert len(seen) == first["numberMatched"]


def test_bbox_selects_features_that_intersect(server: dict[str, object]) -> None:
    box = (121.445, 31.328, 121.452, 31.332)
    body = httpx.get(
        f"{server['base']}/collections/grids/items",
        timeout=10,
        params={"bbox": ",".join(map(str, box))},
    ).json()
    everything = httpx.get(f"{server['base']}/collections/grids/items", timeout=10).json()
    expected = {
        f["id"]
        for f in everything["features"]
        if shapely.geometry.shape(f["geometry"]).intersects(shapely.box(*box))
    }
    assert {f["id"] for f in body["features"]} == expected and 0 < len(expected) < 14


def test_epsg_4490_answers_latitude_first(server: dict[str, object]) -> None:
    response = httpx.get(
        f"{server['base']}/collections/grids/items/310106113G01",
        params={"crs": EPSG_4490},
        timeout=10,
    )
    assert response.headers["content-crs"] == f"<{EPSG_4490}>"
    lat, lon = response.json()["geometry"]["coordinates"][0][0]
    assert 31 < lat < 32 and 121 < lon < 122


def test_projected_crs_is_in_metres(server: dict[str, object]) -> None:
    crs = "http://www.opengis.net/def/crs/EPSG/0/4549"
    feature = httpx.get(
        f"{server['base']}/collections/grids/items/310106113G01", params={"crs": crs}, timeout=10
    ).json()
    northing, easting = feature["geometry"]["coordinates"][0][0]
    # 121.45°E is ~137 km east of the 120°E central meridian (false easting 500 km)
    assert 3_400_000 < northing < 3_500_000 and 620_000 < easting < 650_000


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/collections/nope", {}, 404),
        ("/collections/grids/items/NOPE", {}, 404),
        ("/collections/grids/items", {"crs": "http://www.opengis.net/def/crs/EPSG/0/3857"}, 422),
        ("/collections/grids/items", {"bbox": "1,2,3"}, 422),
        ("/collections/grids/items", {"limit": 0}, 422),
        ("/collections/grids/items", {"version": 9999}, 404),
        # past the 64-bit ids the database stores: a 422 naming version, never a 500
        ("/collections/grids/items", {"version": 2**63}, 422),
        ("/collections/grids/items/G01", {"version": 2**63}, 422),
        ("/collections/grids/items", {"version": 0}, 422),
        # nan passes float() and fails every comparison: it matched every feature
        ("/collections/grids/items", {"bbox": "nan,nan,nan,nan"}, 422),
        ("/collections/grids/items", {"bbox": "121,31,inf,32"}, 422),
    ],
)
def test_bad_requests_are_problems(
    server: dict[str, object], path: str, params: dict[str, object], status: int
) -> None:
    response = httpx.get(f"{server['base']}{path}", params=params, timeout=10)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


def test_a_version_id_reads_that_version(server: dict[str, object]) -> None:
    with server["engine"].connect() as conn:  # type: ignore[attr-defined]
        version = reference.active_versions(conn)[LayerKind.UNITS]
    body = httpx.get(
        f"{server['base']}/collections/units/items", params={"version": version}, timeout=10
    ).json()
    assert body["numberMatched"] == 3
    wrong_kind = httpx.get(
        f"{server['base']}/collections/grids/items", params={"version": version}, timeout=10
    )
    assert wrong_kind.status_code == 404


def _report(server: dict[str, object], lon: float, lat: float) -> dict[str, object]:
    api = str(server["base"]).removesuffix("/ogc")
    patrol = server["keys"][Role.PATROL]  # type: ignore[index]
    response = httpx.post(
        f"{api}/api/v1/reports",
        headers={"Authorization": f"Bearer {patrol}"},
        json={"lon": lon, "lat": lat, "category": "CG01"},
        timeout=10,
    )
    assert response.status_code == 201
    return response.json()


def test_gdal_reads_cases_with_a_leader_key(server: dict[str, object]) -> None:
    made = {_report(server, 121.45 + i * 0.001, 31.33)["number"] for i in range(3)}
    leader = server["keys"][Role.LEADER]  # type: ignore[index]
    # OAPIF sends its own Accept header, which overrides GDAL_HTTP_HEADERS; bearer auth is separate
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": leader})
    try:
        cases = pyogrio.read_dataframe(f"OAPIF:{server['base']}", layer="cases")
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None})
    assert made <= set(cases["number"])
    assert cases.geometry.geom_type.eq("Point").all()


def test_cases_need_a_role_that_may_see_them(server: dict[str, object]) -> None:
    url = f"{server['base']}/collections/cases/items"
    assert httpx.get(url, timeout=10).status_code == 401
    patrol = server["keys"][Role.PATROL]  # type: ignore[index]
    assert (
        httpx.get(url, headers={"Authorization": f"Bearer {patrol}"}, timeout=10).status_code == 403
    )


def test_cases_filtered_by_datetime(server: dict[str, object]) -> None:
    _report(server, 121.452, 31.331)
    leader = {"Authorization": f"Bearer {server['keys'][Role.LEADER]}"}  # type: ignore[index]
    url = f"{server['base']}/collections/cases/items"
    everything = httpx.get(url, headers=leader, timeout=10).json()["numberMatched"]
    assert everything >= 1
    future = httpx.get(
        url, headers=leader, params={"datetime": "2999-01-01T00:00:00Z/.."}, timeout=10
    ).json()
    past = httpx.get(
        url, headers=leader, params={"datetime": "../2999-01-01T00:00:00Z"}, timeout=10
    ).json()
    assert future["numberMatched"] == 0 and past["numberMatched"] == everything
    bad = httpx.get(url, headers=leader, params={"datetime": "yesterday"}, timeout=10)
    assert bad.status_code == 422


def test_openapi_says_items_are_geojson_as_they_are_served(server: dict[str, object]) -> None:
    """OGC API - Features clients pick the feature routes by their documented media type."""
    base = str(server["base"])
    paths = httpx.get(base.removesuffix("/ogc") + "/openapi.json", timeout=10).json()["paths"]
    for path in (
        "/ogc/collections/{collection_id}/items",
        "/ogc/collections/{collection_id}/items/{fid}",
        "/ogc/collections/cases/items",
    ):
        assert list(paths[path]["get"]["responses"]["200"]["content"]) == ["application/geo+json"]
    served = httpx.get(f"{base}/collections/grids/items", params={"limit": 1}, timeout=10)
    assert served.headers["content-type"].startswith("application/geo+json")
    assert served.json()["type"] == "FeatureCollection"
