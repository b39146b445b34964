"""``/me`` and ``/me/cases``: what the role pages open with.

A patrol's "my reports" are exactly the reports sent with its key (not a
colleague's in the same grid, whatever the reporter field says); a handler's
are its department's cases; the desk roles are sent to the queue.
"""

from __future__ import annotations

import pytest
from conftest_cases import (
    INSIDE,
    Desk,
    assert_problem,
    departments,
    desk_fixtures,
    grid_at,
    matters,
    picture,
)

from gridsvc.core.errors import InvalidInput
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key

app, d = desk_fixtures("me", both_backends=True)


def mine(d: Desk, who: str, **params: str) -> list[dict]:
    response = d.client.get("/api/v1/me/cases", headers=d.headers(who), params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_me_names_the_role_and_department_never_the_key(d: Desk) -> None:
    response = d.client.get("/api/v1/me", headers=d.headers("handler-D01"))
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "handler" and body["department"] == "D01"
    assert body["department_name"]
    assert d.key("handler-D01") not in response.text


def test_me_without_a_key_is_401(d: Desk) -> None:
    assert_problem(d.client.get("/api/v1/me"), 401, "unauthenticated")


def test_my_reports_are_the_ones_sent_with_my_key(d: Desk) -> None:
    first = d.new_case(reporter="patrol-mine")
    other = d.report("patrol-2", reporter="patrol-mine").json()  # same name, another key
    ids = [c["id"] for c in mine(d, "patrol")]
    assert first["id"] in ids
    assert other["id"] not in ids
    assert other["id"] in [c["id"] for c in mine(d, "patrol-2")]


def test_my_reports_newest_first_and_paged(d: Desk) -> None:
    made = [d.new_case()["id"] for _ in range(3)]
    response = d.client.get("/api/v1/me/cases", headers=d.headers("patrol"), params={"limit": 2})
    page = response.json()
    assert [c["id"] for c in page["items"]] == sorted(made, reverse=True)[:2]
    rest = d.client.get(
        "/api/v1/me/cases",
        headers=d.headers("patrol"),
        params={"limit": 2, "cursor": page["next_cursor"]},
    ).json()
    assert made[0] in [c["id"] for c in rest["items"]]


def test_open_leaves_out_cancelled_reports(d: Desk) -> None:
    case = d.new_case()
    cancelled = d.client.post(
        f"/api/v1/cases/{case['id']}/cancel",
        headers=d.headers("dispatcher", **{"If-Match": f'"{case["etag"]}"'}),
        json={"reason": "误报"},
    )
    assert cancelled.status_code == 200, cancelled.text
    assert case["id"] in [c["id"] for c in mine(d, "patrol")]
    assert case["id"] not in [c["id"] for c in mine(d, "patrol", open="true")]


def test_a_handler_sees_its_departments_cases(d: Desk) -> None:
    code = next(c for c, m in matters().items() if m["primary_department"] == "D01")
    case = d.new_case(category=code)
    assert case["department"] == "D01"
    assert case["id"] in [c["id"] for c in mine(d, "handler-D01")]
    assert case["id"] not in [c["id"] for c in mine(d, "handler-D10")]


def test_the_desk_is_sent_to_the_queue(d: Desk) -> None:
    response = d.client.get("/api/v1/me/cases", headers=d.headers("dispatcher"))
    assert_problem(response, 403, "forbidden")
    assert "/api/v1/cases" in response.json()["detail"]


def test_the_directory_names_departments_and_teams(d: Desk) -> None:
    response = d.client.get("/api/v1/directory", headers=d.headers("patrol"))
    assert response.status_code == 200
    body = response.json()
    assert {d["code"]: d["name"] for d in body["departments"]}["D01"] == departments()["D01"][
        "name"
    ]
    assert any(d["level"] == "county" for d in body["departments"])
    assert body["teams"] and all(t["code"] and t["name"] for t in body["teams"])
    assert_problem(d.client.get("/api/v1/directory"), 401, "unauthenticated")


def test_a_sign_in_code_is_an_uncached_svg_for_a_page_of_the_role(d: Desk) -> None:
    response = d.client.post("/api/v1/me/sign-in-code", headers=d.headers("patrol"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["cache-control"] == "no-store"
    assert response.content.lstrip().startswith((b"<?xml", b"<svg"))
    assert d.key("patrol").encode() not in response.content  # drawn as modules, not as text


def test_a_sign_in_code_for_a_page_the_role_may_not_open_is_403(d: Desk) -> None:
    response = d.client.post(
        "/api/v1/me/sign-in-code", headers=d.headers("patrol"), params={"page": "/dispatch"}
    )
    body = assert_problem(response, 403, "forbidden")
    assert "/patrol" in body["detail"]


def test_a_sign_in_code_without_a_key_is_401(d: Desk) -> None:
    assert_problem(d.client.post("/api/v1/me/sign-in-code"), 401, "unauthenticated")


# ---- my grid: a patrol's own grid and its open cases --------------------------------------


#: a point of another demo grid than INSIDE's, 600 m west
ELSEWHERE = (INSIDE[0] - 0.006, INSIDE[1])


def grid_patrol(d: Desk, name: str, grid: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(d.engine, Role.PATROL, name, grid=grid)}"}


def test_my_grid_is_its_outline_and_its_open_cases_only(d: Desk) -> None:
    grid = str(grid_at(*INSIDE)["code"])
    assert str(grid_at(*ELSEWHERE)["code"]) != grid
    headers = grid_patrol(d, "网格员甲", grid)
    here = d.new_case(description="井盖缺失 示范路12号")  # by a colleague's key
    there = d.new_case(at=ELSEWHERE)
    done = d.new_case()
    d.step(done, "cancel", "dispatcher", reason="误报")
    body = d.client.get("/api/v1/me/grid", headers=headers).json()
    assert body["type"] == "FeatureCollection"
    outline, *cases = body["features"]
    assert outline["properties"] == {
        "kind": "grid",
        "code": grid,
        "name": outline["properties"]["name"],
    }
    assert outline["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    ids = {c["properties"]["id"] for c in cases}
    assert here["id"] in ids and there["id"] not in ids and done["id"] not in ids
    shown = next(c for c in cases if c["properties"]["id"] == here["id"])
    assert shown["properties"]["colour"] in {"green", "yellow", "orange", "red"}
    assert "井盖" not in str(body) and "reporter" not in str(body)  # no description, no contact


def test_a_grid_patrol_reads_its_grids_open_cases_but_acts_only_on_its_own(d: Desk) -> None:
    grid = str(grid_at(*INSIDE)["code"])
    headers = grid_patrol(d, "网格员乙", grid)
    colleague = d.new_case()
    read = d.client.get(f"/api/v1/cases/{colleague['id']}", headers=headers)
    assert read.status_code == 200 and "reporter" not in read.json()
    fix = d.client.post(
        f"/api/v1/cases/{colleague['id']}/fix",
        json={"result": "已处理"},
        headers=headers | {"If-Match": f'"{colleague["etag"]}"'},
    )
    assert_problem(fix, 403, "forbidden")
    photo = d.client.post(
        f"/api/v1/cases/{colleague['id']}/attachments",
        files={"file": ("a.png", picture("PNG"), "image/png")},
        headers=headers,
    )
    assert_problem(photo, 403, "forbidden")
    assert d.get(colleague["id"]).json()["etag"] == colleague["etag"]  # nothing changed
    far = d.new_case(at=ELSEWHERE)
    assert_problem(d.client.get(f"/api/v1/cases/{far['id']}", headers=headers), 404, "not-found")


def test_my_grid_without_a_grid_or_for_another_role(d: Desk) -> None:
    assert_problem(d.client.get("/api/v1/me/grid", headers=d.headers("patrol")), 404, "not-found")
    refused = d.client.get("/api/v1/me/grid", headers=d.headers("dispatcher"))
    assert_problem(refused, 403, "forbidden")


def test_a_key_names_a_grid_the_town_has_and_only_a_patrols_has_one(d: Desk) -> None:
    """Checked where the key is made; the error lists the grids there are."""
    grid = str(grid_at(*INSIDE)["code"])
    with pytest.raises(InvalidInput, match=f"no grid 'G-NONE'.*{grid[:-2]}"):
        create_key(d.engine, Role.PATROL, "丙", grid="G-NONE")
    with pytest.raises(InvalidInput, match="only patrol keys"):
        create_key(d.engine, Role.DISPATCHER, "丁", grid=grid)
    me = d.client.get("/api/v1/me", headers=grid_patrol(d, "戊", grid)).json()
    assert me["grid"] == grid


def test_a_sign_in_code_holds_the_public_url_when_one_is_set(d: Desk) -> None:
    """A phone cannot resolve the name the desktop used (testserver, localhost)."""
    from gridsvc.api.routes.me import sign_in_svg

    key = d.key("patrol")
    plain = d.client.post("/api/v1/me/sign-in-code", headers=d.headers("patrol")).content
    assert plain == sign_in_svg(f"http://testserver/patrol#key={key}", "/patrol")
    settings = d.app.state.settings
    d.app.state.settings = settings.model_copy(update={"public_url": "http://10.20.1.5:8000/"})
    try:
        public = d.client.post("/api/v1/me/sign-in-code", headers=d.headers("patrol")).content
    finally:
        d.app.state.settings = settings
    assert public == sign_in_svg(f"http://10.20.1.5:8000/patrol#key={key}", "/patrol")


@pytest.mark.parametrize("bad", ["10.20.1.5:8000", "ftp://x", "http://a b", "http://x/?k=1"])
def test_a_public_url_that_is_no_web_address_is_refused_at_start(bad: str) -> None:
    from pydantic import ValidationError

    from gridsvc.config import Settings

    with pytest.raises(ValidationError, match="public_url"):
        Settings(public_url=bad)
