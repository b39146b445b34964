"""Security headers on every answer, by page type: nosniff, Referrer-Policy and a CSP that
is strict everywhere but on the folium maps and the API docs, which get only what they need."""

from __future__ import annotations

import re

import pytest
from conftest_cases import Desk, desk_fixtures

from gridsvc.api.security import (
    STRICT,
    inline_scripts,
    map_policy,
    script_hash,
    tile_origins,
)
from gridsvc.maps.basemaps import TileOptions

app, d = desk_fixtures("security")


def directives(policy: str) -> dict[str, str]:
    return {p.split()[0]: p.partition(" ")[2] for p in (s.strip() for s in policy.split(";")) if p}


def assert_common(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    return directives(response.headers["content-security-policy"])


@pytest.mark.parametrize(
    ("method", "path", "who", "status"),
    [
        ("GET", "/api/v1/match?lon=121.45&lat=31.33", None, 200),  # JSON
        ("GET", "/api/v1/cases", None, 401),  # a problem answer
        ("GET", "/openapi.json", None, 200),
        ("GET", "/static/vendor/leaflet@1.9.3/dist/leaflet.js", None, 200),
        ("GET", "/", None, 200),  # the landing page, a template
        ("GET", "/dashboard?from=2026-03-01&to=2026-03-31", "leader", 200),
        ("GET", "/nowhere", None, 404),
        ("POST", "/api/v1/reports", None, 401),  # refused by the body limits, before routing
    ],
)
def test_every_answer_but_maps_and_docs_gets_the_strict_policy(
    d: Desk, method: str, path: str, who: str | None, status: int
) -> None:
    response = d.client.request(method, path, headers=d.headers(who), content=b"{}")
    assert response.status_code == status
    policy = assert_common(response)
    assert response.headers["content-security-policy"] == STRICT
    assert policy["default-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["img-src"] == "'self' data: blob:"


@pytest.mark.parametrize("path", ["/", "/dashboard?from=2026-03-01&to=2026-03-31"])
def test_the_template_pages_need_no_inline_style_or_script(d: Desk, path: str) -> None:
    page = d.client.get(path, headers=d.headers("leader"))
    assert page.status_code == 200
    assert "<style" not in page.text and not re.search(r"\sstyle=", page.text)
    assert not inline_scripts(page.text) and not re.search(r"\son[a-z]+=", page.text)
    for css in re.findall(r'<link rel="stylesheet" href="([^"]+)"', page.text):
        served = d.client.get(css)
        assert served.status_code == 200 and served.headers["content-type"].startswith("text/css")


def test_a_map_page_may_run_folium_inline_and_be_framed_by_the_dashboard(d: Desk) -> None:
    page = d.client.get("/maps/coverage", headers=d.headers("leader"))
    assert page.status_code == 200 and inline_scripts(page.text)  # folium's page
    policy = assert_common(page)
    assert policy["script-src"] == "'self' 'unsafe-inline'"
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["frame-ancestors"] == "'self'" and policy["default-src"] == "'self'"


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_the_docs_admit_their_own_inline_scripts_by_hash_and_nothing_else(
    d: Desk, path: str
) -> None:
    page = d.client.get(path)
    assert page.status_code == 200
    policy = assert_common(page)
    assert "'unsafe-inline'" not in policy["script-src"]
    for script in inline_scripts(page.text):
        assert f"'{script_hash(script)}'" in policy["script-src"]
    assert "cdn.jsdelivr.net" not in page.text and "fonts.googleapis" not in page.text
    assert policy["frame-ancestors"] == "'none'"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (TileOptions(offline=True), ""),
        (
            TileOptions(offline=True, intranet_url="http://tiles.local/{z}/{x}/{y}.png"),
            "http://tiles.local",
        ),
        (
            TileOptions(offline=True, intranet_url="https://{s}.gis.town:8443/{z}/{x}/{y}.png"),
            "https://*.gis.town:8443",
        ),
        (
            TileOptions(offline=False),
            "https://tile.openstreetmap.org https://*.tianditu.gov.cn https://*.is.autonavi.com",
        ),
    ],
    ids=["offline", "intranet", "intranet-subdomains", "online"],
)
def test_map_images_come_only_from_the_allowed_tile_hosts(
    options: TileOptions, expected: str
) -> None:
    img = directives(map_policy(tile_origins(options)))["img-src"]
    assert img == f"'self' data: blob: {expected}".rstrip()


def test_a_served_photo_keeps_nosniff_and_its_strict_policy(d: Desk) -> None:
    from conftest_cases import picture

    case = d.new_case()
    added = d.client.post(
        f"/api/v1/cases/{case['id']}/attachments",
        headers=d.headers("patrol"),
        files={"file": ("p.png", picture("PNG"), "text/html")},
    ).json()
    read = d.client.get(
        f"/api/v1/cases/{case['id']}/attachments/{added['id']}", headers=d.headers("dispatcher")
    )
    assert read.headers["content-type"] == "image/png"
    assert assert_common(read)["default-src"] == "'self'"
