"""Towns under a district: a town key sees and acts on its own town's cases only.

The district (tests/api/district.py) is the demo cut into 甲镇 (T1) and 乙镇 (T2).
Cases are reported in both; then every read route is walked with the keys
of T1's people, and no case of T2 may appear in any answer (another town's
case is a 404, as an unknown one is). District keys see both towns and
filter by ``town``. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import pytest
import shapely
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from gridsvc.api.app import create_app
from gridsvc.config import DEMO_DIR
from gridsvc.core.errors import InvalidInput
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key
from gridsvc.store import cases as case_store
from gridsvc.store import schema
from tests.api.conftest_cases import assert_problem, picture
from tests.api.district import DISTRICT, T1, T2, district_settings, point_in

LOCAL = ZoneInfo("Asia/Shanghai")
IN_T1, IN_T2 = point_in("310106113U1"), point_in("310106113U2")


@dataclass
class District:
    client: TestClient
    app: FastAPI
    keys: dict[str, str]
    a: dict[str, Any]  # reported in T1
    b: dict[str, Any]  # reported in T2
    c: dict[str, Any]  # reported by T1's patrol, in T2

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def get(self, path: str, who: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.h(who))


PEOPLE = {
    "dispatcher": (Role.DISPATCHER, None, None),
    "dispatcher-t1": (Role.DISPATCHER, None, T1),
    "leader-t1": (Role.LEADER, None, T1),
    "handler-t1": (Role.HANDLER, "D01", T1),
    "patrol-t1": (Role.PATROL, None, T1),
    "leader": (Role.LEADER, None, None),
    "handler-x02": (Role.HANDLER, "X02", None),
}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory, module_db_url: str) -> Iterator[District]:
    settings = district_settings(tmp_path_factory.mktemp("district"), module_db_url)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        keys = {
            name: create_key(app.state.engine, role, name, dept, town=town)
            for name, (role, dept, town) in PEOPLE.items()
        }

        def report(who: str, at: tuple[float, float], category: str = "CG01") -> dict[str, Any]:
            body = {"lon": at[0], "lat": at[1], "crs": "cgcs2000", "category": category}
            r = client.post(
                "/api/v1/reports", json=body, headers={"Authorization": f"Bearer {keys[who]}"}
            )
            assert r.status_code == 201, r.text
            return dict(r.json())

        a, b = report("dispatcher", IN_T1), report("dispatcher", IN_T2)
        c = report("patrol-t1", IN_T2)
        photo = client.post(
            f"/api/v1/cases/{b['id']}/attachments",
            files={"file": ("b.png", picture("PNG"), "image/png")},
            headers={"Authorization": f"Bearer {keys['dispatcher']}"},
        )
        assert photo.status_code == 201, photo.text
        b["photo"] = photo.json()["id"]
        yield District(client, app, keys, a, b, c)


def test_every_case_belongs_to_the_town_that_covers_its_point(dist: District) -> None:
    assert dist.a["town_code"] == T1
    assert dist.b["town_code"] == T2
    assert dist.c["town_code"] == T2  # T1's patrol, across the boundary: T2's case


def test_a_report_across_the_boundary_says_where_it_came_from(dist: District) -> None:
    case = dist.get(f"/api/v1/cases/{dist.c['id']}", "dispatcher").json()
    assert case["history"][0]["data"]["reported_by_town"] == T1
    # the patrol still reads its own report, though it went to the other town
    own = dist.get(f"/api/v1/cases/{dist.c['id']}", "patrol-t1")
    assert own.status_code == 200 and own.json()["town_code"] == T2


def test_another_towns_case_is_not_found(dist: District) -> None:
    for who in ("dispatcher-t1", "leader-t1", "handler-t1", "patrol-t1"):
        missing = dist.get(f"/api/v1/cases/{dist.b['id']}", who)
        unknown = dist.get("/api/v1/cases/999999", who)
        assert_problem(missing, 404, "not-found")
        assert missing.json()["title"] == unknown.json()["title"]
        photo = dist.get(f"/api/v1/cases/{dist.b['id']}/attachments/{dist.b['photo']}", who)
        assert photo.status_code == 404, who
    assert dist.get(f"/api/v1/cases/{dist.a['id']}", "dispatcher-t1").status_code == 200


def test_a_town_key_cannot_act_on_another_towns_case(dist: District) -> None:
    before = dist.get(f"/api/v1/cases/{dist.b['id']}", "dispatcher").json()
    r = dist.client.post(
        f"/api/v1/cases/{dist.b['id']}/dispatch",
        json={"department": "D01"},
        headers={**dist.h("dispatcher-t1"), "If-Match": f'"{before["etag"]}"'},
    )
    assert_problem(r, 404, "not-found")
    after = dist.get(f"/api/v1/cases/{dist.b['id']}", "dispatcher").json()
    assert (after["status"], after["etag"]) == (before["status"], before["etag"])


def _numbers(items: list[dict[str, Any]]) -> set[str]:
    return {i["number"] for i in items}


def test_lists_hold_the_town_keys_town_only(dist: District) -> None:
    a, b, c = dist.a["number"], dist.b["number"], dist.c["number"]
    page = dist.get("/api/v1/cases", "dispatcher-t1").json()["items"]
    assert a in _numbers(page) and not _numbers(page) & {b, c}
    assert {i["town_code"] for i in page} == {T1}
    text = dist.get("/api/v1/cases.csv", "dispatcher-t1").text
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert a in {r["number"] for r in rows} and {r["town_code"] for r in rows} == {T1}
    queue = dist.get("/api/v1/supervision", "dispatcher-t1").json()
    assert not _numbers(queue) & {b, c}
    changes = dist.get("/api/v1/changes", "dispatcher-t1", after=0).json()["items"]
    assert a in _numbers(changes) and not _numbers(changes) & {b, c}
    mine = dist.get("/api/v1/me/cases", "handler-t1").json()["items"]
    assert {i["town_code"] for i in mine} <= {T1}


def test_a_town_key_asking_for_another_town_finds_none(dist: District) -> None:
    assert_problem(dist.get("/api/v1/cases", "dispatcher-t1", town=T2), 404, "not-found")
    ok = dist.get("/api/v1/cases", "dispatcher-t1", town=T1)
    assert ok.status_code == 200
    today = datetime.now(LOCAL).date().isoformat()
    r = dist.get("/api/v1/evaluation", "leader-t1", town=T2, **{"from": today, "to": today})
    assert_problem(r, 404, "not-found")
    assert dist.get("/maps/hotspots", "leader-t1", town=T2).status_code == 404


def test_district_keys_see_every_town_and_filter_by_one(dist: District) -> None:
    both = _numbers(dist.get("/api/v1/cases", "dispatcher").json()["items"])
    assert {dist.a["number"], dist.b["number"], dist.c["number"]} <= both
    t2 = dist.get("/api/v1/cases", "dispatcher", town=T2).json()["items"]
    assert {i["town_code"] for i in t2} == {T2}
    assert dist.b["number"] in _numbers(t2)


def test_evaluation_ranks_towns_and_a_town_key_sees_its_own(dist: District) -> None:
    today = datetime.now(LOCAL).date()
    period = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
    district = dist.get("/api/v1/evaluation", "leader", by="town", min_cases=1, **period).json()
    keys = {row["key"] for row in district["rows"]}
    assert {T1, T2} <= keys
    names = {row["key"]: row["name"] for row in district["rows"]}
    assert (names[T1], names[T2]) == ("甲镇", "乙镇")
    own = dist.get("/api/v1/evaluation", "leader-t1", by="town", min_cases=1, **period).json()
    assert {row["key"] for row in own["rows"]} == {T1}
    assert own["total"]["reported"] < district["total"]["reported"]
    sheet = dist.get("/dashboard/evaluation.csv", "leader-t1", by="town", **period).text
    assert "甲镇" in sheet and "乙镇" not in sheet
    assert "乙镇" in dist.get("/dashboard/evaluation.csv", "leader", by="town", **period).text


def test_the_dashboard_offers_a_district_leader_every_town(dist: District) -> None:
    page = dist.get("/dashboard", "leader").text
    assert "甲镇" in page and "乙镇" in page and "全区" in page
    own = dist.get("/dashboard", "leader-t1").text
    assert "甲镇" in own and "乙镇" not in own


def test_open311_and_ogc_hold_the_town(dist: District) -> None:
    b = dist.b["number"]
    listed = dist.get("/open311/v2/requests.json", "dispatcher-t1").json()
    assert dist.a["number"] in {r["service_request_id"] for r in listed}
    assert b not in {r["service_request_id"] for r in listed}
    one = dist.get(f"/open311/v2/requests/{b}.json", "dispatcher-t1")
    assert one.status_code == 404
    by_id = dist.get("/open311/v2/requests.json", "dispatcher-t1", service_request_id=b)
    assert by_id.status_code == 404
    assert dist.get(f"/open311/v2/tokens/{b}.json", "dispatcher-t1").status_code == 404
    assert dist.get(f"/open311/v2/tokens/{b}.json", "dispatcher").status_code == 200
    items = dist.get("/ogc/collections/cases/items", "leader-t1").json()["features"]
    assert items and {f["properties"]["town_code"] for f in items} == {T1}
    everything = dist.get("/ogc/collections/cases/items", "leader").json()["features"]
    assert {f["properties"]["town_code"] for f in everything} == {T1, T2}


def test_the_maps_read_one_towns_cases(dist: District) -> None:
    """What the hotspot map reads, with the town filter the route pins."""
    with dist.app.state.engine.connect() as conn:
        t1 = case_store.case_points(conn, {"town_code": T1})
        every = case_store.case_points(conn, {})
    assert 0 < len(t1["lon"]) < len(every["lon"])
    with dist.app.state.engine.connect() as conn:
        towns = set(conn.execute(select(schema.cases.c.town_code)).scalars())
    assert towns == {T1, T2}
    assert dist.get("/maps/hotspots", "leader-t1").status_code == 200


def test_a_key_for_an_unknown_town_is_refused(dist: District) -> None:
    with pytest.raises(InvalidInput, match=f"no town 'T9'; the town's are {T1}, {T2}"):
        create_key(dist.app.state.engine, Role.DISPATCHER, "x", town="T9")
    with pytest.raises(InvalidInput, match="no town"):
        create_key(dist.app.state.engine, Role.DISPATCHER, "x", town=DISTRICT)


def test_a_report_outside_the_district_names_the_nearest_town(dist: District) -> None:
    body = {"lon": 121.60, "lat": 31.34, "crs": "cgcs2000", "category": "CG01"}
    r = dist.client.post("/api/v1/reports", json=body, headers=dist.h("dispatcher"))
    problem = assert_problem(r, 422, "outside-jurisdiction")
    assert "(town 乙镇)" in problem["detail"] or "(town 甲镇)" in problem["detail"]


def _act(dist: District, case: dict[str, Any], action: str, who: str, **body: Any) -> Any:
    return dist.client.post(
        f"/api/v1/cases/{case['id']}/{action}",
        json=body or None,
        headers={**dist.h(who), "If-Match": f'"{case["etag"]}"'},
    )


def _step(dist: District, case: dict[str, Any], action: str, who: str, **body: Any) -> Any:
    r = _act(dist, case, action, who, **body)
    assert r.status_code == 200, r.text
    return r.json()


def _report(dist: District, who: str, at: tuple[float, float]) -> dict[str, Any]:
    body = {"lon": at[0], "lat": at[1], "crs": "cgcs2000", "category": "CG01"}
    r = dist.client.post("/api/v1/reports", json=body, headers=dist.h(who))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_town_refers_up_and_the_district_dispatches_to_its_bureau(dist: District) -> None:
    """大联动 end to end: T1's centre refers, the district sends it to a district bureau,
    whose handler accepts and handles it, and T1's centre verifies and closes."""
    case = _report(dist, "dispatcher-t1", IN_T1)
    assert "refer" in case["actions"]
    case = _step(dist, case, "refer", "dispatcher-t1", reason="跨部门，需区级协调")
    assert (case["status"], case["assignee"]) == ("referred", DISTRICT)
    # the town still sees it, but may not act on it while the district holds it
    seen = dist.get(f"/api/v1/cases/{case['id']}", "dispatcher-t1").json()
    assert seen["status"] == "referred" and seen["actions"] == []
    refused = _act(dist, case, "dispatch", "dispatcher-t1", assignee="X02")
    assert_problem(refused, 403, "forbidden")
    held = dist.get(f"/api/v1/cases/{case['id']}", "dispatcher").json()
    assert {"dispatch", "send_back", "escalate"} <= set(held["actions"])
    case = _step(dist, held, "dispatch", "dispatcher", assignee="X02")
    assert (case["status"], case["assignee"]) == ("dispatched", "X02")
    case = _step(dist, case, "accept", "handler-x02")
    case = _step(dist, case, "handle", "handler-x02", result="管道已修复")
    case = _step(dist, case, "verify", "dispatcher-t1")
    case = _step(dist, case, "close", "dispatcher-t1")
    centres = [(e["action"], e["data"].get("centre")) for e in case["history"][1:]]
    assert centres == [
        ("refer", T1),
        ("dispatch", DISTRICT),
        ("accept", DISTRICT),
        ("handle", DISTRICT),
        ("verify", T1),
        ("close", T1),
    ]
    assert case["supervision"]["deadline"] is None  # closed: no clock runs


def test_the_district_sends_a_case_back_to_its_town(dist: District) -> None:
    case = _report(dist, "dispatcher-t1", IN_T1)
    case = _step(dist, case, "refer", "dispatcher-t1", reason="请区里协调")
    assert case["supervision"]["deadline"] is not None  # the district's dispatch clock
    case = _step(dist, case, "send_back", "dispatcher", reason="属镇级事项，由镇派遣")
    assert (case["status"], case["assignee"]) == ("returned", T1)
    case = _step(dist, case, "dispatch", "dispatcher-t1", assignee="D01")
    assert case["status"] == "dispatched"
    assert case["history"][-2]["data"]["centre"] == DISTRICT


def test_a_referral_needs_its_reason(dist: District) -> None:
    case = _report(dist, "dispatcher-t1", IN_T1)
    assert_problem(_act(dist, case, "refer", "dispatcher-t1"), 422, None)
    after = dist.get(f"/api/v1/cases/{case['id']}", "dispatcher").json()
    assert (after["status"], after["etag"]) == ("reported", case["etag"])


def _list_csv(extra: dict[str, str] | None) -> bytes:
    """The demo's list, with a ``town`` column, and one town's override row when given."""
    text = (DEMO_DIR / "responsibility_list.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.DictWriter(out, [*rows[0], "town"])
    writer.writeheader()
    writer.writerows({**r, "town": ""} for r in rows)
    if extra:
        base = next(r for r in rows if r["code"] == extra["code"])
        writer.writerow({**base, **extra})
    return out.getvalue().encode("utf-8")


def _publish_list(dist: District, data: bytes) -> Any:
    planner = {"Authorization": f"Bearer {create_key(dist.app.state.engine, Role.PLANNER, 'l')}"}
    draft = dist.client.post(
        "/api/v1/responsibility-list/drafts", headers=planner, files={"file": ("list.csv", data)}
    )
    if draft.status_code != 201:
        return draft
    versions = dist.client.get("/api/v1/responsibility-list/versions", headers=planner).json()
    active = next(v["id"] for v in versions if v["status"] == "published")
    tags = {"If-Match": f'"draft-{draft.json()["id"]}", "active-{active}"'}
    return dist.client.post(
        f"/api/v1/responsibility-list/drafts/{draft.json()['id']}/publish",
        headers={**planner, **tags},
    )


def test_a_town_routes_a_matter_its_own_way(dist: District) -> None:
    """The district's list with 乙镇's override of CG01: another department, a longer limit."""
    override = {"code": "CG01", "town": T2, "primary_department": "D05", "limit_dispatch_h": "8"}
    published = _publish_list(dist, _list_csv(override))
    assert published.status_code == 200, published.text
    in_t2, in_t1 = _report(dist, "dispatcher", IN_T2), _report(dist, "dispatcher", IN_T1)
    assert in_t2["department"] == "D05" and in_t1["department"] != "D05"
    t1_hours = in_t1["supervision"]["hours_left"]
    assert in_t2["supervision"]["hours_left"] > t1_hours  # 乙镇's own dispatch limit
    bad = _publish_list(dist, _list_csv({**override, "town": "T9"}))
    assert_problem(bad, 422, "invalid-input")
    assert "town T9" in bad.json()["detail"]
    assert _publish_list(dist, _list_csv(None)).status_code == 200  # back to the defaults


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("handler-t1", 403, "forbidden"),
        ("leader-t1", 403, "forbidden"),
        ("leader", 403, "forbidden"),
        ("patrol-t1", 404, "not-found"),  # not its report, not its grid: no such case to it
    ],
)
def test_only_dispatchers_refer_and_send_back(
    dist: District, who: str, status: int, code: str
) -> None:
    """The roles of the loop across levels (test_roles walks a single town, which has none)."""
    case = _report(dist, "dispatcher-t1", IN_T1)
    assert_problem(_act(dist, case, "refer", who, reason="x"), status, code)
    case = _step(dist, case, "refer", "dispatcher-t1", reason="请区里协调")
    assert_problem(_act(dist, case, "send_back", who, reason="x"), status, code)
    after = dist.get(f"/api/v1/cases/{case['id']}", "dispatcher").json()
    assert (after["status"], after["etag"]) == ("referred", case["etag"])


def test_a_town_boundary_redraw_moves_cases_to_the_other_town(dist: District) -> None:
    """The district planner gives unit U2 to 甲镇: the preview lists 乙镇's cases there as
    changing town (their grid stays), publishing moves them with an event each, and a
    rollback moves them back. (Last in the module: it redraws the shared district.)"""
    planner = {"Authorization": f"Bearer {create_key(dist.app.state.engine, Role.PLANNER, 'p')}"}
    towns = gpd.read_file(dist.app.state.settings.demo_dir / "shifan.gpkg", layer="towns")
    units = gpd.read_file(dist.app.state.settings.demo_dir / "shifan.gpkg", layer="units")
    shape = {c: g for c, g in zip(units["code"], units.geometry, strict=True)}
    towns.loc[towns["code"] == T1, "geometry"] = shapely.union_all(
        [shape["310106113U1"], shape["310106113U2"]]
    )
    towns.loc[towns["code"] == T2, "geometry"] = shape["310106113U3"]
    draft = dist.client.post(
        "/api/v1/layers/towns/drafts",
        headers=planner,
        files={"file": ("towns.geojson", towns.to_json().encode())},
        data={"label": "U2 to 甲镇"},
    )
    assert draft.status_code == 201, draft.text
    draft_id = draft.json()["id"]
    assert draft.json()["validation"]["blocking"] == 0
    impact = dist.client.get(f"/api/v1/layers/towns/drafts/{draft_id}/impact", headers=planner)
    moves = {m["id"]: m for m in impact.json()["moved_cases"]}
    b = moves[dist.b["id"]]
    assert (b["from"]["town_code"], b["to"]["town_code"]) == (T2, T1)
    assert b["from"]["grid_code"] == b["to"]["grid_code"]  # the grid does not move
    assert dist.a["id"] not in moves  # 甲镇's own case stays where it is
    versions = dist.client.get("/api/v1/layers/towns/versions", headers=planner).json()
    active = next(v["id"] for v in versions if v["status"] == "published")
    tags = {"If-Match": f'"draft-{draft_id}", "active-{active}"'}
    published = dist.client.post(
        f"/api/v1/layers/towns/drafts/{draft_id}/publish", headers={**planner, **tags}
    )
    assert published.status_code == 200, published.text
    moved = dist.get(f"/api/v1/cases/{dist.b['id']}", "dispatcher").json()
    assert moved["town_code"] == T1 and moved["history"][-1]["action"] == "reassign"
    assert dist.get(f"/api/v1/cases/{dist.b['id']}", "dispatcher-t1").status_code == 200
    rolled = dist.client.post(
        "/api/v1/layers/towns/rollback",
        headers={**planner, "If-Match": f'"active-{draft_id}"'},
    )
    assert rolled.status_code == 200, rolled.text
    back = dist.get(f"/api/v1/cases/{dist.b['id']}", "dispatcher").json()
    assert back["town_code"] == T2
    assert dist.get(f"/api/v1/cases/{dist.b['id']}", "dispatcher-t1").status_code == 404


def _open_counts(page: str) -> dict[str, int]:
    """The coverage map's open-case count per grid code, as its tooltips read them."""
    for found in re.finditer(r'"cols":', page):
        columns, _ = json.JSONDecoder().raw_decode(page, found.end())
        if "open" in columns:
            return dict(zip(columns["code"], columns["open"], strict=True))
    raise AssertionError("no grid columns in the coverage map")


def test_the_coverage_map_counts_a_town_keys_own_cases_only(dist: District) -> None:
    """A town leader's coverage map showed every town's open cases per grid (found by the
    district benchmark's review); now only its own town's, the district's still all."""
    a, b = dist.a["grid_code"], dist.b["grid_code"]
    district = _open_counts(dist.get("/maps/coverage", "leader").text)
    own = _open_counts(dist.get("/maps/coverage", "leader-t1").text)
    assert district[a] >= 1 and district[b] >= 1
    assert own[a] == district[a] and own[b] == 0
