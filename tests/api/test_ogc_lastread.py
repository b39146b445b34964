"""Editing a draft the way QGIS really does: no If-Match on PUT, PATCH or DELETE.

QGIS's OAPIF provider keeps no ETags (its put/patch/delete requests send
Content-Type and Content-Crs only), so a write without If-Match is checked
against the ETag the same key was last served of the feature: current, it
goes ahead; changed since by another key, a 412 naming that key; never read
with this key, a 428. On SQLite and on PostgreSQL, each test once per backend.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from itertools import count
from typing import Any

import httpx
import pytest
import shapely
from conftest_cases import assert_problem, build_app
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from gridsvc.core.layers import LayerKind
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key
from gridsvc.services.layers import StoredLayers
from gridsvc.services.planning import Planning
from gridsvc.store import draft_features

GEOJSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"
GK = "http://www.opengis.net/def/crs/EPSG/0/4549"  # what QGIS sends for a layer in the zone
_names = count()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, module_db_url: str) -> FastAPI:
    return build_app(tmp_path_factory, "lastread", module_db_url)  # SQLite, then PostgreSQL


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def draft(app: FastAPI) -> int:
    """A fresh draft of the published grids, as a planner starts one."""
    engine: Engine = app.state.engine
    with engine.connect() as conn:
        grids = StoredLayers().active(conn)[1][LayerKind.GRIDS]
    return int(Planning(engine).add_draft(grids, "QGIS edit")["id"])


class Qgis:
    """One planner's QGIS: its own key, and the provider's requests (no If-Match)."""

    def __init__(self, app: FastAPI, client: TestClient, draft: int) -> None:
        self.name = f"planner-{next(_names)}"
        self.key = create_key(app.state.engine, Role.PLANNER, self.name)
        self.client = client
        self.items = f"/ogc/collections/grids-draft-{draft}/items"

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.key}", **kw.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kw)

    def page(self, **params: Any) -> list[dict[str, Any]]:
        """GET items as the provider pages them (limit 1000 unless said)."""
        response = self.call("GET", self.items, params={"limit": 1000, **params})
        assert response.status_code == 200, response.text
        return response.json()["features"]  # type: ignore[no-any-return]

    def feature(self, code: str) -> httpx.Response:
        return self.call("GET", f"{self.items}/{code}")

    def move(self, feature: dict[str, Any], metres: float = 1.0) -> httpx.Response:
        """What a move with the vertex tool sends: a merge patch of the geometry alone."""
        shape = shapely.geometry.shape(feature["geometry"]).buffer(-metres * 1e-5)
        body = {"geometry": shapely.geometry.mapping(shape)}
        headers = {"Content-Type": MERGE_PATCH}
        return self.call("PATCH", f"{self.items}/{feature['id']}", json=body, headers=headers)

    def replace(self, feature: dict[str, Any]) -> httpx.Response:
        headers = {"Content-Type": GEOJSON}
        return self.call("PUT", f"{self.items}/{feature['id']}", json=feature, headers=headers)

    def delete(self, code: str) -> httpx.Response:
        return self.call("DELETE", f"{self.items}/{code}")


def stored(app: FastAPI, draft: int) -> dict[str, dict[str, Any]]:
    with app.state.engine.connect() as conn:
        return {r["code"]: r for r in draft_features.features(conn, draft)}


def test_qgis_reads_then_moves_reshapes_and_deletes_without_if_match(
    app: FastAPI, client: TestClient, draft: int
) -> None:
    qgis = Qgis(app, client, draft)
    a, b, c = qgis.page()[:3]
    moved = qgis.move(a)
    assert moved.status_code == 200, moved.text
    # QGIS does not read a feature again after its own write: the next move goes ahead too
    again = qgis.move({**a, "geometry": moved.json()["geometry"]})
    assert again.status_code == 200, again.text
    assert again.headers["etag"] != moved.headers["etag"]
    assert qgis.feature(a["id"]).headers["etag"] == again.headers["etag"]
    assert qgis.replace({**b, "properties": {**b["properties"], "name": "改名"}}).status_code == 200
    assert qgis.delete(c["id"]).status_code == 204
    assert c["id"] not in stored(app, draft)
    # one feature read on its own (GET items/{fid}) is read as well
    other = Qgis(app, client, draft)
    single = other.feature(b["id"]).json()
    assert other.move(single).status_code == 200


def test_a_change_by_another_key_since_the_read_is_a_412_naming_it(
    app: FastAPI, client: TestClient, draft: int
) -> None:
    mine, theirs = Qgis(app, client, draft), Qgis(app, client, draft)
    feature = mine.page()[0]
    theirs.page()
    assert theirs.move(feature, 3.0).status_code == 200
    before = stored(app, draft)
    refused = mine.move(feature)
    body = assert_problem(refused, 412, "stale-version")
    assert body["changed_by"] == theirs.name and theirs.name in body["detail"]
    assert datetime.fromisoformat(body["changed_at"]).tzinfo is not None
    assert body["etag"] == theirs.feature(feature["id"]).headers["etag"].strip('"')
    assert_problem(mine.delete(feature["id"]), 412, "stale-version")
    assert stored(app, draft) == before
    # read again, the same key's change goes ahead
    fresh = mine.feature(feature["id"]).json()
    assert mine.move(fresh).status_code == 200


def test_a_feature_never_read_with_this_key_is_a_428(
    app: FastAPI, client: TestClient, draft: int
) -> None:
    reader, other = Qgis(app, client, draft), Qgis(app, client, draft)
    first, second, *_ = reader.page()
    before = stored(app, draft)
    assert_problem(other.move(first), 428, "precondition-required")
    assert_problem(other.delete(first["id"]), 428, "precondition-required")
    assert other.call("HEAD", other.items, params={"limit": 1000}).status_code == 200
    assert_problem(other.move(first), 428, "precondition-required")  # HEAD showed nothing
    # only what a page served is read: the first page of one, not the draft
    other.page(limit=1)
    assert_problem(other.move(second), 428, "precondition-required")
    assert stored(app, draft) == before


def test_of_two_keys_writing_without_if_match_after_both_read_exactly_one_wins(
    app: FastAPI, client: TestClient, draft: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = Qgis(app, client, draft), Qgis(app, client, draft)
    feature = one.page()[0]
    two.page()
    both_there = threading.Barrier(2, timeout=30)
    lock_draft = draft_features.lock_draft

    def at_once(conn: Any, version_id: int) -> Any:
        both_there.wait()  # neither holds the draft's turn yet: both ask for it together
        return lock_draft(conn, version_id)

    monkeypatch.setattr(draft_features, "lock_draft", at_once)
    answers: dict[str, httpx.Response] = {}

    def edit(qgis: Qgis, metres: float) -> None:
        answers[qgis.name] = qgis.move(feature, metres)

    threads = [threading.Thread(target=edit, args=(q, m)) for q, m in ((one, 2.0), (two, 4.0))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in answers.values()) == [200, 412]
    [winner] = [name for name, r in answers.items() if r.status_code == 200]
    [loser] = [r for r in answers.values() if r.status_code == 412]
    assert loser.json()["changed_by"] == winner


def test_a_page_records_what_it_served_in_one_statement(
    app: FastAPI, client: TestClient, draft: int
) -> None:
    engine: Engine = app.state.engine
    template = next(iter(stored(app, draft).values()))
    with engine.begin() as conn:  # small squares of their own, up to 1,000 features
        for i in range(1_000 - len(stored(app, draft))):
            square = shapely.box(121.40 + i * 1e-5, 31.30, 121.40 + i * 1e-5 + 5e-6, 31.300005)
            record = {k: template[k] for k in draft_features.FEATURE_COLUMNS}
            record |= {"code": f"G-{i:04d}", "geom_wkb": shapely.to_wkb(square)}
            draft_features.add(conn, draft, record)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "draft_reads" in statement:
            statements.append(statement)

    qgis = Qgis(app, client, draft)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        served = qgis.page()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(served) == 1_000
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("INSERT")
    key_id = app.state.keyring.authenticate(qgis.key).key_id
    with engine.connect() as conn:
        for feature in (served[0], served[-1]):
            etag = qgis.feature(feature["id"]).headers["etag"].strip('"')
            assert draft_features.last_read(conn, key_id, draft, feature["id"]) == etag


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_a_published_collection_stays_read_only(
    app: FastAPI, client: TestClient, draft: int, method: str
) -> None:
    qgis = Qgis(app, client, draft)
    feature = qgis.call("GET", "/ogc/collections/grids/items", params={"limit": 1}).json()
    code = feature["features"][0]["id"]
    refused = qgis.call(method, f"/ogc/collections/grids/items/{code}", json=feature["features"][0])
    assert_problem(refused, 405, "method-not-allowed")
    assert {m.strip() for m in refused.headers["allow"].split(",")} == {"GET", "HEAD", "OPTIONS"}
    # the tests' clients ask for English; a Chinese reader is told the same in Chinese
    assert "grids-draft-<id>" in refused.json()["detail"]
    chinese = qgis.call(
        method, f"/ogc/collections/grids/items/{code}", headers={"Accept-Language": "zh"}
    )
    assert_problem(chinese, 405, "method-not-allowed")
    assert chinese.json()["detail"].startswith("集合 'grids' 只读")
    assert chinese.headers["content-language"] == "zh"


def test_the_openapi_text_of_each_write_says_what_stands_in_for_if_match(
    client: TestClient,
) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    [item] = [
        p for p in paths if "-draft-" in p and p.endswith("/items/{fid}") and "problems" not in p
    ]
    for method in ("put", "patch", "delete"):
        text = paths[item][method]["description"]
        assert "Without `If-Match`" in text and "412" in text and "428" in text, method
        assert "\n    " not in text  # the docstring's indent is gone (it is Markdown)
