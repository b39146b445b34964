"""Maps over HTTP: who may see them, the filters, bad parameters, assets from /static, gzip."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from conftest_cases import INSIDE, Desk, assert_problem, build_app, desk


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory, module_db_url: str) -> Iterator[Desk]:
    yield from desk(build_app(tmp_path_factory, "maps", module_db_url))


def tooltip_counts(html: str) -> dict[str, int]:
    """Cases per grid code as the hotspot map's first area layer carries them."""
    import json

    body = re.search(r"var area_data_[0-9a-f]+ = (\{.*?\});\n", html)
    assert body is not None
    cols = json.loads(body.group(1))["cols"]
    return dict(zip(cols["code"], cols["cases"], strict=True))


@pytest.mark.parametrize(
    ("who", "status"),
    [("leader", 200), ("dispatcher", 200), ("planner", 200), ("admin", 200), ("patrol", 403),
     (None, 401)],
)  # fmt: skip
def test_coverage_is_for_the_people_who_run_the_grid(
    office: Desk, who: str | None, status: int
) -> None:
    response = office.client.get("/maps/coverage", headers=office.headers(who))
    assert response.status_code == status
    if status == 200:
        assert response.headers["content-type"].startswith("text/html")
        assert "网格覆盖图" in response.text


def test_a_leader_can_open_a_map_with_the_key_in_the_address(office: Desk) -> None:
    response = office.client.get(f"/maps/coverage?api_key={office.key('leader')}&lang=en")
    assert response.status_code == 200
    assert "Grid coverage" in response.text


def test_hotspots_count_exactly_the_filtered_cases(office: Desk) -> None:
    before = tooltip_counts(
        office.client.get("/maps/hotspots?category=CG02", headers=office.headers("leader")).text
    )
    office.new_case(category="CG02", at=INSIDE)
    office.new_case(category="CG01", at=INSIDE)
    after = tooltip_counts(
        office.client.get("/maps/hotspots?category=CG02", headers=office.headers("leader")).text
    )
    assert after["310106113G01"] == before["310106113G01"] + 1  # the CG01 case is filtered out
    assert sum(after.values()) == sum(before.values()) + 1


def test_hotspot_dates_are_whole_days_in_china_time(office: Desk) -> None:
    url = "/maps/hotspots?from=2020-01-01&to=2020-01-31"
    response = office.client.get(url, headers=office.headers("leader"))
    assert response.status_code == 200
    assert sum(tooltip_counts(response.text).values()) == 0
    assert "2020-01-01 – 2020-01-31" in response.text


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("basemap=google", "unknown basemap"),
        ("basemap=osm", "offline"),
        ("category=ZZ99", "ZZ99"),
        ("field=nonsense", "unknown field"),
        ("status=finished", "unknown status"),
        ("from=yesterday", "is not a date"),
        ("from=2026-05-01T08:00", "zone offset"),
        ("lang=fr", None),
        ("period=year", None),
    ],
)
def test_bad_map_parameters_are_422_problems(
    office: Desk, query: str, fragment: str | None
) -> None:
    response = office.client.get(f"/maps/hotspots?{query}", headers=office.headers("leader"))
    problem = assert_problem(response, 422, None)
    if fragment:
        assert fragment in problem["detail"]


def test_pages_are_gzipped_and_their_assets_are_served_here(office: Desk) -> None:
    response = office.client.get(
        "/maps/coverage", headers=office.headers("leader", **{"Accept-Encoding": "gzip"})
    )
    assert response.headers.get("content-encoding") == "gzip"
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', response.text)
    assert any(a.endswith("leaflet.js") for a in assets)
    for asset in assets:
        assert office.client.get(asset).status_code == 200, asset


def test_impact_map_of_a_draft_is_for_planners(office: Desk) -> None:
    engine = office.engine
    from gridsvc.core.layers import LayerKind
    from gridsvc.services.planning import Planning
    from gridsvc.store import reference

    with engine.connect() as conn:
        grids = reference.load_layer(
            conn, LayerKind.GRIDS, reference.active_versions(conn)[LayerKind.GRIDS]
        )
    draft = Planning(engine).add_draft(grids, "unchanged copy")
    url = f"/maps/impact/grids/{draft['id']}"
    assert office.client.get(url, headers=office.headers("leader")).status_code == 403
    response = office.client.get(url, headers=office.headers("planner"))
    assert response.status_code == 200
    assert "网格调整影响图" in response.text
    missing = office.client.get("/maps/impact/grids/99999", headers=office.headers("planner"))
    assert_problem(missing, 404, None)


@pytest.mark.parametrize(
    ("who", "status"),
    [("leader", 200), ("dispatcher", 200), ("admin", 200), ("planner", 403), ("patrol", 403),
     (None, 401)],
)  # fmt: skip
def test_the_dashboard_is_for_leaders_and_dispatchers(
    office: Desk, who: str | None, status: int
) -> None:
    response = office.client.get("/dashboard", headers=office.headers(who))
    assert response.status_code == status


def test_the_dashboard_defaults_to_the_last_full_month_and_links_the_same_period(
    office: Desk,
) -> None:
    from datetime import datetime

    from gridsvc.core.evaluation import last_full_month
    from gridsvc.services.maps import LOCAL_TZ

    first, last = last_full_month(datetime.now(LOCAL_TZ).date())
    key = office.key("leader")
    page = office.client.get(f"/dashboard?api_key={key}").text
    assert f'value="{first.isoformat()}"' in page and f'value="{last.isoformat()}"' in page
    assert f"/maps/hotspots?from={first.isoformat()}&amp;to={last.isoformat()}" in page
    assert f"/dashboard/evaluation.xlsx?from={first.isoformat()}" in page  # the page's own file
    assert f"api_key={key}" in page  # the deprecated key is carried along, for this release
    assert "按期结案率" in page and "合计" in page


def test_last_full_month_crosses_the_year() -> None:
    from datetime import date

    from gridsvc.core.evaluation import last_full_month

    assert last_full_month(date(2026, 1, 15)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert last_full_month(date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 2, 28))


@pytest.mark.parametrize(
    "query", ["by=planet", "from=2026-05-01&to=2026-04-01", "from=May&to=June", "lang=fr"]
)
def test_bad_dashboard_parameters_are_422_problems(office: Desk, query: str) -> None:
    response = office.client.get(f"/dashboard?{query}", headers=office.headers("leader"))
    assert_problem(response, 422, None)


def test_the_dashboard_escapes_what_it_is_given(office: Desk) -> None:
    key = office.key("leader")
    page = office.client.get(f"/dashboard?api_key={key}&lang=en").text
    assert "Leader&#39;s dashboard" in page or "Leader's dashboard" in page
    hostile = office.client.get(
        "/dashboard?from=2026-03-01&to=2026-03-31&api_key=" + key + '"><script>x()</script>'
    )
    assert hostile.status_code == 401  # not a key: refused before any page is built
