"""The service maps its matcher's indexes from a file beside the database, and a damaged
file costs a build, never a wrong answer (issue 21)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gridsvc.api.app import create_app
from gridsvc.api.refresh import refresh_matching
from gridsvc.config import Settings

# inside grids, on a shared edge's neighbourhood, outside the town
POINTS = [(121.442747, 31.339568), (121.4475, 31.3300), (121.60, 31.20), (121.455, 31.335)]


def _answers(client: TestClient) -> list[dict[str, object]]:
    out = []
    for lon, lat in POINTS:
        got = client.get("/api/v1/match", params={"lon": lon, "lat": lat, "crs": "cgcs2000"})
        out.append({"status": got.status_code, **got.json()})
    return out


def test_a_cut_index_file_is_built_again_and_answers_the_same(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}")
    with TestClient(create_app(settings)) as first:
        expected = _answers(first)
    (index,) = (tmp_path / "index-cache").glob("matcher-*.idx")
    whole = index.read_bytes()
    # cut short under a new inode (the first app still maps the old one: a cut in place
    # of a mapped file is a SIGBUS, which is why the files are read-only)
    cut = index.with_suffix(".cut")
    cut.write_bytes(whole[: len(whole) // 3])
    os.replace(cut, index)
    app = create_app(settings)
    assert "not used" in caplog.text
    assert index.read_bytes() == whole  # written again, whole
    with TestClient(app) as second:
        assert _answers(second) == expected
        written = index.stat().st_mtime_ns
        refresh_matching(app)  # another worker published: the same versions, the file read
        assert index.stat().st_mtime_ns == written
        assert _answers(second) == expected
