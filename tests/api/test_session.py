"""The browser's sign-in: a key pasted once on the landing page opens the pages its role may."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest_cases import Desk, assert_problem, desk_fixtures
from fastapi.testclient import TestClient

from gridsvc.api.auth import SESSION_COOKIE
from gridsvc.api.routes.session import PAGES
from gridsvc.core.workflow import Role

app, d = desk_fixtures("session", both_backends=True)
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def browser(d: Desk) -> Iterator[TestClient]:
    """A client of its own, so one test's cookie is not another's."""
    with TestClient(d.app, raise_server_exceptions=False, headers=BROWSER) as client:
        yield client


def sign_in(browser: TestClient, key: str, **form: str) -> object:
    return browser.post("/session", data={"key": key, **form}, follow_redirects=False)


def test_the_landing_page_is_chinese_with_a_sign_in_form(browser: TestClient) -> None:
    page = browser.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="zh">' in page.text and "登录" in page.text
    assert 'action="/session"' in page.text and 'type="password"' in page.text
    english = browser.get("/?lang=en")
    assert '<html lang="en">' in english.text and "Sign in" in english.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from elsewhere


def test_a_key_signs_in_with_a_strict_http_only_cookie(browser: TestClient, d: Desk) -> None:
    answer = sign_in(browser, d.key("leader"))
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    page = browser.get("/")
    assert "leader" in page.text and "退出登录" in page.text
    for path, _, roles in PAGES:  # every link shown opens, with the cookie alone
        assert (f'href="{path}"' in page.text) == (Role.LEADER in roles)
    assert browser.get("/dashboard").status_code == 200
    assert browser.get("/maps/coverage").status_code == 200
    assert browser.get("/dashboard/evaluation.csv").status_code == 200


@pytest.mark.parametrize(
    ("who", "shown", "hidden"),
    [
        ("planner", ["/maps/coverage", "/maps/hotspots", "/plan"], ["/dashboard", "/dispatch"]),
        ("dispatcher", ["/dashboard", "/maps/coverage", "/dispatch"], ["/patrol", "/plan"]),
        ("patrol", ["/patrol"], ["/dashboard", "/maps/coverage", "/dispatch"]),
        ("handler-D01", ["/handle", "/maps/coverage"], ["/dispatch", "/plan"]),
    ],
)
def test_the_landing_page_links_what_the_role_may_open(
    browser: TestClient, d: Desk, who: str, shown: list[str], hidden: list[str]
) -> None:
    sign_in(browser, d.key(who), lang="en")
    page = browser.get("/?lang=en")
    for path in shown:
        assert f'href="{path}?lang=en"' in page.text
        assert browser.get(path).status_code == 200
    for path in hidden:
        assert f'href="{path}' not in page.text
    if not shown:
        assert "no pages" in page.text


def test_a_bad_key_on_the_form_is_a_page_error_not_json(browser: TestClient) -> None:
    """Finding: the landing page's links answered a browser with a JSON 401."""
    answer = sign_in(browser, "gs_never-issued")
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("text/html")
    assert "密钥无效或已吊销" in answer.text and 'action="/session"' in answer.text
    assert "set-cookie" not in answer.headers
    english = sign_in(browser, "wrong", lang="en")
    assert "unknown or revoked" in english.text


def test_a_browser_refused_a_page_gets_the_sign_in_page(browser: TestClient, d: Desk) -> None:
    refused = browser.get("/dashboard?from=2026-03-01&to=2026-03-31")
    assert refused.status_code == 401 and refused.headers["content-type"].startswith("text/html")
    assert 'name="next" value="/dashboard"' in refused.text
    sign_in(browser, d.key("handler-D01"))
    forbidden = browser.get("/dashboard")
    assert forbidden.status_code == 403 and "您的角色不能打开此页面" in forbidden.text
    api = TestClient(d.app).get("/dashboard")  # an API client still gets problem details
    assert_problem(api, 401, "unauthenticated")


def test_the_cookie_opens_pages_not_the_api(browser: TestClient, d: Desk) -> None:
    sign_in(browser, d.key("dispatcher"))
    assert_problem(browser.get("/api/v1/cases"), 401, "unauthenticated")
    assert_problem(browser.get("/api/v1/evaluation?from=2026-03-01&to=2026-03-31"), 401, None)


def test_sign_out_forgets_the_key(browser: TestClient, d: Desk) -> None:
    sign_in(browser, d.key("leader"))
    assert browser.get("/dashboard").status_code == 200
    out = browser.post("/session/sign-out", data={"lang": "en"}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/?lang=en"
    assert (
        f'{SESSION_COOKIE}=""' in out.headers["set-cookie"]
        or "Max-Age=0" in out.headers["set-cookie"]
    )
    assert browser.get("/dashboard").status_code == 401


@pytest.mark.parametrize(
    ("next", "location"),
    [
        ("/dashboard?from=2026-03-01&to=2026-03-31", "/dashboard?from=2026-03-01&to=2026-03-31"),
        ("/maps/hotspots", "/maps/hotspots"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/api/v1/cases", "/"),
    ],
)
def test_after_sign_in_only_this_sites_pages_are_followed(
    browser: TestClient, d: Desk, next: str, location: str
) -> None:
    answer = sign_in(browser, d.key("leader"), next=next)
    assert answer.status_code == 303 and answer.headers["location"] == location


def test_a_form_posted_from_another_site_is_refused(browser: TestClient, d: Desk) -> None:
    answer = browser.post(
        "/session",
        data={"key": d.key("leader")},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert answer.status_code == 403 and "set-cookie" not in answer.headers


def test_a_revoked_saved_key_is_forgotten(browser: TestClient) -> None:
    browser.cookies.set(SESSION_COOKIE, "gs_never-issued")
    page = browser.get("/")
    assert page.status_code == 200 and "保存的密钥已失效" in page.text
    assert SESSION_COOKIE in page.headers["set-cookie"]
