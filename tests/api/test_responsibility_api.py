"""The responsibility list as versions, through HTTP: upload, compare, publish, route by it."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest_cases import Desk, assert_problem, build_app, desk

from gridsvc.config import DEMO_DIR

BASE = "/api/v1/responsibility-list"


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory, module_db_url: str) -> Iterator[Desk]:
    yield from desk(build_app(tmp_path_factory, "lists", module_db_url))


def demo_rows() -> list[dict[str, str]]:
    with open(DEMO_DIR / "responsibility_list.csv", encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def as_csv(rows: list[dict[str, str]], encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def new_list() -> list[dict[str, str]]:
    """The demo list with CG01's handling limit doubled and a new matter CG98 (路面积水)."""
    rows = demo_rows()
    cg01 = next(r for r in rows if r["code"] == "CG01")
    cg01["limit_handle_h"] = str(float(cg01["limit_handle_h"]) * 2)
    rows.append(cg01 | {"code": "CG98", "name": "路面积水", "name_en": "Standing water"})
    return rows


def upload(office: Desk, data: bytes, who: str = "planner"):  # type: ignore[no-untyped-def]
    return office.client.post(
        f"{BASE}/drafts", headers=office.headers(who), files={"file": ("list.csv", data)}
    )


def history(office: Desk) -> list[dict]:
    return office.client.get(f"{BASE}/versions", headers=office.headers("planner")).json()


def test_a_new_list_is_compared_published_and_routes_reports(office: Desk) -> None:
    (initial,) = history(office)
    assert initial["status"] == "published" and initial["matters"] == len(demo_rows())
    assert_problem(office.report(category="CG98"), 422, "unknown-category")

    response = upload(office, as_csv(new_list(), "gbk"))  # as Excel saves it in China
    assert response.status_code == 201, response.text
    draft = response.json()
    assert draft["added"] == ["CG98"] and draft["removed"] == []
    assert draft["changed"] == [{"code": "CG01", "fields": ["limit_handle_h"]}]
    assert draft["active"] == initial["id"]
    assert_problem(
        office.report(category="CG98"), 422, "unknown-category"
    )  # a draft routes nothing

    url = f"{BASE}/drafts/{draft['id']}/publish"
    assert_problem(office.client.post(url, headers=office.headers("planner")), 428, None)
    stale = {"If-Match": f'"draft-{draft["id"]}", "active-{initial["id"] + 99}"'}
    assert_problem(office.client.post(url, headers=office.headers("planner", **stale)), 412, None)
    tags = {"If-Match": f'"draft-{draft["id"]}", "active-{initial["id"]}"'}
    published = office.client.post(url, headers=office.headers("planner", **tags))
    assert published.json() == {"published": draft["id"], "retired": initial["id"]}

    case = office.new_case(category="CG98")
    assert case["layer_versions"]["responsibility_list"] == draft["id"]
    assert [(v["id"], v["status"]) for v in history(office)] == [
        (draft["id"], "published"),
        (initial["id"], "retired"),
    ]
    again = office.client.post(
        url,
        headers=office.headers(
            "planner", **{"If-Match": f'"draft-{draft["id"]}", "active-{draft["id"]}"'}
        ),
    )
    assert_problem(again, 409, None)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda rows: rows[0].update(primary_department="D99"), "department D99"),
        (lambda rows: rows[0].update(group="WG99"), "working group WG99"),
        (lambda rows: rows[0].update(level="province"), "level"),
        (lambda rows: rows[0].update(limit_handle_h="soon"), "limit_handle_h"),
        (lambda rows: rows.append(dict(rows[0])), "CG01"),  # the same code twice
    ],
)
def test_a_bad_list_is_refused_and_nothing_is_stored(office: Desk, change, fragment: str) -> None:  # type: ignore[no-untyped-def]
    before = history(office)
    rows = demo_rows()
    change(rows)
    problem = assert_problem(upload(office, as_csv(rows)), 422, None)
    assert fragment in problem["detail"]
    assert history(office) == before


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"code,name\n",
        b"\x00\xff\xfe\x00" * 100,
        # a carriage return inside an unquoted field (schemathesis: csv.Error was a 500)
        "ÃÆ\U000a4a40ÔÙ\x1f\r²8}Ú".encode(),
        b"code,name\r\nCG01,a\rb\r\n",
    ],
)
def test_empty_binary_or_broken_uploads_are_422_and_store_nothing(
    office: Desk, data: bytes
) -> None:
    before = history(office)
    assert_problem(upload(office, data), 422, None)
    assert history(office) == before


def test_an_oversized_list_is_413_and_stores_nothing(office: Desk) -> None:
    before = history(office)
    huge = as_csv(demo_rows()) + b"x" * (3 * 1024 * 1024)
    assert_problem(upload(office, huge), 413, None)
    assert history(office) == before


def test_only_planners_and_admins_upload(office: Desk) -> None:
    for who, status in (("dispatcher", 403), ("leader", 403), ("patrol", 403), (None, 401)):
        assert upload(office, as_csv(demo_rows()), who).status_code == status


def test_concurrent_publishes_over_http_one_wins_the_others_412(office: Desk) -> None:
    """Issue 19, finding 1: both answered 500 and two lists stayed published."""
    for round_ in range(5):
        active = next(v["id"] for v in history(office) if v["status"] == "published")
        drafts = [upload(office, as_csv(demo_rows())).json()["id"] for _ in range(3)]
        start = threading.Barrier(len(drafts))

        def publish(draft: int, active: int = active, start: threading.Barrier = start) -> int:
            tags = {"If-Match": f'"draft-{draft}", "active-{active}"'}
            start.wait()
            url = f"{BASE}/drafts/{draft}/publish"
            return office.client.post(url, headers=office.headers("planner", **tags)).status_code

        with ThreadPoolExecutor(len(drafts)) as pool:
            statuses = sorted(pool.map(publish, drafts))
        assert statuses == [200, 412, 412], (round_, statuses)
        assert [v["status"] for v in history(office)].count("published") == 1
