"""Editing a draft over OGC API – Features Part 4, as QGIS's OAPIF provider does it.

Against a running server (test_ogc's: GDAL reads over HTTP while holding the
interpreter, and two editors must really be at once): a client makes the
provider's requests in its order (landing, conformance, collections, OPTIONS
on items, items by bbox in the Gauss-Krüger zone, then writes with the ETags
it read and Content-Crs EPSG:4549) and follows the problems collection after
each edit; GDAL's OAPIF driver reads the edited draft back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from itertools import count
from typing import Any

import geopandas as gpd
import httpx
import pyogrio
import pytest
import shapely
from sqlalchemy import Engine
from test_ogc import server  # noqa: F401 (test_ogc's live server, shared)

from gridsvc.config import DEMO_DIR
from gridsvc.core.layers import LayerKind
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key
from gridsvc.store import draft_features, reference

GK = "http://www.opengis.net/def/crs/EPSG/0/4549"  # CGCS2000 Gauss-Krüger 120°E, north first
EPSG_4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"  # latitude first
PART4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"
PROBLEM_JSON = "application/problem+json"
PROBLEMS = "https://gridsvc.example/problems/"
GEOJSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"
_names = count()

Server = dict[str, Any]


@cache
def grids_geojson() -> bytes:
    return gpd.read_file(DEMO_DIR / "shifan.gpkg", layer="grids").to_json().encode()


def new_key(live: Server, role: Role) -> str:
    """A key of its own per test: the server's rate limit is per key."""
    return create_key(live["engine"], role, f"{role.value}-{next(_names)}")


@dataclass
class Qgis:
    """A client making the requests of QGIS's OAPIF provider, with a key (its auth config)."""

    base: str
    key: str | None

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        url = path if path.startswith("http") else self.base + path
        return httpx.request(method, url, headers=headers, timeout=30, **kw)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.call("GET", path, params=params or None)

    def write(
        self,
        method: str,
        path: str,
        body: Any,
        etag: str | None = None,
        crs: str = GK,
        answer: str | None = None,
    ) -> httpx.Response:
        """A write as the provider sends it: geo+json (merge-patch+json for PATCH) with the
        CRS of its geometry in Content-Crs; ``answer``: the CRS of the answer (?crs=)."""
        media = MERGE_PATCH if method == "PATCH" else GEOJSON
        headers = {"Content-Type": media, "Content-Crs": f"<{crs}>"}
        if etag is not None:
            headers["If-Match"] = etag
        content = body if isinstance(body, bytes) else httpx.Request("POST", "/", json=body).content
        params = {"crs": answer} if answer else None
        return self.call(method, path, headers=headers, content=content, params=params)


@pytest.fixture(scope="module")
def live(server: Server) -> Server:  # noqa: F811 (the fixture imported above)
    return server


@pytest.fixture
def planner(live: Server) -> Qgis:
    return Qgis(str(live["base"]), new_key(live, Role.PLANNER))


@pytest.fixture
def draft(planner: Qgis) -> int:
    """A fresh draft of the demo grids, uploaded as a planner does."""
    api = planner.base.removesuffix("/ogc")
    response = httpx.post(
        f"{api}/api/v1/layers/grids/drafts",
        headers={"Authorization": f"Bearer {planner.key}"},
        files={"file": ("grids.geojson", grids_geojson())},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def items_path(draft: int) -> str:
    return f"/collections/grids-draft-{draft}/items"


def stored(live: Server, draft: int) -> dict[str, dict[str, Any]]:
    """The draft's features as the database holds them: what a refused write leaves alone."""
    engine: Engine = live["engine"]
    with engine.connect() as conn:
        return {r["code"]: r for r in draft_features.features(conn, draft)}


# ---- geometry in EPSG:4549 as the provider sends it: (northing, easting) ---------------------


def metres(geometry: dict[str, Any]) -> shapely.Geometry:
    """A GeoJSON geometry in EPSG:4549's order as (easting, northing)."""
    return shapely.transform(shapely.geometry.shape(geometry), lambda xy: xy[:, ::-1])


def north_first(shape: shapely.Geometry) -> dict[str, Any]:
    return shapely.geometry.mapping(shapely.transform(shape, lambda xy: xy[:, ::-1]))


def neighbours(features: list[dict[str, Any]]) -> tuple[dict, dict, shapely.Point]:
    """Two features sharing over 100 m of boundary, and a point on it."""
    shapes = [metres(f["geometry"]) for f in features]
    for i, a in enumerate(shapes):
        for j in range(i + 1, len(shapes)):
            shared = a.boundary.intersection(shapes[j].boundary)
            if shared.length > 100:
                return features[i], features[j], shared.interpolate(0.5, normalized=True)
    raise AssertionError("no two neighbouring grids in the page")


def with_geometry(feature: dict[str, Any], shape: shapely.Geometry) -> dict[str, Any]:
    return {"type": "Feature", "properties": feature["properties"], "geometry": north_first(shape)}


def problems(client: Qgis, draft: int) -> list[dict[str, Any]]:
    response = client.get(f"/collections/grids-draft-{draft}-problems/items", limit=1000)
    assert response.status_code == 200, response.text
    return response.json()["features"]


def overlaps_of(found: list[dict[str, Any]], a: str, b: str) -> list[dict[str, Any]]:
    """The blocking overlaps of ``a`` and ``b`` (a reprojected edge may leave overlaps of
    a few mm², reported as one non-blocking problem: snap the boundaries)."""
    return [
        p
        for p in found
        if p["properties"]["kind"] in ("overlap", "sliver")
        and set(p["properties"]["codes"].split(", ")) == {a, b}
        and p["properties"]["blocking"]
    ]


def blocking(found: list[dict[str, Any]]) -> int:
    return sum(p["properties"]["blocking"] for p in found)


def allowed(response: httpx.Response) -> set[str]:
    return {m.strip() for m in response.headers["allow"].split(",")}


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    if code is not None:
        assert response.json()["type"] == PROBLEMS + code, response.json()


# ---- the provider's session, start to end ----------------------------------------------------


def test_qgis_connects_edits_and_sees_the_problems_follow(planner: Qgis, draft: int) -> None:
    landing = planner.get("").json()
    rels = {link["rel"]: link["href"] for link in landing["links"]}
    conformance = planner.get(rels["conformance"].removeprefix(planner.base)).json()
    assert {PART4 + c for c in ("create-replace-delete", "update", "features")} <= set(
        conformance["conformsTo"]
    )
    listed = {c["id"]: c for c in planner.get("/collections").json()["collections"]}
    collection = listed[f"grids-draft-{draft}"]
    assert f"grids-draft-{draft}-problems" in listed and GK in collection["crs"]
    items = next(link["href"] for link in collection["links"] if link["rel"] == "items")
    assert items == planner.base + items_path(draft)

    options = planner.call("OPTIONS", items_path(draft))
    assert options.status_code == 204 and allowed(options) == {"GET", "HEAD", "OPTIONS", "POST"}

    town = shapely.box(600_000, 3_400_000, 700_000, 3_500_000)  # (easting, northing)
    bbox = ",".join(str(v) for v in (3_400_000, 600_000, 3_500_000, 700_000))  # north first
    page = planner.get(items_path(draft), bbox=bbox, **{"bbox-crs": GK, "crs": GK, "limit": 1000})
    assert page.headers["content-crs"] == f"<{GK}>"
    features = page.json()["features"]
    assert features and all(metres(f["geometry"]).within(town) for f in features)
    a, b, at = neighbours(features)
    tags = {f["id"]: planner.get(f"{items_path(draft)}/{f['id']}").headers["etag"] for f in (a, b)}
    before = problems(planner, draft)

    # a boundary moved 20 m into the neighbour: an overlap of the two, where it was moved
    grown = metres(a["geometry"]).union(metres(b["geometry"]).intersection(at.buffer(20)))
    put = planner.write(
        "PUT", f"{items_path(draft)}/{a['id']}", with_geometry(a, grown), tags[a["id"]], answer=GK
    )
    assert put.status_code == 200, put.text
    assert put.headers["etag"] != tags[a["id"]]
    assert shapely.equals_exact(metres(put.json()["geometry"]), grown, tolerance=0.01)
    [overlap] = overlaps_of(problems(planner, draft), a["id"], b["id"])
    assert overlap["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert overlap["properties"]["area_m2"] == pytest.approx(3.14159 * 20**2 / 2, rel=0.2)
    assert overlap["properties"]["blocking"] is True and overlap["properties"]["message"]
    assert overlap["properties"]["title"] in ("重叠", "细小缝隙或重叠")

    # moved back by a geometry-only merge patch: the overlap is gone, the rest as before
    back = {"geometry": a["geometry"]}
    patched = planner.write("PATCH", f"{items_path(draft)}/{a['id']}", back, put.headers["etag"])
    assert patched.status_code == 200, patched.text
    after = problems(planner, draft)
    assert not overlaps_of(after, a["id"], b["id"]) and blocking(after) == blocking(before)

    # b deleted leaves a gap; a new grid drawn in its place fills it
    gone = planner.call(
        "DELETE", f"{items_path(draft)}/{b['id']}", headers={"If-Match": tags[b["id"]]}
    )
    assert gone.status_code == 204
    assert planner.get(f"{items_path(draft)}/{b['id']}").status_code == 404
    assert any(
        p["properties"]["kind"] == "gap" and p["properties"]["area_m2"] > 1000
        for p in problems(planner, draft)
    )
    new = {
        **with_geometry(b, metres(b["geometry"])),
        "properties": {**b["properties"], "code": "G-NEW"},
    }
    created = planner.write("POST", items_path(draft), new)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == planner.base + items_path(draft) + "/G-NEW"
    read = planner.get(f"{items_path(draft)}/G-NEW")
    assert read.headers["etag"] == created.headers["etag"]
    filled = problems(planner, draft)
    assert not [
        p for p in filled if p["properties"]["kind"] == "gap" and p["properties"]["blocking"]
    ]

    # an attribute-only patch (what the attribute table sends)
    renamed = planner.write(
        "PATCH",
        f"{items_path(draft)}/G-NEW",
        {"properties": {"name": "新网格"}},
        read.headers["etag"],
    )
    assert renamed.status_code == 200 and renamed.json()["properties"]["name"] == "新网格"


def test_gdal_reads_the_edited_draft_back(live: Server, planner: Qgis, draft: int) -> None:
    first = planner.get(items_path(draft), crs=GK, limit=1).json()["features"][0]
    etag = planner.get(f"{items_path(draft)}/{first['id']}").headers["etag"]
    shrunk = metres(first["geometry"]).buffer(-5)
    body = with_geometry(first, shrunk)
    body["properties"] = {**first["properties"], "name": "缩小的网格"}
    assert planner.write("PUT", f"{items_path(draft)}/{first['id']}", body, etag).status_code == 200

    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": planner.key})
    try:
        layers = {name for name, _ in pyogrio.list_layers(f"OAPIF:{planner.base}")}
        read = pyogrio.read_dataframe(f"OAPIF:{planner.base}", layer=f"grids-draft-{draft}")
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None})
    assert {f"grids-draft-{draft}", f"grids-draft-{draft}-problems"} <= layers
    assert sorted(read["code"]) == sorted(stored(live, draft))
    mine = read[read["code"] == first["id"]].iloc[0]
    assert mine["name"] == "缩小的网格"
    as_read = gpd.GeoSeries([mine.geometry], crs=read.crs).to_crs("EPSG:4549").iloc[0]
    assert as_read.symmetric_difference(shrunk).area < 0.01


def test_of_two_editors_with_the_same_etag_exactly_one_wins(
    live: Server, planner: Qgis, draft: int
) -> None:
    feature = planner.get(items_path(draft), crs=GK, limit=1).json()["features"][0]
    path = f"{items_path(draft)}/{feature['id']}"
    etag = planner.get(path).headers["etag"]
    start = threading.Barrier(2)
    statuses: list[int] = []

    def edit(metres_: float) -> None:
        body = with_geometry(feature, metres(feature["geometry"]).buffer(-metres_))
        start.wait()
        statuses.append(planner.write("PUT", path, body, etag).status_code)

    threads = [threading.Thread(target=edit, args=(m,)) for m in (2.0, 4.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 412]
    assert planner.get(path).headers["etag"] != etag


# ---- what is refused, and that it writes nothing ---------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_published_collection_refuses_writes_with_405(
    live: Server, planner: Qgis, method: str
) -> None:
    code = planner.get("/collections/grids/items", limit=1).json()["features"][0]["id"]
    path = "/collections/grids/items" + ("" if method == "POST" else f"/{code}")
    before = planner.get(path).content
    response = planner.write(method, path, {"type": "Feature", "properties": {}, "geometry": None})
    assert_problem(response, 405, "method-not-allowed")
    assert allowed(response) == {"GET", "HEAD", "OPTIONS"}
    assert planner.get(path).content == before
    for where in ("/collections/grids/items", f"/collections/grids/items/{code}"):
        options = planner.call("OPTIONS", where)
        assert options.status_code == 204 and allowed(options) == {"GET", "HEAD", "OPTIONS"}
        head = planner.call("HEAD", where)  # what Allow names is served (HEAD was a 405)
        assert head.status_code == 200 and not head.content
    cases = planner.write(
        method, "/collections/cases/items" + path[len("/collections/grids/items") :], {}
    )
    assert_problem(cases, 405, "method-not-allowed")


def test_options_name_what_a_planner_may_do_on_an_item_and_the_problems(
    planner: Qgis, draft: int
) -> None:
    code = planner.get(items_path(draft), limit=1).json()["features"][0]["id"]
    on_item = planner.call("OPTIONS", f"{items_path(draft)}/{code}")
    assert on_item.status_code == 204
    assert allowed(on_item) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"}
    assert on_item.headers["accept-patch"] == MERGE_PATCH
    problems_items = f"/collections/grids-draft-{draft}-problems/items"
    assert allowed(planner.call("OPTIONS", problems_items)) == {"GET", "HEAD", "OPTIONS"}
    refused = planner.write("POST", problems_items, {"type": "Feature"})
    assert_problem(refused, 405, "method-not-allowed")
    assert allowed(refused) == {"GET", "HEAD", "OPTIONS"}
    assert refused.json()["detail"].startswith(f"the problems of draft {draft} are read-only")
    # in the request's language (the tests' clients ask for English)
    chinese = planner.call("DELETE", problems_items + "/1", headers={"Accept-Language": "zh"})
    assert chinese.status_code == 405 and allowed(chinese) == {"GET", "HEAD", "OPTIONS"}
    assert chinese.json()["detail"].startswith(f"草案 {draft} 的问题是只读的")
    head = planner.call("HEAD", f"{items_path(draft)}/{code}")
    assert head.status_code == 200 and head.headers["etag"] and not head.content


@pytest.mark.parametrize("role", [Role.PATROL, Role.DISPATCHER, Role.LEADER])
def test_other_roles_find_no_draft_and_no_key_is_asked_for_one(
    live: Server, planner: Qgis, draft: int, role: Role
) -> None:
    code = next(iter(stored(live, draft)))
    other = Qgis(planner.base, new_key(live, role))
    anonymous = Qgis(planner.base, None)
    listed = {c["id"] for c in other.get("/collections").json()["collections"]}
    assert not any("draft" in c for c in listed) and "grids" in listed
    before = stored(live, draft)
    feature = {"type": "Feature", "properties": {"code": "X1"}, "geometry": None}
    for client, status in ((other, 404), (anonymous, 401)):
        for response in (
            client.get(f"/collections/grids-draft-{draft}"),
            client.get(items_path(draft)),
            client.get(f"{items_path(draft)}/{code}"),
            client.get(f"/collections/grids-draft-{draft}-problems/items"),
            client.call("OPTIONS", items_path(draft)),
            client.write("POST", items_path(draft), feature),
            client.write("PUT", f"{items_path(draft)}/{code}", feature, '"x"'),
            client.call("DELETE", f"{items_path(draft)}/{code}", headers={"If-Match": '"x"'}),
        ):
            assert_problem(response, status, "not-found" if status == 404 else "unauthenticated")
    assert stored(live, draft) == before


def square(lon: float = 121.4427, lat: float = 31.3396, side: float = 0.0005) -> dict[str, Any]:
    """A small square in CRS84 (lon, lat), inside the town."""
    return shapely.geometry.mapping(shapely.box(lon, lat, lon + side, lat + side))


def feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"code": "G-BAD", **properties}, "geometry": geometry}


CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
BAD_BODIES: list[Any] = [
    pytest.param(b"{not json", GEOJSON, CRS84, 422, "invalid-input", id="not JSON"),
    pytest.param([feature(square())], GEOJSON, CRS84, 422, "invalid-input", id="a list"),
    pytest.param({"type": "FeatureCollection", "features": []}, GEOJSON, CRS84, 422,
                 "invalid-input", id="a collection"),
    pytest.param(feature(None), GEOJSON, CRS84, 422, "invalid-input", id="no geometry"),
    pytest.param(feature({"type": "Polygon", "coordinates": [[[121.44, 31.33], [121.45, 31.34]]]}),
                 GEOJSON, CRS84, 422, "invalid-input", id="a ring GEOS cannot build"),
    pytest.param(feature({"type": "Polygon", "coordinates": "abc"}), GEOJSON, CRS84, 422,
                 "invalid-input", id="coordinates not numbers"),
    pytest.param(feature({"type": "LineString", "coordinates": [[121.44, 31.33], [121.45, 31.34]]}),
                 GEOJSON, CRS84, 422, "invalid-input", id="a line for a grid"),
    pytest.param(feature(square(lon=500.0)), GEOJSON, CRS84, 422, "invalid-input",
                 id="longitude 500"),
    pytest.param(feature({"type": "Polygon", "coordinates": [[[1e12, 1e12], [1e12, 2e12],
                 [2e12, 2e12], [1e12, 1e12]]]}), GEOJSON, GK, 422, "invalid-input",
                 id="metres off the Earth"),
    pytest.param(feature(square(), ward={"nested": 1}), GEOJSON, CRS84, 422, "invalid-input",
                 id="a nested property"),
    pytest.param(feature(square(), name=["a"]), GEOJSON, CRS84, 422, "invalid-input",
                 id="a name that is a list"),
    pytest.param(feature(square()), "text/plain", CRS84, 415, "unsupported-media-type",
                 id="not geo+json"),
    pytest.param(feature(square()), GEOJSON, "http://www.opengis.net/def/crs/EPSG/0/3857", 422,
                 "invalid-input", id="a CRS not offered"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "media", "crs", "status", "code"), BAD_BODIES)
def test_a_bad_body_is_a_problem_and_nothing_is_written(
    live: Server,
    planner: Qgis,
    draft: int,
    body: Any,
    media: str,
    crs: str,
    status: int,
    code: str,
) -> None:
    before = stored(live, draft)
    content = body if isinstance(body, bytes) else httpx.Request("POST", "/", json=body).content
    headers = {"Content-Type": media, "Content-Crs": f"<{crs}>"}
    created = planner.call("POST", items_path(draft), headers=headers, content=content)
    assert_problem(created, status, code)
    target = next(iter(before))
    etag = planner.get(f"{items_path(draft)}/{target}").headers["etag"]
    replaced = planner.call(
        "PUT",
        f"{items_path(draft)}/{target}",
        headers=headers | {"If-Match": etag},
        content=content,
    )
    assert_problem(replaced, status, code)
    assert stored(live, draft) == before


def test_writes_need_the_etag_read_and_keep_codes(live: Server, planner: Qgis, draft: int) -> None:
    features = planner.get(items_path(draft), crs=GK, limit=2).json()["features"]
    a, b = features
    path = f"{items_path(draft)}/{a['id']}"
    before = stored(live, draft)
    # a feature this key never read: no If-Match and no ETag it was served to stand in
    unread = next(code for code in before if code not in (a["id"], b["id"]))
    never = f"{items_path(draft)}/{unread}"
    unread_body = {**a, "properties": {**a["properties"], "code": unread}}
    assert_problem(planner.write("PUT", never, unread_body), 428, "precondition-required")
    assert_problem(planner.write("PATCH", never, {"properties": {"name": "x"}}), 428)
    assert_problem(planner.call("DELETE", never), 428, "precondition-required")
    stale = '"0123456789abcdef01234567"'
    assert_problem(planner.write("PUT", path, a, stale), 412, "stale-version")
    etag = planner.get(path).headers["etag"]
    recoded = {**a, "properties": {**a["properties"], "code": b["id"]}}
    assert_problem(planner.write("PUT", path, recoded, etag), 422, "invalid-input")
    assert_problem(planner.write("PATCH", path, {"properties": {"code": "Z"}}, etag), 422)
    assert_problem(planner.write("POST", items_path(draft), b), 409, "conflict")
    missing = {**a, "properties": {**a["properties"], "code": "NOPE"}}
    assert_problem(planner.write("PUT", f"{items_path(draft)}/NOPE", missing, etag), 404)
    assert stored(live, draft) == before


def test_a_ring_crossing_itself_is_kept_and_shown_where_it_crosses(
    live: Server, planner: Qgis, draft: int
) -> None:
    """GEOS builds a bow-tie, so it is written (a planner mid-redraw loses nothing) and is a
    blocking problem at the crossing, which publishing refuses."""
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[121.4427, 31.3396], [121.4437, 31.3406], [121.4437, 31.3396],
                         [121.4427, 31.3406], [121.4427, 31.3396]]],
    }  # fmt: skip
    response = planner.write("POST", items_path(draft), feature(bowtie, code="G-BOW"), crs=CRS84)
    assert response.status_code == 201, response.text
    [crossing] = [
        p for p in problems(planner, draft)
        if p["properties"]["kind"] == "invalid-geometry" and p["properties"]["codes"] == "G-BOW"
    ]  # fmt: skip
    assert crossing["geometry"]["type"] == "Point" and crossing["properties"]["blocking"]
    lon, lat = crossing["geometry"]["coordinates"]
    assert lon == pytest.approx(121.4432, abs=1e-6) and lat == pytest.approx(31.3401, abs=1e-6)


def test_epsg_4490_bodies_are_latitude_first(live: Server, planner: Qgis, draft: int) -> None:
    lon_lat = shapely.box(121.4427, 31.3396, 121.4432, 31.3401)
    lat_lon = shapely.geometry.mapping(shapely.transform(lon_lat, lambda xy: xy[:, ::-1]))
    created = planner.write(
        "POST", items_path(draft), feature(lat_lon, code="G-4490"), crs=EPSG_4490
    )
    assert created.status_code == 201, created.text
    stored_shape = shapely.from_wkb(stored(live, draft)["G-4490"]["geom_wkb"])
    assert shapely.equals_exact(stored_shape, lon_lat, tolerance=1e-9)
    answered = planner.get(f"{items_path(draft)}/G-4490", crs=EPSG_4490).json()["geometry"]
    assert answered["coordinates"][0][0][0] == pytest.approx(31.3396)  # latitude first


def test_a_feature_body_is_capped_and_the_key_is_checked_before_it(
    live: Server, planner: Qgis, draft: int
) -> None:
    big = b"x" * (10 * 1024 * 1024 + 1)
    headers = {"Content-Type": GEOJSON}
    too_large = planner.call("POST", items_path(draft), headers=headers, content=big)
    assert_problem(too_large, 413, "payload-too-large")
    unkeyed = Qgis(planner.base, None).call("POST", items_path(draft), headers=headers, content=big)
    assert_problem(unkeyed, 401, "unauthenticated")
    # a feature of 1 MB (some 30,000 vertices) is under the cap
    ring = shapely.Point(121.4427, 31.3396).buffer(0.001, quad_segs=8_000)
    body = feature(shapely.geometry.mapping(ring), code="G-BIG")
    created = planner.write("POST", items_path(draft), body, crs=CRS84)
    assert created.status_code == 201, created.text
    assert len(created.request.content) > 1_000_000


@pytest.mark.parametrize("crs", [EPSG_4490, GK])
def test_a_bbox_in_a_north_first_crs_is_read_north_first(live: Server, crs: str) -> None:
    """QGIS sends bbox-crs with the bbox in that CRS's axis order (Part 2); read east first,
    a Gauss-Krüger box selected nothing and a 4490 one the wrong place."""
    client = Qgis(str(live["base"]), None)
    box = shapely.box(121.445, 31.328, 121.452, 31.332)
    expected = {
        f["id"]
        for f in client.get(
            "/collections/grids/items", bbox="121.445,31.328,121.452,31.332"
        ).json()["features"]
    }
    there = gpd.GeoSeries([box], crs="EPSG:4490").to_crs(f"EPSG:{crs.rsplit('/', 1)[1]}")
    x0, y0, x1, y1 = there.iloc[0].bounds  # (east, north) from geopandas
    north_first = ",".join(str(v) for v in (y0, x0, y1, x1))
    found = client.get("/collections/grids/items", bbox=north_first, **{"bbox-crs": crs})
    assert found.status_code == 200, found.text
    got = {f["id"] for f in found.json()["features"]}
    assert got >= expected and 0 < len(expected) < 14


def test_only_an_open_draft_of_its_own_kind_is_a_draft_collection(
    live: Server, planner: Qgis, draft: int
) -> None:
    engine: Engine = live["engine"]
    with engine.connect() as conn:
        published = reference.active_versions(conn)[LayerKind.GRIDS]
    for name in (
        f"grids-draft-{published}",  # a published version is no draft: read it by ?version=
        f"units-draft-{draft}",  # the draft is of grids
        f"nope-draft-{draft}",
        f"grids-draft-{2**63}",  # past the ids stored: a 404 like any other, not a 500
    ):
        assert_problem(planner.get(f"/collections/{name}/items"), 404, "not-found")
        assert_problem(planner.write("POST", f"/collections/{name}/items", {}), 404, "not-found")
