"""Refusals speak the request's language: Chinese unless Accept-Language prefers English.

The users are Chinese officials, so a request without Accept-Language (or naming neither
language we speak) is answered in Chinese; the pages send their own zh/en. The tests'
clients send ``Accept-Language: en`` by default (tests/conftest.py): here the header is
taken away or set on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from conftest_cases import FAR_OUTSIDE, INSIDE, Desk, assert_problem, desk_fixtures
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request

from gridsvc.api.problems import request_lang
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key, town_names

app, d = desk_fixtures("languages-api")


@pytest.fixture(scope="module", name="zh")
def chinese_desk(app: FastAPI) -> Iterator[Desk]:
    """A desk whose client sends no Accept-Language at all, as curl or a phone app may."""
    with TestClient(app, raise_server_exceptions=False) as client:
        del client.headers["Accept-Language"]
        yield Desk(app, client)


def _swapped(desk: Desk, lang: dict[str, str]) -> httpx.Response:
    return desk.report(at=(INSIDE[1], INSIDE[0]), headers=lang)


def _outside(desk: Desk, lang: dict[str, str]) -> httpx.Response:
    return desk.report(at=FAR_OUTSIDE, headers=lang)


def _unknown_category(desk: Desk, lang: dict[str, str]) -> httpx.Response:
    return desk.report(category="CG99", headers=lang)


def _stale(desk: Desk, lang: dict[str, str]) -> httpx.Response:
    case = desk.new_case()
    return desk.client.post(
        f"/api/v1/cases/{case['id']}/dispatch",
        headers=desk.headers("dispatcher", **{"If-Match": f'"{case["etag"] + 5}"'}, **lang),
    )


#: (how to provoke it, status, code, Chinese the detail holds, English it holds, the Chinese title)
CASES: list[tuple[Callable[[Desk, dict[str, str]], httpx.Response], int, str, str, str, str]] = [
    (_swapped, 422, "swapped-coordinates", "经纬度疑似颠倒", "look swapped", "经纬度疑似颠倒"),
    (_outside, 422, "outside-jurisdiction", "距辖区边界 300 米；最近的网格是", "outside the jurisdiction", "点位在辖区之外"),
    (_unknown_category, 422, "unknown-category", "未知类别 'CG99'；有效的编码", "unknown category 'CG99'", "未知类别"),
    (_stale, 412, "stale-version", "请重新读取", "read it again", "数据已被修改"),
]  # fmt: skip
IDS = [c[2] for c in CASES]


@pytest.mark.parametrize(
    ("provoke", "status", "code", "zh_words", "en_words", "title"), CASES, ids=IDS
)
def test_without_accept_language_the_answer_is_chinese(
    zh: Desk, provoke: Any, status: int, code: str, zh_words: str, en_words: str, title: str
) -> None:
    response = provoke(zh, {})
    body = assert_problem(response, status, code)
    assert zh_words in body["detail"] and en_words not in body["detail"], body
    assert body["title"] == title
    assert response.headers["content-language"] == "zh"


@pytest.mark.parametrize("header", ["en", "en-US,en;q=0.9", "zh;q=0.3, en-GB;q=0.8"])
@pytest.mark.parametrize(
    ("provoke", "status", "code", "zh_words", "en_words", "title"), CASES, ids=IDS
)
def test_english_when_english_is_preferred(
    zh: Desk,
    header: str,
    provoke: Any,
    status: int,
    code: str,
    zh_words: str,
    en_words: str,
    title: str,
) -> None:
    response = provoke(zh, {"Accept-Language": header})
    body = assert_problem(response, status, code)
    assert en_words in body["detail"] and zh_words not in body["detail"], body
    assert body["title"] != title and body["title"].isascii()
    assert response.headers["content-language"] == "en"


def test_an_unknown_language_gets_chinese(zh: Desk) -> None:
    response = _unknown_category(zh, {"Accept-Language": "fr-FR,de;q=0.8"})
    assert "未知类别" in assert_problem(response, 422, "unknown-category")["detail"]
    assert response.headers["content-language"] == "zh"


def test_the_form_syntax_stays_in_chinese(zh: Desk) -> None:
    """A message naming a parameter names the API's ``name=`` in either language."""
    response = zh.client.get(
        "/api/v1/evaluation",
        params={"by": "street", "from": "2026-05-01", "to": "2026-05-31"},
        headers=zh.headers("leader"),
    )
    body = assert_problem(response, 422, "invalid-input")
    assert "'street' 不是 by= 可用的分组" in body["detail"], body


def test_open311_errors_speak_the_language_too(zh: Desk) -> None:
    response = zh.client.get("/open311/v2/requests/nope.json", headers=zh.headers("dispatcher"))
    assert response.status_code == 404
    assert "没有编号为 'nope' 的案件" in response.json()[0]["description"]
    english = zh.client.get(
        "/open311/v2/requests/nope.json",
        headers=zh.headers("dispatcher", **{"Accept-Language": "en"}),
    )
    assert "no case numbered 'nope'" in english.json()[0]["description"]


def _request(accept_language: str | None) -> Request:
    headers = [] if accept_language is None else [(b"accept-language", accept_language.encode())]
    return Request({"type": "http", "headers": headers})


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "zh"),
        ("", "zh"),
        ("en", "en"),
        ("EN-us", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en;q=0.2,zh;q=0.9", "zh"),
        ("zh;q=0.1,en;q=0.5", "en"),
        ("en;q=0", "zh"),  # q=0 means "not this one"
        ("fr,de", "zh"),
        ("*", "zh"),
        ("en;q=bad", "zh"),
    ],
)
def test_request_lang(header: str | None, lang: str) -> None:
    assert request_lang(_request(header)) == lang


def test_a_malformed_report_is_refused_in_chinese_field_by_field(zh: Desk) -> None:
    """Pydantic's own refusals (a missing field, text too long) come in Chinese too; the
    fields keep their names, and English is pydantic's wording as before."""
    body = {"lon": INSIDE[0], "lat": INSIDE[1], "crs": "cgcs2000", "description": "字" * 5000}
    response = zh.client.post("/api/v1/reports", json=body, headers=zh.headers("patrol"))
    problem = assert_problem(response, 422, "request-validation")
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert messages["body.category"] == "必填，缺少此项", problem
    assert (
        messages["body.description"].startswith("最多 ")
        and "个字符" in messages["body.description"]
    )
    assert "body.category: 必填" in problem["detail"] and problem["title"] == "请求无效"
    english = zh.client.post(
        "/api/v1/reports", json=body, headers=zh.headers("patrol", **{"Accept-Language": "en"})
    )
    words = {e["field"]: e["message"] for e in english.json()["errors"]}
    assert words["body.category"] == "Field required"


def test_the_routers_own_404_and_405_speak_chinese(zh: Desk) -> None:
    missing = zh.client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.json()["detail"] == "没有这个地址"
    assert missing.headers["content-language"] == "zh"
    wrong = zh.client.delete("/api/v1/match")
    assert wrong.status_code == 405 and wrong.json()["detail"] == "此地址不接受 DELETE 请求"
    assert "GET" in wrong.headers["allow"]
    english = zh.client.get("/api/v1/no-such-thing", headers={"Accept-Language": "en"})
    assert english.json()["detail"] == "Not Found"


def test_a_town_planners_rollback_is_refused_in_chinese(zh: Desk) -> None:
    """A planner's refusal (a rollback is the district's, not a town's) in the request's
    language: it was English whatever the request asked for."""
    with zh.engine.connect() as conn:
        town = sorted(town_names(conn))[0]
    key = create_key(zh.engine, Role.PLANNER, "planner-of-the-town", town=town)
    url, sent = "/api/v1/layers/grids/rollback", {"Authorization": f"Bearer {key}"}
    chinese = zh.client.post(url, headers=sent | {"If-Match": '"active-1"'})
    body = assert_problem(chinese, 403, "forbidden")
    assert body["title"] == "无权操作" and chinese.headers["content-language"] == "zh"
    assert body["detail"].startswith("回退会替换整个责任网格图层"), body
    assert f"限于街镇 {town} 的规划员密钥不能回退" in body["detail"]
    english = zh.client.post(url, headers=sent | {"Accept-Language": "en"})
    assert english.status_code == 403 and english.headers["content-language"] == "en"
    assert english.json()["detail"].startswith(
        f"a rollback replaces the whole grids layer, every town's; a planner's key scoped "
        f"to town {town} cannot make one"
    )


def test_a_match_outside_says_why_in_the_readers_language(zh: Desk) -> None:
    """The /match answer's reason (and so the match command's column) is a message too."""
    lon, lat = FAR_OUTSIDE
    params = {"lon": lon, "lat": lat, "crs": "cgcs2000"}
    chinese = zh.client.get("/api/v1/match", params=params, headers=zh.headers("patrol")).json()
    assert chinese["status"] == "outside" and "在辖区之外，距辖区边界" in chinese["reason"]
    english = zh.client.get(
        "/api/v1/match", params=params, headers=zh.headers("patrol", **{"Accept-Language": "en"})
    ).json()
    assert english["reason"].startswith("outside the jurisdiction, ")
    assert english["nearest_grid_code"] in chinese["reason"]
