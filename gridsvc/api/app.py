"""The FastAPI application, built from Settings (no app at import time)."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from gridsvc.api import problems
from gridsvc.api.routes import match
from gridsvc.config import Settings
from gridsvc.town import load_town_file

log = logging.getLogger("gridsvc.api")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Load the town, build its matcher and assemble the routers."""
    settings = settings or Settings()

    app = FastAPI(
        title="gridsvc",
        summary="网格化管理 grid-management service: match reports to grids, units, streets and teams",
        version="0.1.0",
    )
    town = load_town_file(settings.town_file)
    app.state.settings = settings
    app.state.town = town
    app.state.matcher = town.matcher(settings.street_radius_m, settings.cell_m)
    problems.install(app)
    app.include_router(match.router)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def landing() -> str:
        return _LANDING

    return app


_LANDING = """<!doctype html><html lang="zh"><meta charset="utf-8"><title>gridsvc 网格化管理服务</title>
<h1>gridsvc 网格化管理服务</h1>
<ul>
<li><a href="/docs">API 文档 (OpenAPI)</a></li>
<li><a href="/api/v1/match?lon=121.45&amp;lat=31.33">/api/v1/match?lon=121.45&amp;lat=31.33</a> 点位匹配 (grid / unit / street / team)</li>
</ul></html>"""
