"""The queue as CSV: what a dispatcher opens in Excel, with a cap and a limit on turns.

Finding (issue 19, 5): cases.csv had no cap, and four downloads at once on
30,000 cases took 24 s each while every other request waited behind them.
"""

from __future__ import annotations

import csv
import gc
import io
import time

import pytest
from conftest_cases import Desk, assert_problem, desk_fixtures

from gridsvc.api.exports import ExportGate

app, d = desk_fixtures("export", both_backends=True)

EXPORT = "/api/v1/cases.csv"


def rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")  # the BOM Excel needs to read UTF-8 Chinese
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_the_export_holds_the_queue_with_its_supervision(d: Desk) -> None:
    cases = [d.new_case("CG01"), d.new_case("CG12")]
    answer = d.client.get(EXPORT, headers=d.headers("dispatcher"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    by_number = {r["number"]: r for r in rows(answer.text)}
    for case in cases:
        row = by_number[case["number"]]
        assert row["category"] == case["category"] and row["grid_code"] == case["grid_code"]
        assert row["colour"] in {"green", "yellow", "orange", "red"}


def test_an_export_past_the_cap_is_refused_up_front_with_how_to_narrow_it(d: Desk) -> None:
    d.new_case()
    total = len(rows(d.client.get(EXPORT, headers=d.headers("dispatcher")).text))
    d.app.state.exports = ExportGate(2, total - 1)
    try:
        refused = d.client.get(EXPORT, headers=d.headers("dispatcher"))
        body = assert_problem(refused, 422, "too-many-rows")
        assert f"{total:,}" in body["detail"] and "from=" in body["detail"]
        assert body["rows"] == total and body["max_rows"] == total - 1
        narrowed = d.client.get(EXPORT + "?category=CG12", headers=d.headers("dispatcher"))
        assert narrowed.status_code == 200 and rows(narrowed.text)
    finally:
        d.app.state.exports = ExportGate(2, 100_000)


def test_exports_beyond_the_turns_wait_their_turn_with_a_429(d: Desk) -> None:
    """Turns are held while a download streams and given back however it ends."""
    d.new_case()
    gate = ExportGate(1, 100_000)
    d.app.state.exports = gate
    try:
        with d.client.stream("GET", EXPORT, headers=d.headers("dispatcher")) as first:
            assert first.status_code == 200
            assert gate.free_turns == 0
            second = d.client.get(EXPORT, headers=d.headers("leader"))
            assert_problem(second, 429, "rate-limited")
            assert int(second.headers["retry-after"]) > 0
            next(first.iter_text())  # the first goes on regardless
        # the client has gone; the server side notices on its own thread, soon
        deadline = time.monotonic() + 10
        while gate.free_turns != 1:
            assert time.monotonic() < deadline, "the turn never came back"
            gc.collect()
            time.sleep(0.05)
        again = d.client.get(EXPORT, headers=d.headers("leader"))
        assert again.status_code == 200 and rows(again.text)
        assert gate.free_turns == 1
    finally:
        d.app.state.exports = ExportGate(2, 100_000)


def test_a_turn_comes_back_when_a_response_is_never_read() -> None:
    gate = ExportGate(1, 10)
    stream = gate.streamed(iter(["a", "b"]))
    assert gate.free_turns == 0
    del stream
    gc.collect()
    assert gate.free_turns == 1
    assert list(gate.streamed(iter(["a"]))) == ["a"] and gate.free_turns == 1


@pytest.mark.parametrize("who", ["patrol", None])
def test_who_may_not_export_reads_nothing(d: Desk, who: str | None) -> None:
    refused = d.client.get(EXPORT, headers=d.headers(who))
    assert refused.status_code in {401, 403}
    assert "number" not in refused.text
