"""A page of the case list reads the page, not ten pages (issue 23 item 7's benchmark).

Without a colour or overdue filter every case read is on the page; reading 500 cases and
their histories for a page of 50 made a town's page 60 ms on a 200,000-case city.
"""

from __future__ import annotations

from typing import Any

import pytest
from case_kit import INSIDE, PATROL, submit

from gridsvc.services import case_reads as case_module
from gridsvc.services.case_reads import CaseFilter
from gridsvc.services.cases import CaseService, Report


def _reports(svc: CaseService, n: int) -> list[int]:
    lon, lat = INSIDE
    return [
        submit(svc, Report(lon=lon, lat=lat, crs="cgcs2000", category="CG01"), PATROL).body["id"]
        for _ in range(n)
    ]


@pytest.fixture(scope="module")
def ids(svc: CaseService) -> list[int]:
    return _reports(svc, 7)


def _limits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    real = case_module.store.search_cases

    def recording(conn: Any, filters: dict[str, Any], before: int | None, limit: int) -> Any:
        seen.append(limit)
        return real(conn, filters, before, limit)

    monkeypatch.setattr(case_module.store, "search_cases", recording)
    return seen


def test_a_page_without_computed_filters_reads_one_more_than_the_page(
    svc: CaseService, ids: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _limits(monkeypatch)
    items, cursor = svc.search(CaseFilter(), None, 3)
    assert [i["id"] for i in items] == sorted(ids, reverse=True)[:3]
    assert cursor == items[-1]["id"]
    assert seen == [4]  # was [500]


def test_pages_walk_the_list_and_the_last_page_says_so(svc: CaseService, ids: list[int]) -> None:
    got, cursor = [], None
    while True:
        items, cursor = svc.search(CaseFilter(), cursor, 3)
        got += [i["id"] for i in items]
        if cursor is None:
            break
    assert got == sorted(got, reverse=True) and set(ids) <= set(got)
    # a page that ends exactly at the last case has no next cursor
    everything = len(got)
    items, cursor = svc.search(CaseFilter(), None, everything)
    assert len(items) == everything and cursor is None


def test_a_colour_filter_still_reads_in_batches(
    svc: CaseService, ids: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _limits(monkeypatch)
    items, _ = svc.search(CaseFilter(colour="red"), None, 3)
    assert all(i["supervision"]["colour"] == "red" for i in items)
    assert seen and all(limit == case_module.SEARCH_BATCH for limit in seen)
