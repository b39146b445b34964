"""Moving a town from SQLite up to PostgreSQL: the copy serves the same answers.

A town with cases, their history, a photo, keys, an Idempotency-Key and a
layer draft is copied from its SQLite file into an empty PostgreSQL
database; every table's digest is the same on both sides, the copied
deployment answers the queue, a case, the evaluation and OGC items exactly
as the original, a retried key still replays, and new cases get new ids.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "api"))
from conftest_cases import INSIDE, Desk, desk, picture, settings_for  # noqa: E402

from gridsvc.api.app import create_app  # noqa: E402
from gridsvc.core.errors import Conflict, InvalidInput  # noqa: E402
from gridsvc.store.copying import copy_tables  # noqa: E402
from gridsvc.store.engine import make_engine  # noqa: E402

_TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
READS = (
    "/api/v1/cases?limit=500",
    f"/api/v1/evaluation?from={_TODAY.replace(day=1)}&to={_TODAY}&by=grid&min_cases=1",
    "/api/v1/supervision",
    "/ogc/collections/grids/items?limit=100",
    "/ogc/collections/cases/items?limit=100",
)


def town(d: Desk) -> dict:
    """Some of everything a town's database holds."""
    first = d.new_case(description="井盖缺失")
    d.step(first, "dispatch", "dispatcher", assignee="D01")
    d.client.post(
        f"/api/v1/cases/{first['id']}/attachments",
        files={"file": ("a.jpg", picture("JPEG"), "image/jpeg")},
        headers=d.headers("dispatcher"),
    )
    keyed = d.report(headers={"Idempotency-Key": "copied-key"}, description="带重试键")
    assert keyed.status_code == 201
    d.new_case(at=(INSIDE[0] - 0.003, INSIDE[1]), category="CG12")
    return keyed.json()


def test_a_town_copied_to_postgresql_answers_the_same(tmp_path: Path, pg_url: str) -> None:
    source = settings_for(tmp_path)
    for d in desk(create_app(source)):
        keyed = town(d)
        before = {
            path: d.client.get(path, headers=d.headers("dispatcher")).json() for path in READS
        }
        case = d.get(keyed["id"]).json()
        keys = dict(d.keys)

    copies = copy_tables(make_engine(source.database_url), make_engine(pg_url))
    assert all(c.same for c in copies), [c for c in copies if not c.same]
    assert {c.table: c.rows for c in copies}["cases"] == 3

    target = settings_for(tmp_path, pg_url)
    for d in desk(create_app(target)):
        d.keys.update(keys)  # the keys were copied: the same ones work
        for path, answer in before.items():
            again = d.client.get(path, headers=d.headers("dispatcher")).json()
            if "evaluation" in path:  # read "as of now": the clock moved, the figures did not
                again.pop("as_of"), answer.pop("as_of")
            assert again == answer, path
        assert d.get(keyed["id"]).json() == case
        replay = d.report(headers={"Idempotency-Key": "copied-key"}, description="带重试键")
        assert replay.json()["id"] == keyed["id"]  # the stored answer, not a second case
        assert d.new_case()["id"] > max(c["id"] for c in before["/api/v1/cases?limit=500"]["items"])


def test_a_target_with_data_or_an_old_schema_is_refused(
    tmp_path: Path, pg_url: str, db_url: str
) -> None:
    source = settings_for(tmp_path / "source")  # db_url's SQLite file lies in tmp_path
    for d in desk(create_app(source)):
        d.new_case()
    engine = make_engine(source.database_url)
    copy_tables(engine, make_engine(pg_url))
    with pytest.raises(Conflict, match="not empty"):
        copy_tables(engine, make_engine(pg_url))
    with pytest.raises(InvalidInput, match="db upgrade"):
        copy_tables(engine, make_engine(db_url))  # never migrated


def test_db_copy_on_the_command_line(tmp_path: Path, pg_url: str) -> None:
    from typer.testing import CliRunner

    from gridsvc.cli import app as cli

    source = settings_for(tmp_path / "cli")
    for d in desk(create_app(source)):
        d.new_case()
    result = CliRunner().invoke(cli, ["--lang", "en", "db", "copy", source.database_url, pg_url])
    assert result.exit_code == 0, result.output
    assert "both sides agree" in result.output and "cases" in result.output
    again = CliRunner().invoke(cli, ["--lang", "en", "db", "copy", source.database_url, pg_url])
    assert again.exit_code == 2 and "not empty" in again.output
    chinese = CliRunner().invoke(cli, ["db", "copy", source.database_url, pg_url])
    assert chinese.exit_code == 2 and chinese.output.startswith("错误（")
