"""Maps as HTML pages: coverage, hotspots (with filters) and a draft's redraw impact.

Leaders open these in a browser: the key comes as a Bearer header, the
session cookie of the sign-in at ``/``, or (deprecated, for this release)
``?api_key=``. Pages load their scripts from ``/static`` (never a CDN)
and are gzipped by the app.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from gridsvc.api.auth import require_page
from gridsvc.api.params import DraftId
from gridsvc.core.layers import LayerKind
from gridsvc.core.workflow import Role
from gridsvc.services.maps import Look, MapFilter, MapService, render
from gridsvc.services.reading import Principal, town_for

router = APIRouter(tags=["maps"])
Viewer = Annotated[
    Principal, Depends(require_page(Role.LEADER, Role.DISPATCHER, Role.PLANNER, Role.HANDLER))
]
Planner = Annotated[Principal, Depends(require_page(Role.PLANNER))]


def look(
    request: Request,
    lang: Annotated[str | None, Query(pattern="^(zh|en)$", description="label language")] = None,
    basemap: Annotated[
        str, Query(description="none, osm, tianditu, amap (GCJ-02) or intranet")
    ] = "none",
    period: Annotated[str, Query(pattern="^(month|week)$")] = "month",
    compact: Annotated[bool, Query(description="fold controls and tables (small frames)")] = False,
) -> Look:
    """How to draw: language (the service's default), basemap, time-view period."""
    state = request.app.state
    return Look(lang or state.settings.lang, basemap, state.tiles, period, compact)


def map_filter(
    category: Annotated[str | None, Query(description="a category code")] = None,
    field: Annotated[str | None, Query(description="a field of the responsibility list")] = None,
    status: Annotated[str | None, Query(description="a status, or 'open'")] = None,
    town: Annotated[str | None, Query(description="a town's code (a town key: its own)")] = None,
    unit: str | None = None,
    team: str | None = None,
    created_from: Annotated[str | None, Query(alias="from", description="a date or time")] = None,
    created_to: Annotated[
        str | None, Query(alias="to", description="a date (inclusive) or time")
    ] = None,
) -> MapFilter:
    return MapFilter.parse(category, field, status, unit, team, created_from, created_to, town=town)


def maps(request: Request) -> MapService:
    service: MapService = request.app.state.maps
    return service


Looks = Annotated[Look, Depends(look)]
Maps = Annotated[MapService, Depends(maps)]


@router.get("/maps/coverage", response_class=HTMLResponse)
async def coverage(service: Maps, how: Looks, who: Viewer) -> HTMLResponse:
    """Grids by responsible team, units, committees, streets; Chinese labels by default.
    The open-case counts are a town key's own town's cases (every town's for the district)."""
    town = town_for(who, None)
    page = await run_in_threadpool(lambda: render(service.coverage(how, town)))
    return HTMLResponse(page)


@router.get("/maps/hotspots", response_class=HTMLResponse)
async def hotspots(
    service: Maps, how: Looks, who: Viewer, wanted: Annotated[MapFilter, Depends(map_filter)]
) -> HTMLResponse:
    """Case counts, rate per km², Gi* hot and cold spots, heat and the time view (of one
    town with `town`; a town key sees its own town's cases only)."""
    wanted = replace(wanted, town_code=town_for(who, wanted.town_code))
    page = await run_in_threadpool(lambda: render(service.hotspots(wanted, how)))
    return HTMLResponse(page)


@router.get("/maps/impact/{kind}/{draft_id}", response_class=HTMLResponse)
async def impact(
    kind: LayerKind, draft_id: DraftId, request: Request, service: Maps, how: Looks, who: Planner
) -> HTMLResponse:
    """Current and redrawn boundaries with every case the draft would move."""
    planning = request.app.state.planning
    page = await run_in_threadpool(
        lambda: render(service.impact(planning, kind, draft_id, how, who.town))
    )
    return HTMLResponse(page)
