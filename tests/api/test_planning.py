"""The planner's path through HTTP: upload a redrawn grid layer, validate, preview, publish."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gridsvc.api.app import create_app
from gridsvc.config import DEMO_DIR, Settings
from gridsvc.core.layers import LayerKind
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key
from gridsvc.store import reference, schema

SPLIT, MERGE_A, MERGE_B, NEW = "310106113G01", "310106113G02", "310106113G05", "310106113G15"


def redrawn_grids() -> gpd.GeoDataFrame:
    """The demo grids with G01 cut in two (west half becomes G15) and G05 merged into G02."""
    grids = gpd.read_file(DEMO_DIR / "shifan.gpkg", layer="grids", engine="pyogrio")
    g01 = grids.loc[grids["code"] == SPLIT, "geometry"].iloc[0]
    minx, miny, maxx, maxy = g01.bounds
    middle = (minx + maxx) / 2
    west = g01.intersection(shapely.box(minx - 1, miny - 1, middle, maxy + 1))
    east = g01.difference(shapely.box(minx - 1, miny - 1, middle, maxy + 1))
    merged = shapely.coverage_union_all(
        grids.loc[grids["code"].isin([MERGE_A, MERGE_B]), "geometry"].values
    )
    grids.loc[grids["code"] == SPLIT, "geometry"] = east
    grids.loc[grids["code"] == MERGE_A, "geometry"] = merged
    grids = grids[grids["code"] != MERGE_B]
    new = grids[grids["code"] == SPLIT].copy()
    new["code"], new["name"], new["geometry"] = NEW, "第十五责任网格", [west]
    return gpd.GeoDataFrame(pd.concat([grids, new], ignore_index=True), crs=grids.crs)


def as_geojson(frame: gpd.GeoDataFrame) -> bytes:
    return frame.to_json().encode()


@pytest.fixture()
def town(tmp_path: Path, db_url: str) -> tuple[FastAPI, TestClient, dict[str, str], dict[str, str]]:
    """A fresh town, on SQLite and then on PostgreSQL."""
    app = create_app(Settings(database_url=db_url, attachments_dir=tmp_path / "att"))
    planner = {"Authorization": f"Bearer {create_key(app.state.engine, Role.PLANNER, '规划员')}"}
    patrol = {"Authorization": f"Bearer {create_key(app.state.engine, Role.PATROL, 'P1')}"}
    return app, TestClient(app), planner, patrol


def _versions(app: FastAPI) -> int:
    with app.state.engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(schema.layer_versions)).scalar_one()
        )


def _upload(client: TestClient, headers: dict[str, str], name: str, data: bytes) -> object:
    return client.post(
        "/api/v1/layers/grids/drafts",
        headers=headers,
        files={"file": (name, data)},
        data={"label": "2027 redraw"},
    )


def test_split_merge_validate_preview_publish(
    town: tuple[FastAPI, TestClient, dict[str, str], dict[str, str]],
) -> None:
    app, client, planner, patrol = town
    grids = redrawn_grids()
    west = grids.loc[grids["code"] == NEW, "geometry"].iloc[0].representative_point()
    in_g05 = gpd.read_file(DEMO_DIR / "shifan.gpkg", layer="grids", engine="pyogrio")
    g05_point = in_g05.loc[in_g05["code"] == MERGE_B, "geometry"].iloc[0].representative_point()
    cases = {}
    for name, p in (("west", west), ("g05", g05_point)):
        answer = client.post(
            "/api/v1/reports", headers=patrol, json={"lon": p.x, "lat": p.y, "category": "CG01"}
        ).json()
        cases[name] = answer
    assert cases["west"]["grid_code"] == SPLIT and cases["g05"]["grid_code"] == MERGE_B

    draft = _upload(client, planner, "grids.geojson", as_geojson(grids))
    assert draft.status_code == 201, draft.text
    body = draft.json()
    assert body["validation"]["blocking"] == 0 and body["features"] == 14

    impact = client.get(f"/api/v1/layers/grids/drafts/{body['id']}/impact", headers=planner).json()
    assert impact["features"]["added"] == [NEW] and impact["features"]["removed"] == [MERGE_B]
    changed = {c["code"] for c in impact["features"]["changed"]}
    assert {SPLIT, MERGE_A} <= changed
    moves = {m["id"]: m for m in impact["moved_cases"]}
    assert moves[cases["west"]["id"]]["to"]["grid_code"] == NEW
    assert moves[cases["g05"]["id"]]["to"]["grid_code"] == MERGE_A
    workload = {w["grid_code"]: w for w in impact["workload"]}
    assert workload[MERGE_B]["area_km2_after"] == 0 and workload[NEW]["area_km2_before"] == 0

    versions = client.get("/api/v1/layers/grids/versions", headers=planner).json()
    active = next(v["id"] for v in versions if v["status"] == "published")
    stale = client.post(
        f"/api/v1/layers/grids/drafts/{body['id']}/publish",
        headers={**planner, "If-Match": f'"draft-{body["id"]}", "active-{active + 100}"'},
    )
    assert stale.status_code == 412
    missing = client.post(f"/api/v1/layers/grids/drafts/{body['id']}/publish", headers=planner)
    assert missing.status_code == 428
    published = client.post(
        f"/api/v1/layers/grids/drafts/{body['id']}/publish",
        headers={**planner, "If-Match": f'"draft-{body["id"]}", "active-{active}"'},
    )
    assert published.status_code == 200, published.text
    assert published.json()["reassigned"] >= 2

    moved = client.get(f"/api/v1/cases/{cases['west']['id']}", headers=planner).json()
    assert moved["grid_code"] == NEW
    assert moved["history"][-1]["action"] == "reassign"
    assert moved["layer_versions"]["grids"] == body["id"]
    # the live matcher follows the new version, and the old one still answers for the past
    now = client.get("/api/v1/match", params={"lon": west.x, "lat": west.y}).json()
    assert now["grid_code"] == NEW
    again = client.post(
        f"/api/v1/layers/grids/drafts/{body['id']}/publish",
        headers={**planner, "If-Match": f'"draft-{body["id"]}", "active-{body["id"]}"'},
    )
    assert again.status_code == 409

    stale_rollback = client.post(
        "/api/v1/layers/grids/rollback", headers={**planner, "If-Match": '"active-1"'}
    )
    assert stale_rollback.status_code == 412
    rolled = client.post(
        "/api/v1/layers/grids/rollback", headers={**planner, "If-Match": f'"active-{body["id"]}"'}
    )
    assert rolled.status_code == 200 and rolled.json()["restored"] == active
    back = client.get(f"/api/v1/cases/{cases['west']['id']}", headers=planner).json()
    assert back["grid_code"] == SPLIT and [h["action"] for h in back["history"]][-2:] == [
        "reassign",
        "reassign",
    ]
    assert (
        client.get("/api/v1/match", params={"lon": west.x, "lat": west.y}).json()["grid_code"]
        == SPLIT
    )


def test_a_draft_with_overlaps_cannot_be_published(
    town: tuple[FastAPI, TestClient, dict[str, str], dict[str, str]],
) -> None:
    app, client, planner, _ = town
    grids = gpd.read_file(DEMO_DIR / "shifan.gpkg", layer="grids", engine="pyogrio")
    grids.loc[grids["code"] == SPLIT, "geometry"] = grids.loc[
        grids["code"] == SPLIT, "geometry"
    ].buffer(0.001)
    body = _upload(client, planner, "grids.geojson", as_geojson(grids)).json()
    kinds = {p["kind"] for p in body["validation"]["problems"] if p["blocking"]}
    assert "overlap" in kinds
    versions = client.get("/api/v1/layers/grids/versions", headers=planner).json()
    active = next(v["id"] for v in versions if v["status"] == "published")
    refused = client.post(
        f"/api/v1/layers/grids/drafts/{body['id']}/publish",
        headers={**planner, "If-Match": f'"draft-{body["id"]}", "active-{active}"'},
    )
    assert refused.status_code == 422 and refused.json()["problems"]
    assert (
        client.get("/api/v1/layers/grids/versions", headers=planner).json()[0]["status"] == "draft"
    )


def test_a_planner_reads_the_drafts_problems_in_chinese(
    town: tuple[FastAPI, TestClient, dict[str, str], dict[str, str]],
) -> None:
    """The upload's report, the validation and a refused publish say each problem in the
    page's language: Chinese asked for, English otherwise (the tests' clients send en)."""
    app, client, planner, _ = town
    grids = gpd.read_file(DEMO_DIR / "shifan.gpkg", layer="grids", engine="pyogrio")
    grids.loc[grids["code"] == SPLIT, "geometry"] = grids.loc[
        grids["code"] == SPLIT, "geometry"
    ].buffer(0.001)
    zh = {**planner, "Accept-Language": "zh"}
    body = _upload(client, zh, "grids.geojson", as_geojson(grids)).json()
    overlaps = [p for p in body["validation"]["problems"] if p["kind"] == "overlap"]
    assert overlaps and all("重叠" in p["message"] for p in overlaps), overlaps
    draft = f"/api/v1/layers/grids/drafts/{body['id']}"
    english = client.get(f"{draft}/validation", headers=planner).json()["problems"]
    assert any("overlap by" in p["message"] for p in english)
    versions = client.get("/api/v1/layers/grids/versions", headers=planner).json()
    active = next(v["id"] for v in versions if v["status"] == "published")
    refused = client.post(
        f"{draft}/publish", headers={**zh, "If-Match": f'"draft-{body["id"]}", "active-{active}"'}
    )
    assert refused.status_code == 422
    assert any("重叠" in p["message"] for p in refused.json()["problems"])


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("grids.txt", b"hello", 422),
        ("grids.geojson", b"{not json", 400),
        ("grids.zip", b"PK not a zip", 422),
        ("grids.zip", _zip({"../../etc/passwd.shp": b"x"}), 422),
        ("grids.zip", _zip({"bomb.shp": b"\0" * 50_000_000}), 422),
        ("grids.zip", _zip({"readme.txt": b"no shapefile"}), 400),
        ("grids.geojson", b'{"type":"FeatureCollection","features":[]}', 422),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_written(
    town: tuple[FastAPI, TestClient, dict[str, str], dict[str, str]],
    name: str,
    data: bytes,
    status: int,
) -> None:
    app, client, planner, _ = town
    before = _versions(app)
    response = _upload(client, planner, name, data)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert _versions(app) == before


def _demo_grids_editing(code: str) -> tuple[dict, dict]:  # type: ignore[type-arg]
    """The demo grids as a GeoJSON mapping, and the feature of ``code`` in it to edit."""
    collection = json.loads(as_geojson(gpd.read_file(DEMO_DIR / "shifan.gpkg", layer="grids")))
    [feature] = [f for f in collection["features"] if f["properties"]["code"] == code]
    return collection, feature


def _with_geometry(code: str, geometry: str | None) -> bytes:
    """The demo grids as GeoJSON text with one grid's geometry replaced by ``geometry``
    (JSON text, NaN allowed as GDAL reads it): what a hand edit can leave behind."""
    collection, feature = _demo_grids_editing(code)
    feature["geometry"] = "@@"
    return json.dumps(collection).replace('"@@"', geometry or "null").encode()


@pytest.mark.parametrize(
    "geometry",
    [
        None,
        '{"type": "Polygon", "coordinates": [[[121.44, 31.32]]]}',  # a ring of one point
        '{"type": "Polygon", "coordinates": [[[121.44, 31.32], [121.45, 31.32]]]}',
        '{"type": "Polygon", "coordinates": [[[NaN, 31.32], [121.45, 31.32], [121.45, 31.33], [NaN, 31.32]]]}',
    ],
    ids=["null", "one-point-ring", "two-point-ring", "nan"],
)
def test_a_feature_without_a_readable_geometry_is_named_and_blocks_publication(
    town: tuple[FastAPI, TestClient, dict[str, str], dict[str, str]], geometry: str | None
) -> None:
    """GEOS cannot build these (a 500 until 2026-12-05): the draft is kept with the
    feature named as having no geometry, the preview still works, publishing is refused."""
    app, client, planner, _ = town
    response = _upload(client, planner, "grids.geojson", _with_geometry(SPLIT, geometry))
    assert response.status_code == 201, response.text
    draft = response.json()
    empty = [p for p in draft["validation"]["problems"] if p["kind"] == "empty-geometry"]
    assert [p["codes"] for p in empty] == [[SPLIT]] and empty[0]["blocking"]
    impact = client.get(f"/api/v1/layers/grids/drafts/{draft['id']}/impact", headers=planner)
    assert impact.status_code == 200, impact.text
    before = _versions(app)
    publish = client.post(
        f"/api/v1/layers/grids/drafts/{draft['id']}/publish",
        headers=planner | {"If-Match": f'"draft-{draft["id"]}"'},
    )
    assert publish.status_code == 422 and _versions(app) == before


def test_a_layer_with_no_geometry_at_all_has_no_impact_to_show(
    town: tuple[FastAPI, TestClient, dict[str, str], dict[str, str]],
) -> None:
    _, client, planner, _ = town
    lone = {"code": SPLIT, "name": "网格", "parent_code": "310106113U1"}
    data = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": lone, "geometry": None}],
        }
    ).encode()
    draft = _upload(client, planner, "grids.geojson", data).json()
    for url in (
        f"/api/v1/layers/grids/drafts/{draft['id']}/impact",
        f"/maps/impact/grids/{draft['id']}",
    ):
        response = client.get(url, headers=planner)
        assert response.status_code == 422, response.text
        assert "no feature with a geometry" in response.json()["detail"]


@pytest.mark.parametrize(
    ("code", "kind"), [(MERGE_A, "duplicate-code"), (None, "missing-code")], ids=["twice", "none"]
)
def test_a_code_used_twice_or_missing_is_refused_naming_it_and_nothing_is_written(
    town: tuple[FastAPI, TestClient, dict[str, str], dict[str, str]], code: str | None, kind: str
) -> None:
    """Drafts are stored by code (a 500 for a repeated one until 2026-12-05)."""
    app, client, planner, _ = town
    before = _versions(app)
    collection, feature = _demo_grids_editing(SPLIT)
    feature["properties"]["code"] = code  # SPLIT's polygon now under another grid's code
    response = _upload(client, planner, "grids.geojson", json.dumps(collection).encode())
    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    assert [p["kind"] for p in problems] == [kind]
    if code:
        assert problems[0]["codes"] == [code] and "2 grids" in problems[0]["message"]
    assert _versions(app) == before


def test_only_planners_upload(
    town: tuple[FastAPI, TestClient, dict[str, str], dict[str, str]],
) -> None:
    app, client, _, patrol = town
    response = _upload(client, patrol, "grids.geojson", as_geojson(redrawn_grids()))
    assert response.status_code == 403 and _versions(app) == 6


def test_workload_counts_street_kilometres(
    town: tuple[FastAPI, TestClient, dict[str, str], dict[str, str]],
) -> None:
    app, client, planner, _ = town
    body = _upload(client, planner, "grids.geojson", as_geojson(redrawn_grids())).json()
    workload = {
        w["grid_code"]: w
        for w in client.get(
            f"/api/v1/layers/grids/drafts/{body['id']}/impact", headers=planner
        ).json()["workload"]
    }
    streets = gpd.read_file(DEMO_DIR / "shifan.gpkg", layer="streets", engine="pyogrio").to_crs(
        4549
    )
    total_km = streets.length.sum() / 1000
    # streets lie inside the town, so the grids share out all of them, before and after
    assert sum(w["street_km_before"] for w in workload.values()) == pytest.approx(
        total_km, rel=0.01
    )
    assert sum(w["street_km_after"] for w in workload.values()) == pytest.approx(total_km, rel=0.01)
    merged = workload[MERGE_A]
    assert (
        merged["street_km_after"] > merged["street_km_before"]
        and workload[MERGE_B]["street_km_after"] == 0
    )


def _bowtie_grids() -> gpd.GeoDataFrame:
    """The demo grids with G01 drawn as a self-intersecting bow tie over its own bounds."""
    grids = gpd.read_file(DEMO_DIR / "shifan.gpkg", layer="grids", engine="pyogrio")
    minx, miny, maxx, maxy = grids.loc[grids["code"] == SPLIT, "geometry"].iloc[0].bounds
    bowtie = shapely.Polygon([(minx, miny), (maxx, maxy), (maxx, miny), (minx, maxy)])
    grids.loc[grids["code"] == SPLIT, "geometry"] = bowtie
    return grids


def test_repairs_run_only_when_asked_and_are_listed(
    town: tuple[FastAPI, TestClient, dict[str, str], dict[str, str]],
) -> None:
    _, client, planner, _ = town
    data = as_geojson(_bowtie_grids())
    plain = _upload(client, planner, "grids.geojson", data).json()
    assert plain["repairs"] == []
    assert any(
        p["kind"] == "invalid-geometry" and SPLIT in p["codes"]
        for p in plain["validation"]["problems"]
    )
    repaired = client.post(
        "/api/v1/layers/grids/drafts",
        headers=planner,
        files={"file": ("grids.geojson", data)},
        data={"repair": "make_valid"},
    ).json()
    assert [(r["repair"], r["code"]) for r in repaired["repairs"]] == [("make_valid", SPLIT)]
    assert "Self-intersection" in repaired["repairs"][0]["detail"]
    assert not any(p["kind"] == "invalid-geometry" for p in repaired["validation"]["problems"])


def test_close_slivers_closes_a_small_gap_against_the_unit_and_lists_it(
    town: tuple[FastAPI, TestClient, dict[str, str], dict[str, str]],
) -> None:
    _, client, planner, _ = town
    grids = gpd.read_file(DEMO_DIR / "shifan.gpkg", layer="grids", engine="pyogrio")
    shape = grids.loc[grids["code"] == SPLIT, "geometry"].iloc[0]
    notch = shapely.Point(shape.exterior.coords[0]).buffer(2e-5)  # a ~2 m bite at a corner
    grids.loc[grids["code"] == SPLIT, "geometry"] = shape.difference(notch)
    data = as_geojson(grids)
    plain = _upload(client, planner, "grids.geojson", data).json()
    slivers = [p for p in plain["validation"]["problems"] if p["kind"] == "sliver"]
    assert slivers and all(p["blocking"] for p in slivers)
    repaired = client.post(
        "/api/v1/layers/grids/drafts",
        headers=planner,
        files={"file": ("grids.geojson", data)},
        data={"repair": "close_slivers"},
    ).json()
    assert {r["repair"] for r in repaired["repairs"]} == {"close_slivers"}
    assert all("gap of" in r["detail"] for r in repaired["repairs"])
    assert repaired["validation"]["blocking"] == 0


def test_unknown_repair_is_refused_before_anything_is_stored(
    town: tuple[FastAPI, TestClient, dict[str, str], dict[str, str]],
) -> None:
    app, client, planner, _ = town
    before = _versions(app)
    response = client.post(
        "/api/v1/layers/grids/drafts",
        headers=planner,
        files={"file": ("grids.geojson", as_geojson(_bowtie_grids()))},
        data={"repair": "guess"},
    )
    assert response.status_code == 422 and "offered: make_valid, snap" in response.json()["detail"]
    assert _versions(app) == before


def test_an_unchanged_draft_moves_no_case_not_even_one_placed_outside(
    town: tuple[FastAPI, TestClient, dict[str, str], dict[str, str]],
) -> None:
    from conftest_cases import INSIDE, NEAR_OUTSIDE, matters

    _, client, planner, patrol = town
    outside_ok = next(code for code, m in matters().items() if m["allow_outside"] == "1")
    for point, category in ((INSIDE, "CG01"), (NEAR_OUTSIDE, outside_ok)):
        body = {"lon": point[0], "lat": point[1], "crs": "cgcs2000", "category": category}
        assert client.post("/api/v1/reports", headers=patrol, json=body).status_code == 201
    grids = gpd.read_file(DEMO_DIR / "shifan.gpkg", layer="grids", engine="pyogrio")
    draft = _upload(client, planner, "grids.geojson", as_geojson(grids)).json()
    impact = client.get(f"/api/v1/layers/grids/drafts/{draft['id']}/impact", headers=planner)
    assert impact.json()["cases_checked"] == 2
    assert impact.json()["moved_cases"] == []


def test_a_draft_is_read_over_ogc_by_planners_only_and_is_a_404_to_anyone_else(
    town: tuple[FastAPI, TestClient, dict[str, str], dict[str, str]],
) -> None:
    app, client, planner, patrol = town
    draft = _upload(client, planner, "redraw.geojson", as_geojson(redrawn_grids())).json()
    url = "/ogc/collections/grids/items"
    missing = client.get(url, params={"version": 10_000})
    for who in ({}, patrol):
        refused = client.get(url, params={"version": draft["id"]}, headers=who)
        assert refused.status_code == 404
        assert refused.json()["detail"].replace(str(draft["id"]), "N") == missing.json()[
            "detail"
        ].replace("10000", "N")  # the same answer as for a version that does not exist
        one = client.get(f"{url}/{SPLIT}", params={"version": draft["id"]}, headers=who)
        assert one.status_code == 404
    read = client.get(url, params={"version": draft["id"]}, headers=planner)
    assert read.status_code == 200
    assert read.json()["numberMatched"] == len(redrawn_grids())
    with app.state.engine.connect() as conn:
        published = reference.active_versions(conn)[LayerKind.GRIDS]
    assert client.get(url, params={"version": published}).status_code == 200  # public
