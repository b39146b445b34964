"""The intake route answered ahead of FastAPI's routing (``api/direct.py``): same answers."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from conftest_cases import INSIDE, REPORTS, Desk, assert_problem, desk_fixtures
from fastapi import FastAPI

app, d = desk_fixtures("direct", both_backends=True)


def _raw(d: Desk, encoding: str, **fields: Any) -> tuple[dict[str, str], bytes]:
    """Headers and body bytes as they came over the wire (not decoded by httpx)."""
    body = {"lon": INSIDE[0], "lat": INSIDE[1], "crs": "cgcs2000", "category": "CG01"} | fields
    headers = d.headers("patrol", **{"Accept-Encoding": encoding})
    with d.client.stream("POST", REPORTS, json=body, headers=headers) as response:
        assert response.status_code == 201
        return dict(response.headers), b"".join(response.iter_raw())


def test_a_report_answer_is_gzipped_for_a_client_that_asks_and_only_then(d: Desk) -> None:
    long = "路面破损，井盖缺失，" * 150  # an answer well over the 2 kB gzip threshold
    plain_headers, plain = _raw(d, "identity", description=long)
    zipped_headers, zipped = _raw(d, "gzip", description=long)
    assert "content-encoding" not in plain_headers
    assert zipped_headers["content-encoding"] == "gzip"
    assert len(zipped) < len(plain) / 2
    assert json.loads(gzip.decompress(zipped))["description"] == long


def test_an_unexpected_failure_in_intake_is_a_500_problem_that_names_nothing_inside(
    app: FastAPI, d: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk /var/lib/gridsvc/g.db is gone")

    monkeypatch.setattr(app.state.cases, "submit", broken)
    response = d.client.post(
        REPORTS,
        json={"lon": INSIDE[0], "lat": INSIDE[1], "crs": "cgcs2000", "category": "CG01"},
        headers=d.headers("patrol"),
    )
    body = assert_problem(response, 500, "internal")
    assert "g.db" not in response.text and body["instance"] == REPORTS


def test_other_methods_on_the_intake_path_still_go_through_the_app(d: Desk) -> None:
    response = d.client.get(REPORTS, headers=d.headers("patrol"))
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "POST"
