"""`gridsvc map ...`: map files written with their assets beside them, errors in one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridsvc.cli import app
from gridsvc.config import DEMO_DIR
from gridsvc.services.setup import load_demo
from gridsvc.store.engine import make_engine, upgrade

runner = CliRunner()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('mapcli') / 'g.db'}"
    upgrade(url)
    load_demo(make_engine(url), DEMO_DIR, history=True)
    return url


def run(database: str, *args: str):  # type: ignore[no-untyped-def]
    """``gridsvc --lang en map ARGS``: the tests check the English wording."""
    env = {"GRIDSVC_DATABASE_URL": database}
    return runner.invoke(app, ["--lang", "en", "map", *args], env=env)


def test_coverage_and_hotspots_files_open_offline(database: str, tmp_path: Path) -> None:
    for kind in ("coverage", "hotspots"):
        out = tmp_path / "maps" / f"{kind}.html"
        result = run(database, kind, "--out", str(out))
        assert result.exit_code == 0, result.output
        assert f"wrote {out}" in result.output and f"/maps/{kind}" in result.output
        assert "api_key" not in result.output and "leaders" in result.output  # who may open it
        html = out.read_text(encoding="utf-8")
        assets = re.findall(r'(?:src|href)="(static/[^"]+)"', html)
        assert assets and all((out.parent / a).is_file() for a in assets)


def test_hotspot_filters_and_english(database: str, tmp_path: Path) -> None:
    out = tmp_path / "h.html"
    result = run(
        database, "hotspots", "--out", str(out), "--lang", "en", "--category", "CG01",
        "--from", "2026-01-01", "--to", "2026-03-31", "--period", "week",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Case hotspots" in html and "category=CG01, 2026-01-01 – 2026-03-31" in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hotspots", "--basemap", "osm"], "offline"),
        (["hotspots", "--category", "XX"], "XX"),
        (["hotspots", "--from", "May"], "not a date"),
        (["coverage", "--lang", "fr"], "unknown language"),
        (["impact", "grids", "999"], "999"),
    ],
)
def test_bad_map_requests_are_one_line_and_exit_2(
    database: str, tmp_path: Path, args: list[str], message: str
) -> None:
    result = run(database, *args, "--out", str(tmp_path / "x.html"))
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "x.html").exists()


def test_the_impact_map_says_who_may_open_it_online(database: str, tmp_path: Path) -> None:
    """Finding (issue 19, 8): the printed URL asked for a leader's key, which gets a 403 there."""
    import geopandas as gpd

    from gridsvc.config import Settings

    path = tmp_path / "same.gpkg"
    gpd.read_file(Settings().town_file, layer="grids").to_file(path, layer="grids")
    env = {"GRIDSVC_DATABASE_URL": database}
    made = runner.invoke(app, ["--lang", "en", "layers", "upload", "grids", str(path)], env=env)
    draft = re.search(r"draft (\d+):", made.output).group(1)
    result = run(database, "impact", "grids", draft, "--out", str(tmp_path / "i.html"))
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"/maps/impact/grids/{draft} to planners" in said and "leader" not in said
