"""Planners per town: a town's planner redraws its own town's grids, and no other town's.

The district (tests/api/district.py) is the demo cut into 甲镇 (T1: grids G01-G05)
and 乙镇 (T2: G06-G14). Each town's redraw toggles one grid away: T1 gives G02's
area to G01, T2 gives G07's to G06 (and back). Both towns draft on the same
active layer, then publish in either order or at once: the final layer holds
both redraws, and each case is in the right grid. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pytest
import shapely
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gridsvc.api.app import create_app
from gridsvc.api.refresh import refresh_matching
from gridsvc.core.layers import LayerKind
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key
from gridsvc.store import reference
from tests.api.conftest_cases import assert_problem
from tests.api.district import T1, T2, district_settings

G = "310106113G"
#: each town's redraw: the grid that takes the other's area, and the one it takes
MERGES = {T1: (G + "01", G + "02"), T2: (G + "06", G + "07")}
PEOPLE = {
    "planner": (Role.PLANNER, None),
    "planner-t1": (Role.PLANNER, T1),
    "planner-t2": (Role.PLANNER, T2),
    "dispatcher": (Role.DISPATCHER, None),
}


@dataclass
class District:
    client: TestClient
    app: FastAPI
    keys: dict[str, str]
    original: gpd.GeoDataFrame  # the demo's grids
    cases: dict[str, int]  # grid code -> the id of a case reported inside it

    def h(self, who: str, **more: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}", **more}

    def active(self) -> int:
        with self.app.state.engine.connect() as conn:
            return reference.active_versions(conn)[LayerKind.GRIDS]

    def grids(self) -> gpd.GeoDataFrame:
        with self.app.state.engine.connect() as conn:
            return reference.load_layer(conn, LayerKind.GRIDS, self.active()).frame

    def grid_of(self, case_id: int) -> str:
        r = self.client.get(f"/api/v1/cases/{case_id}", headers=self.h("dispatcher"))
        return str(r.json()["grid_code"])


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory, module_db_url: str) -> Iterator[District]:
    settings = district_settings(tmp_path_factory.mktemp("townplan"), module_db_url)
    app = create_app(settings)
    original = gpd.read_file(settings.demo_dir / "shifan.gpkg", layer="grids")
    with TestClient(app, raise_server_exceptions=False) as client:
        keys = {
            name: create_key(app.state.engine, role, name, town=town)
            for name, (role, town) in PEOPLE.items()
        }
        cases = {}
        for grid in (*MERGES[T1], *MERGES[T2]):
            p = original[original["code"] == grid].geometry.iloc[0].representative_point()
            body = {"lon": p.x, "lat": p.y, "crs": "cgcs2000", "category": "CG01"}
            r = client.post(
                "/api/v1/reports",
                json=body,
                headers={"Authorization": f"Bearer {keys['dispatcher']}"},
            )
            assert r.status_code == 201 and r.json()["grid_code"] == grid, r.text
            cases[grid] = r.json()["id"]
        yield District(client, app, keys, original, cases)


def town_grids(dist: District, town: str, merged: bool) -> gpd.GeoDataFrame:
    """A town's own grids as its planner uploads them: the demo's, or with the merge made."""
    own = dist.original[dist.original["parent_code"].isin(_units(town))].copy()
    if merged:
        keep, gone = MERGES[town]
        shapes = dict(zip(own["code"], own.geometry, strict=True))
        own.loc[own["code"] == keep, "geometry"] = shapely.union_all([shapes[keep], shapes[gone]])
        own = own[own["code"] != gone]
    return own


def _units(town: str) -> list[str]:
    return ["310106113U1"] if town == T1 else ["310106113U2", "310106113U3"]


def upload(dist: District, who: str, frame: gpd.GeoDataFrame, kind: str = "grids") -> Any:
    return dist.client.post(
        f"/api/v1/layers/{kind}/drafts",
        headers=dist.h(who),
        files={"file": ("town.geojson", frame.to_json().encode())},
        data={"label": f"{who} redraw"},
    )


def draft(dist: District, who: str, frame: gpd.GeoDataFrame) -> int:
    r = upload(dist, who, frame)
    assert r.status_code == 201, r.text
    assert r.json()["validation"]["blocking"] == 0, r.json()["validation"]
    return int(r.json()["id"])


def publish(dist: District, who: str, draft_id: int, active: int) -> Any:
    tags = f'"draft-{draft_id}", "active-{active}"'
    return dist.client.post(
        f"/api/v1/layers/grids/drafts/{draft_id}/publish", headers=dist.h(who, **{"If-Match": tags})
    )


def assert_state(dist: District, merged: dict[str, bool]) -> None:
    """The active grids hold each town's redraw as asked, and each case its right grid."""
    codes = set(dist.grids()["code"])
    for town, (keep, gone) in MERGES.items():
        assert (gone not in codes) == merged[town], (town, sorted(codes))
        assert dist.grid_of(dist.cases[keep]) == keep
        assert dist.grid_of(dist.cases[gone]) == (keep if merged[town] else gone)


@pytest.mark.parametrize("first", [T1, T2])
def test_two_towns_publish_their_own_redraws_in_either_order(dist: District, first: str) -> None:
    """Both draft on one active layer; the second publish, with the If-Match of what it
    previewed, is spliced onto the first's layer instead of refused."""
    was = {T1: G + "02" not in set(dist.grids()["code"])}
    was[T2] = was[T1]
    want = {town: not was[town] for town in MERGES}
    seen = dist.active()
    drafts = {
        town: draft(dist, f"planner-{town[-2:].lower()}", town_grids(dist, town, want[town]))
        for town in MERGES
    }
    # each impact lists its own town's cases only
    for town, other in ((T1, T2), (T2, T1)):
        who = f"planner-{town[-2:].lower()}"
        impact = dist.client.get(
            f"/api/v1/layers/grids/drafts/{drafts[town]}/impact", headers=dist.h(who)
        ).json()
        moved = {m["id"] for m in impact["moved_cases"]}
        assert moved == {dist.cases[MERGES[town][1]]}
        assert all(
            w["grid_code"] in set(town_grids(dist, town, False)["code"]) for w in impact["workload"]
        )
        assert not any(c["code"] in MERGES[other] for c in impact["features"]["changed"])
    second = T2 if first == T1 else T1
    for town in (first, second):
        r = publish(dist, f"planner-{town[-2:].lower()}", drafts[town], seen)
        assert r.status_code == 200, r.text
        assert r.json()["town"] == town
    assert_state(dist, want)
    # the new versions record their towns: the history per town
    for town in MERGES:
        rows = dist.client.get(
            "/api/v1/layers/grids/versions", params={"town": town}, headers=dist.h("planner")
        ).json()
        assert drafts[town] in [v["id"] for v in rows]
        assert {v["town_code"] for v in rows} == {town}


def test_two_towns_publish_at_once(dist: District) -> None:
    """Two threads publish the two towns' drafts at the same moment: both land."""
    merged = G + "02" not in set(dist.grids()["code"])
    seen = dist.active()
    planning = dist.app.state.planning
    drafts = {
        town: planning.add_draft(
            _layer(town_grids(dist, town, not merged)), f"{town} at once", (), town
        )["id"]
        for town in MERGES
    }
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def go(town: str) -> None:
        try:
            start.wait()
            planning.publish(LayerKind.GRIDS, drafts[town], drafts[town], seen, town)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(t,)) for t in MERGES]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    refresh_matching(dist.app)
    assert_state(dist, {T1: not merged, T2: not merged})


def _layer(frame: gpd.GeoDataFrame) -> Any:
    from gridsvc.core.layers import Layer

    return Layer(LayerKind.GRIDS, frame.reset_index(drop=True).to_crs("EPSG:4490"))


def test_a_grid_of_the_neighbouring_town_is_refused_by_name(dist: District) -> None:
    before = dist.client.get("/api/v1/layers/grids/versions", headers=dist.h("planner")).json()
    mine = town_grids(dist, T1, G + "02" not in set(dist.grids()["code"]))
    theirs = dist.original[dist.original["code"] == G + "10"]
    r = upload(dist, "planner-t1", gpd.GeoDataFrame(gpd.pd.concat([mine, theirs]), crs=mine.crs))
    body = assert_problem(r, 422, "invalid-layer")
    assert body["codes"] == [G + "10"] and G + "10" in body["detail"]
    assert {p["kind"] for p in body["problems"]} == {"outside-town", "other-town"}
    # a grid of its own stretched over the boundary: named, with the town it reaches into
    stretched = mine.copy()
    g05 = stretched["code"] == G + "05"
    stretched.loc[g05, "geometry"] = shapely.union_all(
        [stretched[g05].geometry.iloc[0], theirs.geometry.iloc[0]]
    )
    body = assert_problem(upload(dist, "planner-t1", stretched), 422, "invalid-layer")
    assert body["codes"] == [G + "05"]
    [problem] = body["problems"]
    assert problem["kind"] == "outside-town" and problem["towns"] == [T2]
    assert problem["area_m2"] > 1000
    after = dist.client.get("/api/v1/layers/grids/versions", headers=dist.h("planner")).json()
    assert after == before  # nothing stored


def test_a_town_planner_keeps_to_its_town(dist: District) -> None:
    towns = gpd.read_file(dist.app.state.settings.demo_dir / "shifan.gpkg", layer="towns")
    for kind in ("towns", "jurisdiction"):
        r = upload(dist, "planner-t1", towns, kind)
        assert_problem(r, 403, "forbidden")
        assert T1 in r.json()["detail"]
    t2 = draft(dist, "planner-t2", town_grids(dist, T2, G + "07" not in set(dist.grids()["code"])))
    district = draft(dist, "planner", dist.grids())
    active = dist.active()
    for other in (t2, district):
        for path in ("validation", "impact"):
            url = f"/api/v1/layers/grids/drafts/{other}/{path}"
            assert_problem(dist.client.get(url, headers=dist.h("planner-t1")), 404, "not-found")
        assert_problem(publish(dist, "planner-t1", other, active), 404, "not-found")
        ogc = f"/ogc/collections/grids-draft-{other}/items"
        assert dist.client.get(ogc, headers=dist.h("planner-t1")).status_code == 404
        impact_map = f"/maps/impact/grids/{other}"
        assert dist.client.get(impact_map, headers=dist.h("planner-t1")).status_code == 404
    history = dist.client.get("/api/v1/layers/grids/versions", headers=dist.h("planner-t1"))
    assert not {t2, district} & {v["id"] for v in history.json()}
    assert {t2, district} <= {
        v["id"]
        for v in dist.client.get("/api/v1/layers/grids/versions", headers=dist.h("planner")).json()
    }
    listed = dist.client.get("/ogc/collections", headers=dist.h("planner-t1")).json()
    ids = {c["id"] for c in listed["collections"]}
    assert f"grids-draft-{t2}" not in ids and f"grids-draft-{district}" not in ids
    # the district's planner sees the town's draft
    url = f"/api/v1/layers/grids/drafts/{t2}/validation"
    assert dist.client.get(url, headers=dist.h("planner")).status_code == 200
    r = dist.client.post(
        "/api/v1/layers/grids/rollback",
        headers=dist.h("planner-t1", **{"If-Match": f'"active-{active}"'}),
    )
    assert_problem(r, 403, "forbidden")
    assert "rollback" in r.json()["detail"] and dist.active() == active
    # history: a town key may filter by its own town, not by another
    r = dist.client.get(
        "/api/v1/layers/grids/versions", params={"town": T2}, headers=dist.h("planner-t1")
    )
    assert_problem(r, 404, "not-found")
    own = dist.client.get(
        "/api/v1/layers/grids/versions", params={"town": T1}, headers=dist.h("planner-t1")
    )
    assert own.status_code == 200


def test_a_town_draft_over_a_redraw_of_its_own_town_is_refused(dist: District) -> None:
    """The district renames a grid of 甲镇 after 甲镇's planner drafted: publishing the
    draft would undo it, so it is a 409 naming the town; 乙镇's draft still publishes."""
    merged = {t: MERGES[t][1] not in set(dist.grids()["code"]) for t in MERGES}
    seen = dist.active()
    t1 = draft(dist, "planner-t1", town_grids(dist, T1, not merged[T1]))
    t2 = draft(dist, "planner-t2", town_grids(dist, T2, not merged[T2]))
    renamed = dist.grids()
    renamed.loc[renamed["code"] == G + "03", "name"] = "第三网格（区改名）"
    district = draft(dist, "planner", gpd.GeoDataFrame(renamed, crs="EPSG:4490"))
    assert publish(dist, "planner", district, seen).status_code == 200
    r = publish(dist, "planner-t1", t1, seen)
    body = assert_problem(r, 409, "conflict")
    assert T1 in body["detail"] and body["town"] == T1 and body["active"] == district
    ok = publish(dist, "planner-t2", t2, seen)
    assert ok.status_code == 200, ok.text
    names = dict(zip(dist.grids()["code"], dist.grids()["name"], strict=True))
    assert names[G + "03"] == "第三网格（区改名）"
    assert (MERGES[T2][1] not in names) == (not merged[T2])


def test_history_on_the_command_line_filters_by_town(
    dist: District, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gridsvc.cli import app as cli
    from gridsvc.cli.context import out

    monkeypatch.setenv("GRIDSVC_DATABASE_URL", dist.app.state.settings.database_url)
    monkeypatch.setattr(out, "width", 300)  # the table whole, not folded to 80 columns
    draft(dist, "planner-t1", town_grids(dist, T1, G + "02" in set(dist.grids()["code"])))
    result = CliRunner().invoke(cli, ["--lang", "en", "layers", "history", "grids", "--town", T1])
    assert result.exit_code == 0, result.output
    assert T1 in result.output and T2 not in result.output
    rows = dist.client.get(
        "/api/v1/layers/grids/versions", params={"town": T1}, headers=dist.h("planner")
    ).json()
    assert all(f" {v['id']} " in result.output for v in rows)


def test_qgis_edits_of_a_town_draft_keep_to_the_town(dist: District) -> None:
    """Over OGC API - Features Part 4 a town's draft takes writes to its own town's
    features only; the district's features spliced around them are not its to change."""
    t1 = draft(dist, "planner-t1", town_grids(dist, T1, G + "02" in set(dist.grids()["code"])))
    items = f"/ogc/collections/grids-draft-{t1}/items"
    page = dist.client.get(items, params={"limit": 100}, headers=dist.h("planner-t1")).json()
    shapes = {f["properties"]["code"]: f for f in page["features"]}
    assert G + "10" in shapes  # the other town's grids are in the spliced draft, read-only
    patch = {"Content-Type": "application/merge-patch+json"}
    renamed = {"type": "Feature", "properties": {"name": "乙镇的网格"}}
    r = dist.client.patch(f"{items}/{G}10", json=renamed, headers=dist.h("planner-t1", **patch))
    body = assert_problem(r, 422, "invalid-layer")
    assert body["codes"] == [G + "10"]
    assert {p["kind"] for p in body["problems"]} == {"outside-town", "other-town"}
    r = dist.client.delete(f"{items}/{G}10", headers=dist.h("planner-t1"))
    assert_problem(r, 403, "forbidden")
    assert G + "10" in r.json()["detail"]
    # its own grid stretched into the neighbouring town: refused by name
    reach = shapely.union_all(
        [shapely.geometry.shape(shapes[G + "05"]["geometry"]),
         shapely.geometry.shape(shapes[G + "10"]["geometry"])]
    )  # fmt: skip
    stretched = {"type": "Feature", "geometry": shapely.geometry.mapping(reach)}
    r = dist.client.patch(f"{items}/{G}05", json=stretched, headers=dist.h("planner-t1", **patch))
    body = assert_problem(r, 422, "invalid-layer")
    assert body["codes"] == [G + "05"] and body["problems"][0]["towns"] == [T2]
    ok = {"type": "Feature", "properties": {"name": "第三网格（镇改名）"}}
    r = dist.client.patch(f"{items}/{G}03", json=ok, headers=dist.h("planner-t1", **patch))
    assert r.status_code == 200, r.text


def test_validation_follows_the_edits_made_after_it(dist: District) -> None:
    """A draft validated, then edited over OGC into an overlap, is validated again as it is
    now: before, the planning service kept the draft as first read, its validation said 0
    blocking and publishing went ahead with the overlap."""
    t1 = draft(dist, "planner-t1", town_grids(dist, T1, G + "02" in set(dist.grids()["code"])))
    url = f"/api/v1/layers/grids/drafts/{t1}/validation"
    assert dist.client.get(url, headers=dist.h("planner-t1")).json()["blocking"] == 0
    items = f"/ogc/collections/grids-draft-{t1}/items"
    page = dist.client.get(items, params={"limit": 100}, headers=dist.h("planner-t1")).json()
    shapes = {
        f["properties"]["code"]: shapely.geometry.shape(f["geometry"]) for f in page["features"]
    }
    grown = shapely.union_all([shapes[G + "03"], shapes[G + "04"]])
    r = dist.client.patch(
        f"{items}/{G}03",
        json={"type": "Feature", "geometry": shapely.geometry.mapping(grown)},
        headers=dist.h("planner-t1", **{"Content-Type": "application/merge-patch+json"}),
    )
    assert r.status_code == 200, r.text
    assert dist.client.get(url, headers=dist.h("planner-t1")).json()["blocking"] > 0
    before = dist.active()
    assert_problem(publish(dist, "planner-t1", t1, before), 422, "invalid-layer")
    assert dist.active() == before
