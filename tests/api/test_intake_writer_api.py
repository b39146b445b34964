"""The intake route when reports go to the intake writer process (``gridsvc serve``).

A worker whose writer process is not there must say so with a 503 problem
that tells the patrol's app to retry, and must write nothing; once the
writer answers again, the same worker takes reports without a restart.
"""

from __future__ import annotations

import tempfile
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from conftest_cases import assert_problem, desk, settings_for

from gridsvc.api import problems
from gridsvc.api.app import create_app
from gridsvc.services.intake_process import SOCKET_NAME, IntakeServer


def test_reports_wait_for_the_writer_process_and_a_missing_one_is_503(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    socket_path = Path(tempfile.mkdtemp(prefix="gi-")) / SOCKET_NAME
    settings = settings_for(tmp_path_factory.mktemp("writer-api"))
    app = create_app(settings.model_copy(update={"intake_socket": socket_path}))
    for d in desk(app):
        before = d.counts()
        refused = d.report()
        body = assert_problem(refused, 503, "storage-unavailable")
        assert "retry" in body["detail"] and refused.headers["retry-after"] == "1"
        assert d.counts() == before

        stop = threading.Event()
        server = IntakeServer(app.state.engine, 50.0, timedelta(hours=72))
        thread = threading.Thread(target=server.serve, args=(socket_path, stop))
        thread.start()
        try:
            for _ in range(200):
                if socket_path.exists():
                    break
                threading.Event().wait(0.02)
            first = d.report()
            assert first.status_code == 201, first.text
            second = d.report()
            assert second.status_code == 201, second.text
            case = second.json()
            assert [c["id"] for c in case["possible_duplicates"]] == [first.json()["id"]]
            stored = d.get(case["id"], "patrol").json()  # as the reporter sees it
            assert stored["number"] == case["number"] and stored["history"] == case["history"]
            assert d.counts() == (before[0] + 2, before[1] + 2)
        finally:
            stop.set()
            thread.join(timeout=10)


def test_a_burst_of_503s_logs_one_line_not_a_traceback_each(
    tmp_path_factory: pytest.TempPathFactory,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Finding (issue 19, 5): each 503 logged a 34-line traceback, 2,040 of them in 5 s."""
    monkeypatch.setattr(problems, "unavailable_log", problems.Throttled(problems.log))
    socket_path = Path(tempfile.mkdtemp(prefix="gi-")) / SOCKET_NAME
    settings = settings_for(tmp_path_factory.mktemp("writer-log"))
    app = create_app(settings.model_copy(update={"intake_socket": socket_path}))
    for d in desk(app):
        caplog.clear()
        with caplog.at_level("WARNING", logger="gridsvc.api"):
            answers = [d.report().status_code for _ in range(30)]
        assert answers == [503] * 30
        lines = [r for r in caplog.records if r.name == "gridsvc.api"]
        assert 1 <= len(lines) <= 2, [r.getMessage() for r in lines]  # 30 in well under 2 s
        for record in lines:
            assert record.exc_info is None and "\n" not in record.getMessage()
            assert "503" in record.getMessage() and "/api/v1/reports" in record.getMessage()
