"""``gridsvc layers`` and ``gridsvc keys`` as a planner and an admin use them, on a real database.

Findings (issue 19, 8): ``layers impact`` printed Python lists and counted
a file's sub-millimetre jitter as changed grids; ``layers publish`` without
``--active`` answered "the active grids version is 3, not None"; ``keys
create`` took an unknown department; there was no ``keys list`` or ``revoke``.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import Result
from typer.testing import CliRunner

from gridsvc.cli import app
from gridsvc.config import Settings
from gridsvc.core.errors import Unauthenticated
from gridsvc.services.keys import KeyRing
from gridsvc.services.setup import load_demo
from gridsvc.store.engine import make_engine, upgrade

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    load_demo(make_engine(url), Settings().demo_dir, history=False, say=lambda _: None)
    monkeypatch.setenv("GRIDSVC_DATABASE_URL", url)
    return url


def run(*args: object, answer: str | None = None) -> Result:
    """The command in English, whose wording the tests check."""
    return runner.invoke(app, ["--lang", "en", *[str(a) for a in args]], input=answer)


def grids() -> gpd.GeoDataFrame:
    return gpd.read_file(Settings().town_file, layer="grids")


def upload(tmp_path: Path, frame: gpd.GeoDataFrame, name: str) -> int:
    path = tmp_path / f"{name}.gpkg"
    frame.to_file(path, layer="grids", engine="pyogrio")
    result = run("layers", "upload", "grids", path, "--label", name)
    assert result.exit_code == 0, result.output
    return int(re.search(r"draft (\d+):", result.output).group(1))


def active_version(url: str) -> int:
    result = run("layers", "history", "grids")
    assert result.exit_code == 0
    (line,) = [ln for ln in result.output.splitlines() if "published" in ln and "│" in ln][:1]
    return int(line.split("│")[1])


def test_jitter_is_no_change_and_the_impact_is_a_table(database: str, tmp_path: Path) -> None:
    frame = grids()
    step = 0.0004 / 111_000  # 0.4 mm
    frame["geometry"] = shapely.transform(frame.geometry.to_numpy(), lambda xy: xy + step)
    draft = upload(tmp_path, frame, "jitter")
    result = run("layers", "impact", "grids", draft)
    assert result.exit_code == 0, result.output
    assert "added 0, removed 0, changed 0" in result.output
    assert "[" not in result.output  # no Python list
    moved = grids()
    for i in (0, 1):  # two grids shrunk by a tenth: real redraws
        moved.loc[i, "geometry"] = shapely.affinity.scale(moved.geometry[i], 0.9, 0.9)
    result = run("layers", "impact", "grids", upload(tmp_path, moved, "moved"))
    assert "changed 2" in result.output and "area change m²" in result.output
    assert str(moved.loc[0, "code"]) in result.output


def test_publish_without_active_shows_the_impact_and_asks(database: str, tmp_path: Path) -> None:
    before = active_version(database)
    draft = upload(tmp_path, grids(), "same")
    declined = run("layers", "publish", "grids", draft, answer="n\n")
    assert declined.exit_code == 1 and "nothing was changed" in declined.output
    assert "None" not in declined.output and f"over version {before}" in declined.output
    assert active_version(database) == before
    unattended = run("layers", "publish", "grids", draft)  # no terminal, no answer
    assert unattended.exit_code == 1 and "--yes" in unattended.output
    agreed = run("layers", "publish", "grids", draft, answer="y\n")
    assert agreed.exit_code == 0, agreed.output
    assert active_version(database) == draft
    back = run("layers", "rollback", "grids", "--yes")
    assert back.exit_code == 0 and f"restored version {before}" in back.output


def test_keys_for_a_department_the_town_has_listed_and_revoked(database: str) -> None:
    wrong = run("keys", "create", "--role", "handler", "--name", "王", "--department", "D99")
    assert wrong.exit_code == 2 and "D99" in wrong.output and "D01" in wrong.output
    made = run("keys", "create", "--role", "handler", "--name", "王处理", "--department", "D01")
    assert made.exit_code == 0, made.output
    key = made.output.strip()
    listed = run("keys", "list")
    assert "王处理" in listed.output and "D01" in listed.output and key not in listed.output
    (row,) = [ln for ln in listed.output.splitlines() if "王处理" in ln]
    key_id = int(row.split("│")[1])
    ring = KeyRing(make_engine(database), ttl=0)
    assert ring.authenticate(key).department == "D01"
    assert run("keys", "revoke", key_id).exit_code == 0
    with pytest.raises(Unauthenticated):
        ring.authenticate(key)
    assert "王处理" not in run("keys", "list").output
    assert "王处理" in run("keys", "list", "--revoked").output
    again = run("keys", "revoke", key_id)
    assert again.exit_code == 2 and str(key_id) in again.output


def test_a_patrol_key_with_its_grid(database: str) -> None:
    wrong = run("keys", "create", "--role", "patrol", "--name", "周", "--grid", "G-NONE")
    assert wrong.exit_code == 2 and "G-NONE" in wrong.output and "310106113G01" in wrong.output
    made = run("keys", "create", "--role", "patrol", "--name", "周", "--grid", "310106113G01")
    assert made.exit_code == 0, made.output
    ring = KeyRing(make_engine(database), ttl=0)
    assert ring.authenticate(made.output.strip()).grid == "310106113G01"


def test_a_key_scoped_to_a_town(database: str) -> None:
    """A single town's one town is its jurisdiction; another code is refused with the list."""
    wrong = run("keys", "create", "--role", "dispatcher", "--name", "钱", "--town", "T-NONE")
    assert wrong.exit_code == 2 and "T-NONE" in wrong.output and "310106113" in wrong.output
    made = run("keys", "create", "--role", "dispatcher", "--name", "钱", "--town", "310106113")
    assert made.exit_code == 0, made.output
    ring = KeyRing(make_engine(database), ttl=0)
    assert ring.authenticate(made.output.strip()).town == "310106113"
    (row,) = [ln for ln in run("keys", "list").output.splitlines() if "钱" in ln]
    assert "310106113" in row
