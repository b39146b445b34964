"""Layer version history and GeoPackage export, through HTTP and the CLI."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pyogrio
import pytest
import shapely
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gridsvc.api.app import create_app
from gridsvc.cli import app as cli
from gridsvc.config import Settings
from gridsvc.core.layers import LayerKind
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key
from gridsvc.store import reference


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory, module_db_url: str) -> tuple[FastAPI, str, str]:
    tmp = tmp_path_factory.mktemp("layers")
    url = module_db_url  # SQLite, then PostgreSQL
    app = create_app(Settings(database_url=url, attachments_dir=tmp / "att"))
    return app, create_key(app.state.engine, Role.PLANNER, "规划员"), url


def test_history_lists_the_published_version(town: tuple[FastAPI, str, str]) -> None:
    app, key, _ = town
    rows = (
        TestClient(app)
        .get("/api/v1/layers/grids/versions", headers={"Authorization": f"Bearer {key}"})
        .json()
    )
    assert [(r["status"], r["features"]) for r in rows] == [("published", 14)]


def test_gpkg_export_reads_back_as_stored(town: tuple[FastAPI, str, str], tmp_path: Path) -> None:
    app, key, _ = town
    with app.state.engine.connect() as conn:
        version = reference.active_versions(conn)[LayerKind.GRIDS]
        stored = reference.load_layer(conn, LayerKind.GRIDS, version).frame.set_index("code")
    response = TestClient(app).get(
        f"/api/v1/layers/grids/versions/{version}.gpkg", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200
    target = tmp_path / "grids.gpkg"
    target.write_bytes(response.content)
    read = pyogrio.read_dataframe(target)
    assert read.crs.to_epsg() == 4490 and len(read) == 14
    for code, team, geom in zip(read["code"], read["team"], read.geometry, strict=True):
        assert team == stored.loc[code, "team"]
        assert shapely.equals_exact(geom, stored.loc[code, "geometry"], tolerance=1e-9)


@pytest.mark.parametrize(
    ("path", "with_key", "status"),
    [
        ("/api/v1/layers/grids/versions/9999.gpkg", True, 404),
        ("/api/v1/layers/nope/versions", True, 422),
        ("/api/v1/layers/grids/versions", False, 401),
    ],
)
def test_bad_requests(
    town: tuple[FastAPI, str, str], path: str, with_key: bool, status: int
) -> None:
    app, key, _ = town
    headers = {"Authorization": f"Bearer {key}"} if with_key else {}
    response = TestClient(app).get(path, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


def test_cli_history_and_export(
    town: tuple[FastAPI, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, url = town
    monkeypatch.setenv("GRIDSVC_DATABASE_URL", url)
    runner = CliRunner()
    listed = runner.invoke(cli, ["--lang", "en", "layers", "history", "units"])
    assert listed.exit_code == 0 and "published" in listed.output
    target = tmp_path / "units.gpkg"
    exported = runner.invoke(cli, ["layers", "export", "units", "--out", str(target)])
    assert exported.exit_code == 0 and len(pyogrio.read_dataframe(target)) == 3
    missing = runner.invoke(
        cli, ["layers", "export", "units", "--version", "9999", "--out", str(tmp_path / "x.gpkg")]
    )
    # the CLI's own language, Chinese by default
    assert missing.exit_code == 2 and "基本管理单元图层没有版本 9999" in missing.output
    assert not (tmp_path / "x.gpkg").exists()


def test_match_at_a_date_uses_the_layers_active_then(tmp_path: Path) -> None:
    app = create_app(
        Settings(database_url=f"sqlite:///{tmp_path}/g.db", attachments_dir=tmp_path / "att")
    )
    client = TestClient(app)
    point = {"lon": 121.45, "lat": 31.33}
    before = client.get("/api/v1/match", params=point).json()
    with app.state.engine.connect() as conn:
        grids = reference.load_layer(
            conn, LayerKind.GRIDS, reference.active_versions(conn)[LayerKind.GRIDS]
        )
    redrawn = grids.frame.copy()
    redrawn.loc[redrawn["code"] == before["grid_code"], "team"] = (
        "WS99"  # a team change is a new version
    )
    publish_at = datetime(2030, 6, 1, tzinfo=UTC)
    with app.state.engine.begin() as conn:
        reference.publish_layer(
            conn, type(grids)(LayerKind.GRIDS, redrawn), "team change", now=publish_at
        )
    then = client.get("/api/v1/match", params={**point, "at": "2030-05-31"}).json()
    later = client.get("/api/v1/match", params={**point, "at": "2030-06-02"}).json()
    assert then["team"] == before["team"] != "WS99"
    assert later["team"] == "WS99" and later["grid_code"] == before["grid_code"]
    assert client.get("/api/v1/match", params={**point, "at": "1999-01-01"}).status_code == 404
    assert (
        client.get("/api/v1/match", params={**point, "at": "2030-06-02T10:00"}).status_code == 422
    )


def test_other_workers_pick_up_a_published_version(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/g.db",
        attachments_dir=tmp_path / "att",
        version_poll_s=0.1,
    )
    publisher, worker = create_app(settings), create_app(settings)
    point = {"lon": 121.45, "lat": 31.33}
    with TestClient(worker) as other:  # the context runs the worker's lifespan (its watcher)
        before = other.get("/api/v1/match", params=point).json()
        with publisher.state.engine.connect() as conn:
            version = reference.active_versions(conn)[LayerKind.GRIDS]
            grids = reference.load_layer(conn, LayerKind.GRIDS, version)
        frame = grids.frame.copy()
        frame.loc[frame["code"] == before["grid_code"], "team"] = "WS77"
        with publisher.state.engine.begin() as conn:
            reference.publish_layer(conn, type(grids)(LayerKind.GRIDS, frame), "team change")
        deadline = time.monotonic() + 10
        while other.get("/api/v1/match", params=point).json()["team"] != "WS77":
            assert time.monotonic() < deadline, "the other worker never saw the new version"
            time.sleep(0.1)
