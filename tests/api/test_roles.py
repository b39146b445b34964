"""The whole matrix of endpoints x roles: every route the app serves, every caller.

``POLICY`` says, for each endpoint, who may call it: the grid centre's rules
written down here, not read from the code. The closed loop's one action route
is split into its actions, each taken from a state where it is possible, since
the state is checked before the role. Each cell is walked with a real key of
that role (handlers bound to D01, the department a CG01 case is routed to),
with no key, and with a key nobody issued:

* a caller the policy admits gets the endpoint's success status;
* anyone else gets 401 (no key, unknown key) or 403 (a key of another role),
  as problem details (Open311's own error list under /open311), and every
  table and the photo store are left exactly as they were.

A route added to the app without a line here fails the first test.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from itertools import count
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import httpx
import pytest
from conftest_cases import INSIDE, PROBLEM_BASE, Desk, assert_problem, build_app, desk, picture
from fastapi import FastAPI
from sqlalchemy import inspect, text
from starlette.routing import Route

from gridsvc.config import DEMO_DIR
from gridsvc.core.workflow import TRANSITIONS, Role
from gridsvc.services.keys import create_key

ROLES = ["patrol", "dispatcher", "handler-D01", "planner", "leader", "admin"]
CALLERS: list[str | None] = [*ROLES, None, "unknown"]  # "unknown": a key nobody issued
EVERYONE = frozenset(CALLERS)  # public: no key needed, and a key is not looked at
ANY_KEY = frozenset(ROLES)
PUBLIC_READ = frozenset({*ROLES, None})  # no key needed, but a key sent must be a real one
ACTION_ROUTE = "POST /api/v1/cases/{case_id}/{action}"


def roles(*names: str) -> frozenset[str]:
    """The roles named, and admin, who may do everything a route admits anyone to do."""
    return frozenset({*names, "admin"})


# ---- how each endpoint is called -----------------------------------------------------------


@dataclass
class Town:
    """The service under test with what the calls point at (made once, by the right roles)."""

    d: Desk
    case: dict[str, Any]  # a reported CG01 case
    attachment: int  # a photo of that case
    grids_version: int  # the active grids layer version
    shared: dict[str, Any] = field(default_factory=dict)  # made once, e.g. the OGC draft

    def auth(self, who: str | None) -> dict[str, str]:
        if who == "unknown":
            return {"Authorization": "Bearer gs_never-issued"}
        return self.d.headers(who)

    def key(self, who: str | None) -> str | None:
        return "gs_never-issued" if who == "unknown" else (self.d.key(who) if who else None)


Send = Callable[[Town, str | None, Any], httpx.Response]


@dataclass(frozen=True)
class Call:
    """One endpoint: who may call it, how, and what it answers those it admits.

    ``prepare`` runs first, as whoever must act before (a planner uploads the
    draft that is then published); what it returns goes to ``send``. The
    database is compared from after ``prepare`` to after ``send``. ``hidden``: to a
    role it does not admit the thing does not exist (404, not 403), as a draft's OGC
    collection is to anyone but planners.
    """

    who: frozenset[str | None]
    send: Send
    ok: int = 200
    prepare: Callable[[Town], Any] = field(default=lambda town: None)
    hidden: bool = False


def get(path: str, **params: Any) -> Send:
    """A GET of ``path`` (formatted with the town) with the caller's Authorization header."""

    def send(t: Town, who: str | None, _: Any) -> httpx.Response:
        url = path.format(case=t.case, attachment=t.attachment, version=t.grids_version)
        return t.d.client.get(url, headers=t.auth(who), params=params or None)

    return send


def my_grid(t: Town, who: str | None, _: Any) -> httpx.Response:
    """GET /me/grid; the matrix's patrol here is one whose key has the case's grid."""
    headers = t.auth(who)
    if who == "patrol":
        if "patrol-grid" not in t.d.keys:
            grid = t.case["grid_code"]
            t.d.keys["patrol-grid"] = create_key(t.d.engine, Role.PATROL, "patrol-grid", grid=grid)
        headers = {"Authorization": f"Bearer {t.d.keys['patrol-grid']}"}
    return t.d.client.get("/api/v1/me/grid", headers=headers)


def _this_week() -> dict[str, str]:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return {"from": str(today - timedelta(days=6)), "to": str(today)}


@cache
def grids_geojson() -> bytes:
    """The demo grids, unchanged: a draft that validates (and moves no case)."""
    return gpd.read_file(DEMO_DIR / "shifan.gpkg", layer="grids").to_json().encode()


def list_csv() -> bytes:
    return (DEMO_DIR / "responsibility_list.csv").read_bytes()


def report(t: Town, who: str | None, _: Any) -> httpx.Response:
    body = {"lon": INSIDE[0], "lat": INSIDE[1], "crs": "cgcs2000", "category": "CG01"}
    return t.d.client.post("/api/v1/reports", json=body, headers=t.auth(who))


def open311_report(t: Town, who: str | None, _: Any) -> httpx.Response:
    form = {"service_code": "CG01", "lat": str(INSIDE[1]), "long": str(INSIDE[0])}
    key = t.key(who)
    return t.d.client.post(
        "/open311/v2/requests.json", data=form | ({"api_key": key} if key else {})
    )


def sign_in(t: Town, who: str | None, _: Any) -> httpx.Response:
    """The landing page's form: the caller's key pasted (nothing when there is none)."""
    form = {"key": t.key(who) or ""}
    return t.d.client.post("/session", data=form, follow_redirects=False)


def sign_in_code(t: Town, who: str | None, _: Any) -> httpx.Response:
    """A QR code for the caller's own page (each role has one)."""
    page = {"patrol": "/patrol", "handler-D01": "/handle", "planner": "/plan"}.get(
        who or "", "/dashboard"
    )
    return t.d.client.post("/api/v1/me/sign-in-code", headers=t.auth(who), params={"page": page})


def sign_out(t: Town, who: str | None, _: Any) -> httpx.Response:
    return t.d.client.post("/session/sign-out", headers=t.auth(who), follow_redirects=False)


def options(path: str) -> Send:
    def send(t: Town, who: str | None, _: Any) -> httpx.Response:
        return t.d.client.options(path, headers=t.auth(who))

    return send


def attach(t: Town, who: str | None, _: Any) -> httpx.Response:
    files = {"file": ("现场.png", picture("PNG"), "image/png")}
    return t.d.client.post(
        f"/api/v1/cases/{t.case['id']}/attachments", headers=t.auth(who), files=files
    )


def grid_draft(t: Town) -> int:
    files = {"file": ("grids.geojson", grids_geojson())}
    response = t.d.client.post(
        "/api/v1/layers/grids/drafts", headers=t.auth("planner"), files=files
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def list_draft(t: Town) -> int:
    files = {"file": ("list.csv", list_csv())}
    url = "/api/v1/responsibility-list/drafts"
    response = t.d.client.post(url, headers=t.auth("planner"), files=files)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def active(t: Town, kind: str) -> int:
    """The layer version matching uses now (the published one)."""
    url = f"/api/v1/layers/{kind}/versions"
    versions = t.d.client.get(url, headers=t.auth("planner")).json()
    return next(v["id"] for v in versions if v["status"] == "published")


def published_list(t: Town) -> int | None:
    url = "/api/v1/responsibility-list/versions"
    versions = t.d.client.get(url, headers=t.auth("planner")).json()
    return next((v["id"] for v in versions if v["status"] == "published"), None)


def upload_grid_draft(t: Town, who: str | None, _: Any) -> httpx.Response:
    files = {"file": ("grids.geojson", grids_geojson())}
    return t.d.client.post("/api/v1/layers/grids/drafts", headers=t.auth(who), files=files)


def draft_page(path: str) -> Send:
    """A GET about the draft ``prepare`` made (``{draft}`` in the path)."""

    def send(t: Town, who: str | None, draft: int) -> httpx.Response:
        return t.d.client.get(path.format(draft=draft), headers=t.auth(who))

    return send


def publish_grids(t: Town, who: str | None, draft: int) -> httpx.Response:
    tags = f'"draft-{draft}", "active-{active(t, "grids")}"'
    url = f"/api/v1/layers/grids/drafts/{draft}/publish"
    return t.d.client.post(url, headers=t.auth(who) | {"If-Match": tags})


def a_published_redraw(t: Town) -> None:
    """A published redraw, so there is a previous version to go back to."""
    assert publish_grids(t, "planner", grid_draft(t)).status_code == 200


def rollback(t: Town, who: str | None, _: Any) -> httpx.Response:
    tags = f'"active-{active(t, "grids")}"'
    return t.d.client.post(
        "/api/v1/layers/grids/rollback", headers=t.auth(who) | {"If-Match": tags}
    )


def upload_list(t: Town, who: str | None, _: Any) -> httpx.Response:
    files = {"file": ("list.csv", list_csv())}
    return t.d.client.post("/api/v1/responsibility-list/drafts", headers=t.auth(who), files=files)


def publish_list(t: Town, who: str | None, draft: int) -> httpx.Response:
    current = published_list(t)
    tags = f'"draft-{draft}"' + (f', "active-{current}"' if current else "")
    url = f"/api/v1/responsibility-list/drafts/{draft}/publish"
    return t.d.client.post(url, headers=t.auth(who) | {"If-Match": tags})


def first_grid_code(t: Town) -> str:
    page = t.d.client.get("/ogc/collections/grids/items", params={"limit": 1}).json()
    return str(page["features"][0]["id"])


def grid_feature(t: Town, who: str | None, fid: str) -> httpx.Response:
    return t.d.client.get(f"/ogc/collections/grids/items/{fid}", headers=t.auth(who))


# ---- a draft edited over OGC API - Features Part 4 -------------------------------------------

OGC_DRAFT = "/ogc/collections/{kind}-draft-{draft_id}"
OGC_PROBLEMS = OGC_DRAFT + "-problems"
_feature_codes = count()


def square(code: str) -> bytes:
    """A small grid near INSIDE as a GeoJSON feature (CRS84): it overlaps the demo's."""
    lon, lat = INSIDE
    ring = [[lon, lat], [lon + 4e-4, lat], [lon + 4e-4, lat + 4e-4], [lon, lat + 4e-4], [lon, lat]]
    geometry = {"type": "Polygon", "coordinates": [ring]}
    return json.dumps(
        {"type": "Feature", "properties": {"code": code}, "geometry": geometry}
    ).encode()


def ogc_feature(t: Town) -> tuple[int, str, str]:
    """A feature a planner adds to the draft the OGC calls share: (draft, code, ETag)."""
    if "ogc_draft" not in t.shared:
        t.shared["ogc_draft"] = grid_draft(t)
    draft, code = t.shared["ogc_draft"], f"R{next(_feature_codes)}"
    headers = t.auth("planner") | {"Content-Type": "application/geo+json"}
    url = f"/ogc/collections/grids-draft-{draft}/items"
    response = t.d.client.post(url, content=square(code), headers=headers)
    assert response.status_code == 201, response.text
    return draft, code, response.headers["etag"]


def ogc_draft(method: str, path: str, media: str = "", body: bytes | None = None) -> Send:
    """A request on the OGC draft ``prepare`` made, ``{code}`` its feature; a write sends
    ``body`` (a new feature when None) with the ETag read."""

    def send(t: Town, who: str | None, made: tuple[int, str, str]) -> httpx.Response:
        draft, code, etag = made
        url = path.format(kind="grids", draft_id=draft, fid=code)
        headers = t.auth(who)
        if media:
            headers |= {"Content-Type": media, "If-Match": etag}
        content = body
        if content is None and media:  # POST a new feature, PUT this one as it is
            content = square(f"R{next(_feature_codes)}" if method == "POST" else code)
        return t.d.client.request(method, url, headers=headers, content=content)

    return send


def ogc_draft_call(method: str, path: str, ok: int = 200, **kw: Any) -> Call:
    planners = roles("planner")
    return Call(planners, ogc_draft(method, path, **kw), ok, prepare=ogc_feature, hidden=True)


def ogc_published(method: str, path: str) -> Send:
    def send(t: Town, who: str | None, code: str) -> httpx.Response:
        url = path.format(collection_id="grids", fid=code)
        return t.d.client.request(method, url, headers=t.auth(who), content=b"{}")

    return send


GEOJSON = "application/geo+json"
OGC_CALLS: dict[str, Call] = {
    f"GET {OGC_DRAFT}": ogc_draft_call("GET", OGC_DRAFT),
    f"GET {OGC_DRAFT}/items": ogc_draft_call("GET", OGC_DRAFT + "/items"),
    f"OPTIONS {OGC_DRAFT}/items": ogc_draft_call("OPTIONS", OGC_DRAFT + "/items", 204),
    f"POST {OGC_DRAFT}/items": ogc_draft_call("POST", OGC_DRAFT + "/items", 201, media=GEOJSON),
    f"GET {OGC_DRAFT}/items/{{fid}}": ogc_draft_call("GET", OGC_DRAFT + "/items/{fid}"),
    f"OPTIONS {OGC_DRAFT}/items/{{fid}}": ogc_draft_call(
        "OPTIONS", OGC_DRAFT + "/items/{fid}", 204
    ),
    f"PUT {OGC_DRAFT}/items/{{fid}}": ogc_draft_call(
        "PUT", OGC_DRAFT + "/items/{fid}", media=GEOJSON
    ),
    f"PATCH {OGC_DRAFT}/items/{{fid}}": ogc_draft_call(
        "PATCH",
        OGC_DRAFT + "/items/{fid}",
        media="application/merge-patch+json",
        body=json.dumps({"properties": {"name": "改名"}}).encode(),
    ),
    f"DELETE {OGC_DRAFT}/items/{{fid}}": ogc_draft_call(
        "DELETE", OGC_DRAFT + "/items/{fid}", 204, media=GEOJSON, body=b""
    ),
    f"GET {OGC_PROBLEMS}": ogc_draft_call("GET", OGC_PROBLEMS),
    f"GET {OGC_PROBLEMS}/items": ogc_draft_call("GET", OGC_PROBLEMS + "/items"),
    # the draft's squares overlap the grids: there is a first problem
    f"GET {OGC_PROBLEMS}/items/{{fid}}": ogc_draft_call("GET", OGC_PROBLEMS + "/items/1"),
    f"OPTIONS {OGC_PROBLEMS}/items": ogc_draft_call("OPTIONS", OGC_PROBLEMS + "/items", 204),
    f"OPTIONS {OGC_PROBLEMS}/items/{{fid}}": ogc_draft_call(
        "OPTIONS", OGC_PROBLEMS + "/items/1", 204
    ),
    # the problems follow the features: read-only, 405 to planners, absent to the others
    f"POST {OGC_PROBLEMS}/items": ogc_draft_call(
        "POST", OGC_PROBLEMS + "/items", 405, media=GEOJSON, body=b"{}"
    ),
    **{
        f"{m} {OGC_PROBLEMS}/items/{{fid}}": ogc_draft_call(
            m, OGC_PROBLEMS + "/items/1", 405, media=GEOJSON, body=b"{}"
        )
        for m in ("PUT", "PATCH", "DELETE")
    },
    # a published collection is read-only to everyone, and says so
    "OPTIONS /ogc/collections/{collection_id}/items": Call(
        EVERYONE, ogc_published("OPTIONS", "/ogc/collections/{collection_id}/items"), 204
    ),
    "OPTIONS /ogc/collections/{collection_id}/items/{fid}": Call(
        EVERYONE,
        ogc_published("OPTIONS", "/ogc/collections/{collection_id}/items/{fid}"),
        204,
        prepare=first_grid_code,
    ),
    "POST /ogc/collections/{collection_id}/items": Call(
        EVERYONE, ogc_published("POST", "/ogc/collections/{collection_id}/items"), 405
    ),
    **{
        f"{m} /ogc/collections/{{collection_id}}/items/{{fid}}": Call(
            EVERYONE,
            ogc_published(m, "/ogc/collections/{collection_id}/items/{fid}"),
            405,
            prepare=first_grid_code,
        )
        for m in ("PUT", "PATCH", "DELETE")
    },
}


# ---- the closed loop's actions, each from a state where it is possible --------------------

#: the steps that bring a fresh case to a state, each (action, by whom, fields)
PATHS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "reported": [],
    "dispatched": [("dispatch", "dispatcher", {})],
    "accepted": [("dispatch", "dispatcher", {}), ("accept", "handler-D01", {})],
    "handled": [
        ("dispatch", "dispatcher", {}),
        ("accept", "handler-D01", {}),
        ("handle", "handler-D01", {"result": "已清理"}),
    ],
}
PATHS["verified"] = [*PATHS["handled"], ("verify", "dispatcher", {})]


@cache
def county_department() -> str:
    with open(DEMO_DIR / "departments.csv", encoding="utf-8-sig", newline="") as f:
        return next(row["code"] for row in csv.DictReader(f) if row["level"] == "county")


#: action: (the state it is taken from, who may take it, what it needs)
ACTIONS: dict[str, tuple[str, frozenset[str], dict[str, Any]]] = {
    "dispatch": ("reported", roles("dispatcher"), {}),
    "accept": ("dispatched", frozenset({"handler-D01"}), {}),
    "return": ("dispatched", frozenset({"handler-D01"}), {"reason": "不属本部门职责"}),
    "handle": ("accepted", frozenset({"handler-D01"}), {"result": "已清理"}),
    # 自行处置 of a grid-level matter (CG01): the reporting patrol only
    "fix": ("reported", frozenset({"patrol"}), {"result": "已当场劝离"}),
    "verify": ("handled", roles("dispatcher"), {}),
    "reopen": ("handled", roles("dispatcher", "leader"), {"reason": "复查未清理"}),
    "close": ("verified", roles("dispatcher"), {}),
    "escalate": ("reported", roles("dispatcher"), {"department": "<county>"}),
    "duplicate": ("reported", roles("dispatcher"), {"duplicate_of": "<earlier>"}),
    "cancel": ("reported", roles("dispatcher"), {"reason": "误报"}),
    "defer": ("dispatched", roles("dispatcher"), {"reason": "等待法院裁定"}),
}


#: actions of the loop across levels: a single town (this module's) has no district centre,
#: so their roles are walked in tests/api/test_towns_api.py, on a district
DISTRICT_ACTIONS = {"refer", "send_back"}


def case_in(t: Town, state: str) -> dict[str, Any]:
    case = t.d.new_case("CG01")
    for action, who, body in PATHS[state]:
        case = t.d.step(case, action, who, **body)
    assert case["status"] == state
    return case


def action_call(action: str) -> Call:
    state, who, needs = ACTIONS[action]

    def prepare(t: Town) -> dict[str, Any]:
        return case_in(t, state)

    def send(t: Town, caller: str | None, case: dict[str, Any]) -> httpx.Response:
        fill = {"<county>": county_department(), "<earlier>": t.case["id"]}
        body = {k: fill.get(v, v) if isinstance(v, str) else v for k, v in needs.items()}
        headers = t.auth(caller) | {"If-Match": f'"{case["etag"]}"'}
        return t.d.client.post(f"/api/v1/cases/{case['id']}/{action}", headers=headers, json=body)

    return Call(who, send, prepare=prepare)


# ---- the policy ----------------------------------------------------------------------------

CASE_DESK = roles("dispatcher", "leader", "handler-D01")  # the queue and supervision
MAP_VIEWERS = roles("leader", "dispatcher", "planner", "handler-D01")
PLANNER = roles("planner")
LIST_READERS = roles("planner", "dispatcher", "leader")
INTAKE = roles("patrol", "dispatcher")

POLICY: dict[str, Call] = {
    "GET /": Call(EVERYONE, get("/")),
    "POST /session": Call(ANY_KEY, sign_in, 303),  # a bad key: the landing page again, 401
    "POST /session/sign-out": Call(EVERYONE, sign_out, 303),
    "GET /openapi.json": Call(EVERYONE, get("/openapi.json")),
    "GET /docs": Call(EVERYONE, get("/docs")),
    "GET /docs/oauth2-redirect": Call(EVERYONE, get("/docs/oauth2-redirect")),
    "GET /redoc": Call(EVERYONE, get("/redoc")),
    "GET /api/v1/match": Call(EVERYONE, get("/api/v1/match", lon=INSIDE[0], lat=INSIDE[1])),
    # the role pages: public shells that hold nothing; each asks the API with its key
    "GET /patrol": Call(EVERYONE, get("/patrol")),
    "GET /dispatch": Call(EVERYONE, get("/dispatch")),
    "GET /handle": Call(EVERYONE, get("/handle")),
    "GET /plan": Call(EVERYONE, get("/plan")),
    "GET /patrol/manifest.webmanifest": Call(EVERYONE, get("/patrol/manifest.webmanifest")),
    "GET /patrol/sw.js": Call(EVERYONE, get("/patrol/sw.js")),
    "GET /api/v1/me": Call(ANY_KEY, get("/api/v1/me")),
    "GET /api/v1/directory": Call(ANY_KEY, get("/api/v1/directory")),
    "POST /api/v1/me/sign-in-code": Call(ANY_KEY, sign_in_code),
    # a patrol's own reports, a handler's department's cases; the others read /cases
    "GET /api/v1/me/cases": Call(frozenset({"patrol", "handler-D01"}), get("/api/v1/me/cases")),
    "GET /api/v1/me/grid": Call(frozenset({"patrol"}), my_grid),
    # cases
    "POST /api/v1/reports": Call(INTAKE, report, 201),
    # the town's case is the patrol's own report: another patrol's is a 404 (test below)
    "GET /api/v1/cases/{case_id}": Call(ANY_KEY, get("/api/v1/cases/{case[id]}")),
    "GET /api/v1/cases": Call(CASE_DESK, get("/api/v1/cases")),
    "GET /api/v1/cases.csv": Call(CASE_DESK, get("/api/v1/cases.csv")),
    "GET /api/v1/supervision": Call(CASE_DESK, get("/api/v1/supervision")),
    "GET /api/v1/changes": Call(CASE_DESK, get("/api/v1/changes")),
    "POST /api/v1/cases/{case_id}/attachments": Call(
        roles("patrol", "handler-D01", "dispatcher"), attach, 201
    ),
    "GET /api/v1/cases/{case_id}/attachments/{attachment_id}": Call(
        ANY_KEY, get("/api/v1/cases/{case[id]}/attachments/{attachment}")
    ),
    **{f"POST /api/v1/cases/{{case_id}}/{a}": action_call(a) for a in ACTIONS},
    # leaders
    "GET /api/v1/evaluation": Call(
        roles("leader", "dispatcher"), get("/api/v1/evaluation", **_this_week())
    ),
    "GET /dashboard": Call(roles("leader", "dispatcher"), get("/dashboard")),
    "GET /dashboard/evaluation.{fmt}": Call(
        roles("leader", "dispatcher"), get("/dashboard/evaluation.xlsx", **_this_week())
    ),
    "GET /maps/coverage": Call(MAP_VIEWERS, get("/maps/coverage")),
    "GET /maps/hotspots": Call(MAP_VIEWERS, get("/maps/hotspots")),
    # planners
    "GET /api/v1/layers/{kind}/versions": Call(ANY_KEY, get("/api/v1/layers/grids/versions")),
    "GET /api/v1/layers/{kind}/versions/{version_id}.gpkg": Call(
        ANY_KEY, get("/api/v1/layers/grids/versions/{version}.gpkg")
    ),
    "POST /api/v1/layers/{kind}/drafts": Call(PLANNER, upload_grid_draft, 201),
    "GET /api/v1/layers/{kind}/drafts/{draft_id}/validation": Call(
        PLANNER, draft_page("/api/v1/layers/grids/drafts/{draft}/validation"), prepare=grid_draft
    ),
    "GET /api/v1/layers/{kind}/drafts/{draft_id}/impact": Call(
        PLANNER, draft_page("/api/v1/layers/grids/drafts/{draft}/impact"), prepare=grid_draft
    ),
    "POST /api/v1/layers/{kind}/drafts/{draft_id}/publish": Call(
        PLANNER, publish_grids, prepare=grid_draft
    ),
    "POST /api/v1/layers/{kind}/rollback": Call(PLANNER, rollback, prepare=a_published_redraw),
    "GET /maps/impact/{kind}/{draft_id}": Call(
        PLANNER, draft_page("/maps/impact/grids/{draft}"), prepare=grid_draft
    ),
    "GET /api/v1/responsibility-list/versions": Call(
        LIST_READERS, get("/api/v1/responsibility-list/versions")
    ),
    "POST /api/v1/responsibility-list/drafts": Call(PLANNER, upload_list, 201),
    "GET /api/v1/responsibility-list/drafts/{draft_id}/changes": Call(
        PLANNER,
        draft_page("/api/v1/responsibility-list/drafts/{draft}/changes"),
        prepare=list_draft,
    ),
    "POST /api/v1/responsibility-list/drafts/{draft_id}/publish": Call(
        PLANNER, publish_list, prepare=list_draft
    ),
    # OGC API - Features: the layers are public, the cases are not
    "GET /ogc": Call(EVERYONE, get("/ogc")),
    "GET /ogc/conformance": Call(EVERYONE, get("/ogc/conformance")),
    # a planner's key lists the drafts too: a key sent must be a real one
    "GET /ogc/collections": Call(PUBLIC_READ, get("/ogc/collections")),
    "GET /ogc/collections/{collection_id}": Call(EVERYONE, get("/ogc/collections/grids")),
    "GET /ogc/collections/{collection_id}/items": Call(
        EVERYONE, get("/ogc/collections/grids/items")
    ),
    "GET /ogc/collections/{collection_id}/items/{fid}": Call(
        EVERYONE, grid_feature, prepare=first_grid_code
    ),
    "GET /ogc/collections/cases/items": Call(
        roles("dispatcher", "leader", "planner"), get("/ogc/collections/cases/items")
    ),
    **OGC_CALLS,
    # Open311 GeoReport v2: public reads of public fields (a dispatcher's key shows all; a
    # key sent must be real), keyed posts, OPTIONS naming each path's methods
    "GET /open311/v2/services.{fmt}": Call(EVERYONE, get("/open311/v2/services.json")),
    "GET /open311/v2/services/{code}.{fmt}": Call(EVERYONE, get("/open311/v2/services/CG01.json")),
    "POST /open311/v2/requests.{fmt}": Call(INTAKE, open311_report, 201),
    "GET /open311/v2/requests.{fmt}": Call(PUBLIC_READ, get("/open311/v2/requests.json")),
    "GET /open311/v2/requests/{number}.{fmt}": Call(
        PUBLIC_READ, get("/open311/v2/requests/{case[number]}.json")
    ),
    "GET /open311/v2/tokens/{token}.{fmt}": Call(
        PUBLIC_READ, get("/open311/v2/tokens/{case[number]}.json")
    ),
    **{
        f"OPTIONS /open311/v2/{path}": Call(
            EVERYONE,
            options("/open311/v2/" + path.format(fmt="json", code="CG01", number="1", token="1")),
            204,
        )
        for path in (
            "services.{fmt}",
            "services/{code}.{fmt}",
            "requests.{fmt}",
            "requests/{number}.{fmt}",
            "tokens/{token}.{fmt}",
        )
    },
}
#: pages a person posts a form to: a refusal is the page again (HTML), not problem details
FORM_PAGES = {"POST /session"}


def served_routes(app: FastAPI) -> set[str]:
    """Every ``METHOD path`` the app serves: what its OpenAPI documents, and the pages
    it serves undocumented (the docs themselves, the landing page)."""
    documented = {
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    pages = {
        f"{method} {re.sub(r':[a-z]+}', '}', route.path)}"  # {draft_id:int} as documented
        for route in _all_routes(app.router.routes)
        if isinstance(route, Route)  # undocumented ones too: pages, forms, OPTIONS
        for method in (route.methods or set()) - {"HEAD"}
    }
    return documented | pages


def _all_routes(routes: list[Any]) -> Iterator[Any]:
    """Every route, those of included routers too (FastAPI keeps them inside the router)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _all_routes(inner.routes)
        else:
            yield route


# ---- the tests -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, module_db_url: str) -> FastAPI:
    return build_app(tmp_path_factory, "roles", module_db_url)  # SQLite, then PostgreSQL


@pytest.fixture(scope="module")
def town(app: FastAPI) -> Iterator[Town]:
    for d in desk(app):
        for who in ROLES:
            d.key(who)  # every key exists before any cell counts the rows
        case = d.new_case("CG01")
        photo = attach(Town(d, case, 0, 0), "patrol", None)
        assert photo.status_code == 201, photo.text
        town = Town(d, case, int(photo.json()["id"]), 0)
        town.grids_version = active(town, "grids")
        yield town


def test_policy_names_every_route_and_every_action(app: FastAPI) -> None:
    actions = {f"POST /api/v1/cases/{{case_id}}/{a}" for a in ACTIONS}
    assert served_routes(app) == (set(POLICY) - actions) | {ACTION_ROUTE}
    assert set(ACTIONS) | DISTRICT_ACTIONS == set(TRANSITIONS)


def state_of(t: Town) -> tuple[object, ...]:
    """Every table's row count and the photo store's files: what a refusal must not change."""
    engine = t.d.engine
    with engine.connect() as conn:
        counts = tuple(
            (name, conn.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
            for name in sorted(inspect(engine).get_table_names())
        )
    root: Path = t.d.app.state.settings.attachments_dir
    return counts, sorted(p.name for p in root.rglob("*") if p.is_file())


CELLS = [
    pytest.param(endpoint, who, id=f"{endpoint} as {who or 'anonymous'}")
    for endpoint in POLICY
    for who in CALLERS
]


@pytest.mark.parametrize(("endpoint", "who"), CELLS)
def test_endpoint_as_caller(town: Town, endpoint: str, who: str | None) -> None:
    call = POLICY[endpoint]
    prepared = call.prepare(town)
    before = state_of(town)
    response = call.send(town, who, prepared)

    if who in call.who:
        assert response.status_code == call.ok, response.text
        return
    status = 401 if who in (None, "unknown") else 404 if call.hidden else 403
    assert_refused(response, endpoint, status)
    assert state_of(town) == before  # a refused call writes nothing
    if isinstance(prepared, dict):  # nor changes the case it was refused on
        assert town.d.get(prepared["id"]).json()["etag"] == prepared["etag"]


def assert_refused(response: httpx.Response, endpoint: str, status: int) -> None:
    """401 or 403, in the form the path's clients read: Open311's list, the page of a form,
    else problem details."""
    if endpoint in FORM_PAGES:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("text/html")
        return
    if " /open311/" in endpoint:
        assert response.status_code == status, response.text
        [error] = response.json()
        assert error["code"] == status and error["description"]
        return
    code = {401: "unauthenticated", 403: "forbidden", 404: "not-found"}[status]
    body = assert_problem(response, status, code)
    assert body["type"] == PROBLEM_BASE + code


def test_a_refused_action_names_the_roles_that_may(town: Town) -> None:
    case = case_in(town, "dispatched")
    response = town.d.act(case["id"], "accept", "dispatcher", case["etag"])
    body = assert_problem(response, 403, "forbidden")
    assert body["roles"] == ["handler"]
    assert town.d.get(case["id"]).json()["etag"] == case["etag"]


def test_an_admitted_action_is_traced_with_its_actor(town: Town) -> None:
    case = case_in(town, "dispatched")
    view = town.d.step(case, "defer", "admin", reason="等待法院裁定")
    assert view["status"] == "dispatched"  # a deferral keeps the status
    assert view["history"][-1]["action"] == "defer"
    assert view["history"][-1]["actor"] == "admin" and view["history"][-1]["role"] == "admin"


def test_another_patrol_finds_neither_the_case_nor_its_photo(town: Town) -> None:
    for path in ("/api/v1/cases/{case[id]}", "/api/v1/cases/{case[id]}/attachments/{attachment}"):
        response = get(path)(town, "patrol-2", None)
        assert_problem(response, 404, "not-found")
