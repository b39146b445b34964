"""Shared helpers for the case-service API tests (imported explicitly, not a conftest).

Expected routing and matching are read here from the demo town's own files
(``responsibility_list.csv``, ``departments.csv``, ``shifan.gpkg`` through
geopandas), not from the service, so a test and the service cannot share a
mistake.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import httpx
import pytest
import shapely
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, text

from gridsvc.api.app import create_app
from gridsvc.config import DEMO_DIR, Settings
from gridsvc.core.workflow import Role
from gridsvc.services.keys import create_key

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://gridsvc.example/problems/"
REPORTS = "/api/v1/reports"
WORK_CRS = "EPSG:4549"  # CGCS2000 Gauss-Krüger 120°E: metres in Shanghai

#: Inside grid 310106113G01 (a representative point of it, CGCS2000).
INSIDE = (121.442747, 31.339568)
#: 5 m east of the jurisdiction's easternmost vertex, and 300 m east of it.
NEAR_OUTSIDE = (121.47200279880227, 31.327742351423012)
FAR_OUTSIDE = (121.47510128823743, 31.327706777611553)


def settings_for(directory: Path, database_url: str | None = None) -> Settings:
    """A fresh database (SQLite in ``directory`` unless ``database_url`` names another) and
    attachment store in ``directory``; no rate limit in the way."""
    return Settings(
        database_url=database_url or f"sqlite:///{directory / 'g.db'}",
        attachments_dir=directory / "attachments",
        rate_per_minute=1_000_000,
    )


def build_app(
    tmp_path_factory: pytest.TempPathFactory, name: str, database_url: str | None = None
) -> FastAPI:
    return create_app(settings_for(tmp_path_factory.mktemp(name), database_url))


# ---- the demo town's reference data, read straight from its files -----------------------


@cache
def matters() -> dict[str, dict[str, str]]:
    with open(DEMO_DIR / "responsibility_list.csv", encoding="utf-8-sig", newline="") as f:
        return {row["code"]: row for row in csv.DictReader(f)}


@cache
def departments() -> dict[str, dict[str, str]]:
    with open(DEMO_DIR / "departments.csv", encoding="utf-8-sig", newline="") as f:
        return {row["code"]: row for row in csv.DictReader(f)}


def cooperating(code: str) -> list[str]:
    return [d for d in matters()[code]["cooperating_departments"].split(";") if d]


@cache
def grids() -> gpd.GeoDataFrame:
    return gpd.read_file(DEMO_DIR / "shifan.gpkg", layer="grids").to_crs(WORK_CRS)


def grid_at(lon: float, lat: float) -> dict[str, Any]:
    """The grid containing a CGCS2000 point (lowest code on shared edges), as geopandas sees it."""
    point = _projected(lon, lat)
    hits = grids()[grids().intersects(point)].sort_values("code")
    assert len(hits) >= 1, f"({lon}, {lat}) is in no demo grid"
    return hits.iloc[0].to_dict()


def nearest_grid(lon: float, lat: float) -> str:
    point = _projected(lon, lat)
    distances = grids().distance(point)
    return str(grids().loc[distances.idxmin(), "code"])


def _projected(lon: float, lat: float) -> shapely.Point:
    return gpd.GeoSeries([shapely.Point(lon, lat)], crs="EPSG:4490").to_crs(WORK_CRS).iloc[0]


# ---- a grid centre's desk: a client and one key per person --------------------------------


@dataclass
class Desk:
    """The service under test, with a key per role and per department handler."""

    app: FastAPI
    client: TestClient
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def engine(self) -> Engine:
        return self.app.state.engine

    def key(self, who: str) -> str:
        """A key by person name: ``patrol``, ``patrol-2``, ``handler-D01`` (bound to D01)."""
        if who not in self.keys:
            role, _, suffix = who.partition("-")
            department = suffix if role == Role.HANDLER else None
            self.keys[who] = create_key(self.engine, Role(role), who, department)
        return self.keys[who]

    def headers(self, who: str | None, **extra: str) -> dict[str, str]:
        auth = {"Authorization": f"Bearer {self.key(who)}"} if who else {}
        return auth | extra

    def report(
        self,
        who: str | None = "patrol",
        at: tuple[float, float] = INSIDE,
        headers: dict[str, str] | None = None,
        **fields: Any,
    ) -> httpx.Response:
        body = {"lon": at[0], "lat": at[1], "crs": "cgcs2000", "category": "CG01"} | fields
        return self.client.post(REPORTS, json=body, headers=self.headers(who, **(headers or {})))

    def new_case(self, category: str = "CG01", **fields: Any) -> dict[str, Any]:
        response = self.report(category=category, **fields)
        assert response.status_code == 201, response.text
        return response.json()

    def get(self, case_id: int, who: str = "dispatcher") -> httpx.Response:
        return self.client.get(f"/api/v1/cases/{case_id}", headers=self.headers(who))

    def act(
        self,
        case_id: int,
        action: str,
        who: str,
        etag: int | str | None,
        **body: Any,
    ) -> httpx.Response:
        extra = {} if etag is None else {"If-Match": f'"{etag}"' if isinstance(etag, int) else etag}
        return self.client.post(
            f"/api/v1/cases/{case_id}/{action}",
            json=body or None,
            headers=self.headers(who, **extra),
        )

    def step(self, case: dict[str, Any], action: str, who: str, **body: Any) -> dict[str, Any]:
        """Take an action that must succeed, with the ETag just read; the new view."""
        response = self.act(case["id"], action, who, case["etag"], **body)
        assert response.status_code == 200, response.text
        view = response.json()
        assert response.headers["etag"] == f'"{view["etag"]}"'
        return view

    def counts(self) -> tuple[int, int]:
        """Rows in ``cases`` and ``case_events``: what a refused request must not change."""
        with self.engine.connect() as conn:
            cases = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
            events = conn.execute(text("SELECT count(*) FROM case_events")).scalar_one()
        return int(cases), int(events)


def picture(kind: str, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A real small image file written by Pillow (``PNG`` or ``JPEG``), as a photo upload."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), colour).save(buffer, format=kind)
    return buffer.getvalue()


def desk(app: FastAPI) -> Iterator[Desk]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Desk(app, client)


def desk_fixtures(name: str, both_backends: bool = False) -> tuple[Any, Any]:
    """The module-scoped fixtures most API test modules share, ``app`` (a database of its own
    named ``name``) and ``d`` (its desk): ``app, d = desk_fixtures("cases-api")``.

    ``both_backends`` runs the module on SQLite and then on PostgreSQL + PostGIS (the
    throwaway cluster of tests/pg.py), each test once per backend."""

    if both_backends:

        @pytest.fixture(scope="module", name="app")
        def app_fixture(tmp_path_factory: pytest.TempPathFactory, module_db_url: str) -> FastAPI:
            return build_app(tmp_path_factory, name, module_db_url)

    else:

        @pytest.fixture(scope="module", name="app")
        def app_fixture(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
            return build_app(tmp_path_factory, name)

    @pytest.fixture(scope="module", name="d")
    def desk_fixture(app: FastAPI) -> Iterator[Desk]:
        yield from desk(app)

    return app_fixture, desk_fixture


def assert_problem(response: httpx.Response, status: int, code: str | None) -> dict[str, Any]:
    """An RFC 9457 answer with this status and (when given) this problem type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body = response.json()
    assert body["status"] == status
    if code is not None:
        assert body["type"] == PROBLEM_BASE + code, body
    assert body["title"] and body["detail"]
    return body
