"""`gridsvc demo keys`, which `make run` calls: one working key per role, printed with the
page it opens; a second run revokes the first run's keys."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridsvc.cli import app
from gridsvc.config import Settings
from gridsvc.core.errors import Unauthenticated
from gridsvc.core.workflow import Role
from gridsvc.services.keys import KeyRing
from gridsvc.store.engine import make_engine

LINE = re.compile(r"^\s+(\w+)\s+(http://\S+)\s+(\S+)$", re.M)


def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[str, str]]:
    monkeypatch.setenv("GRIDSVC_DATABASE_URL", f"sqlite:///{tmp_path / 'g.db'}")
    result = CliRunner().invoke(app, ["demo", "keys"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8000/" in result.output
    return {role: (url, key) for role, url, key in LINE.findall(result.output)}


def test_one_working_key_per_role_with_its_page(tmp_path: Path, monkeypatch) -> None:
    made = keys(tmp_path, monkeypatch)
    assert set(made) == {r.value for r in Role}
    assert made["patrol"][0].endswith("/patrol") and made["dispatcher"][0].endswith("/dispatch")
    ring = KeyRing(make_engine(Settings().database_url))
    for role, (_, key) in made.items():
        who = ring.authenticate(key)
        assert who.role.value == role
    assert ring.authenticate(made["handler"][1]).department == "D01"


def test_a_second_run_revokes_the_first_runs_keys(tmp_path: Path, monkeypatch) -> None:
    first = keys(tmp_path, monkeypatch)
    second = keys(tmp_path, monkeypatch)
    engine = make_engine(Settings().database_url)
    with pytest.raises(Unauthenticated):
        KeyRing(engine).authenticate(first["patrol"][1])
    assert KeyRing(engine).authenticate(second["patrol"][1]).role == Role.PATROL
