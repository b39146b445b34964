"""The FastAPI application, built from Settings (no app at import time)."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from gridsvc.api import logredact, problems
from gridsvc.api.anonymous import AddressLimiter
from gridsvc.api.auth import PageRefused
from gridsvc.api.direct import GZIP_MINIMUM, DirectRoutes
from gridsvc.api.exports import ExportGate
from gridsvc.api.limits import BodyLimits, RateLimiter, body_rules
from gridsvc.api.refresh import VersionWatcher
from gridsvc.api.routes import (
    cases,
    dashboard,
    directory,
    docs,
    evaluation,
    layers,
    live,
    maps,
    match,
    me,
    ogc,
    ogc_drafts,
    open311,
    pages,
    responsibility,
    session,
)
from gridsvc.api.security import SecurityHeaders, map_policy, tile_origins
from gridsvc.config import Settings
from gridsvc.core.evaluation import TownWeights
from gridsvc.maps.assets import STATIC_DIR
from gridsvc.maps.basemaps import TileOptions
from gridsvc.services.cases import CaseService
from gridsvc.services.draft_editing import DraftEditor
from gridsvc.services.evaluation import EvaluationService
from gridsvc.services.intake import IntakeWriter
from gridsvc.services.intake_db import DatabaseIntake
from gridsvc.services.intake_process import RemoteIntake
from gridsvc.services.keys import KeyRing
from gridsvc.services.layers import MatcherCache
from gridsvc.services.maps import MapService
from gridsvc.services.matching import shared_matcher
from gridsvc.services.planning import Planning
from gridsvc.services.responsibility import MAX_LIST_BYTES, ResponsibilityLists
from gridsvc.services.setup import is_loaded, load_demo, load_reference
from gridsvc.store import index_cache
from gridsvc.store.engine import make_engine, upgrade

log = logging.getLogger("gridsvc.api")
PAGE_ASSETS = Path(__file__).resolve().parent / "static"  # the pages' CSS


def _intake(settings: Settings, engine: Engine) -> IntakeWriter | None:
    """Who writes the reports: the intake writer process when one serves (SQLite under
    ``gridsvc serve``), each worker itself on PostgreSQL, else this process's writer thread."""
    if settings.intake_socket:
        return RemoteIntake(settings.intake_socket)
    if engine.dialect.name == "postgresql":
        return DatabaseIntake(
            engine, settings.duplicate_radius_m, timedelta(hours=settings.duplicate_window_h)
        )
    return None


def create_app(settings: Settings | None = None) -> FastAPI:
    """Load the town, build its matcher and assemble the routers."""
    settings = settings or Settings()
    logredact.install()  # whatever starts the app, no key reaches a log line

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        watcher = VersionWatcher(app, settings.version_poll_s)
        watcher.start()
        # The town, its indexes and the libraries are some 300,000 objects that live
        # as long as the process; a full collection walked them all, stopping every
        # request for about 200 ms a few times a minute under load. Frozen, they are
        # left out of collections; what requests allocate is still collected.
        gc.freeze()
        yield
        watcher.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="gridsvc",
        summary="网格化管理 grid-management service: match reports to grids, units, streets and teams",
        version="0.1.0",
        docs_url=None,  # served from vendored assets by routes/docs.py
        redoc_url=None,
    )
    engine = make_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    upgrade(settings.database_url)
    if not is_loaded(engine):
        load_demo(engine, settings.demo_dir, history=False, say=log.info)
    ref = load_reference(engine)
    matcher = shared_matcher(
        ref.town,
        ref.versions,
        settings.street_radius_m,
        settings.cell_m,
        index_cache.directory_for(settings.database_url, settings.index_cache_dir),
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.town = ref.town
    app.state.matcher = matcher
    app.state.history = MatcherCache(
        engine, matcher, ref.versions, settings.street_radius_m, settings.cell_m
    )
    app.state.cases = CaseService(
        engine,
        matcher,
        ref.matters,
        ref.calendar,
        ref.version_ids(),
        departments=ref.departments,
        duplicate_radius_m=settings.duplicate_radius_m,
        duplicate_window=timedelta(hours=settings.duplicate_window_h),
        intake=_intake(settings, engine),
    )
    app.state.exports = ExportGate(settings.export_turns, settings.export_max_rows)
    app.state.planning = Planning(engine, settings.sliver_m2)
    app.state.draft_editor = DraftEditor(engine, settings.sliver_m2)
    app.state.evaluation = EvaluationService(
        engine,
        ref.matters,
        ref.calendar,
        TownWeights(settings.evaluation_county_weight, settings.evaluation_stationed_weight),
        lang=settings.lang,
    )
    app.state.maps = MapService(engine, ref.matters)
    app.state.lists = ResponsibilityLists(engine)
    app.state.tiles = tile_options(settings)
    app.state.keyring = KeyRing(engine)
    app.state.limiter = RateLimiter(settings.rate_per_minute)
    app.state.anonymous = AddressLimiter(settings.anonymous_rate_per_minute)
    # the last added is the outermost: security headers, body limits, direct routes, gzip
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM)  # maps on a slow intranet
    app.add_middleware(DirectRoutes, routes={("POST", "/api/v1/reports"): cases.submit_report})
    app.add_middleware(
        BodyLimits,
        rules=body_rules(
            settings.max_body_bytes,
            settings.max_attachment_bytes,
            settings.max_layer_bytes,
            MAX_LIST_BYTES,
        ),
    )
    docs_router, docs_csp = docs.pages(app)
    app.add_middleware(
        SecurityHeaders, map_csp=map_policy(tile_origins(app.state.tiles)), docs_csp=docs_csp
    )  # outermost: every answer, a refused body's included, carries the headers
    problems.install(app)
    app.add_exception_handler(PageRefused, session.refused_page)  # a browser gets a sign-in page
    app.include_router(match.router)
    app.include_router(cases.router)
    app.include_router(open311.router)
    app.include_router(ogc_drafts.router)  # before ogc: its paths are ogc's {collection_id}
    app.include_router(ogc.router)
    app.include_router(layers.router)
    app.include_router(evaluation.router)
    app.include_router(maps.router)
    app.include_router(dashboard.router)
    app.include_router(responsibility.router)
    app.include_router(session.router)
    app.include_router(me.router)
    app.include_router(live.router)
    app.include_router(directory.router)
    app.include_router(pages.router)
    app.mount("/pages/static", StaticFiles(directory=pages.STATIC_DIR), name="pages-static")
    app.include_router(docs_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/assets", StaticFiles(directory=PAGE_ASSETS), name="assets")

    return app


def tile_options(settings: Settings) -> TileOptions:
    """What basemaps this deployment may show (offline allows none and intranet tiles only)."""
    return TileOptions(
        tianditu_key=settings.tianditu_key,
        intranet_url=settings.tile_url,
        intranet_attribution=settings.tile_attribution,
        offline=settings.maps_offline,
    )
