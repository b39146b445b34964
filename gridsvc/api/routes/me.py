"""Who the key is, and the cases that are the caller's own: what the role pages open with.

The patrol app asks ``/me`` once when a key is pasted (a wrong key is told at
once, not at the first report) and shows the role and department; "my
reports" is ``/me/cases``: for a patrol the reports sent with its key, for a
handler the cases routed to its department. Other roles have the whole queue
at ``/cases``.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

import segno
import shapely.geometry
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from gridsvc.api.auth import bearer
from gridsvc.api.params import Cursor
from gridsvc.api.routes.cases import Cases, Page, Reader
from gridsvc.api.routes.session import PAGES
from gridsvc.core.errors import Forbidden, NotFound, Unauthenticated
from gridsvc.core.kinds import LayerKind
from gridsvc.core.messages import Msg
from gridsvc.core.workflow import Role
from gridsvc.services.case_reads import CaseFilter
from gridsvc.services.reading import pinned

router = APIRouter(prefix="/api/v1", tags=["me"])


@router.get("/me")
def me(who: Reader, request: Request) -> dict[str, Any]:
    """The calling key's name, role and department (never the key itself)."""
    department = request.app.state.cases.departments.get(who.department or "") or {}
    return {
        "name": who.name,
        "role": who.role.value,
        "department": who.department,
        "department_name": department.get("name"),
        "department_name_en": department.get("name_en"),
        "grid": who.grid,
    }


#: most open cases "my grid" shows: a grid has tens; a backlog past this is the centre's
MY_GRID_CASES = 500


@router.get("/me/grid")
def my_grid(who: Reader, service: Cases, request: Request) -> dict[str, Any]:
    """A patrol's own grid and its open cases, as one GeoJSON FeatureCollection (RFC 7946,
    lon/lat): the grid's outline first (`"kind": "grid"`), then each open case as a point
    with its number, category, status, colour and deadline (`"kind": "case"`), most
    recent first. What the patrol app draws as "my grid". 404 when the key has no grid."""
    if who.role != Role.PATROL:
        raise Forbidden(Msg("me.no_grid_role", role=who.role.value))
    if not who.grid:
        raise NotFound(Msg("me.no_grid"))
    grids = request.app.state.town.layer(LayerKind.GRIDS)
    row = grids.frame[grids.frame["code"] == who.grid]
    if row.empty:  # the grid was redrawn away since the key was made
        raise NotFound(Msg("me.grid_gone", grid=who.grid))
    outline = {
        "type": "Feature",
        "geometry": shapely.geometry.mapping(row.geometry.iloc[0]),
        "properties": {"kind": "grid", "code": who.grid, "name": str(row["name"].iloc[0])},
    }
    mine = pinned(CaseFilter(grid_code=who.grid, open_only=True), who)
    items, _ = service.search(mine, None, MY_GRID_CASES)
    return {"type": "FeatureCollection", "features": [outline, *map(_case_point, items)]}


def _case_point(item: dict[str, Any]) -> dict[str, Any]:
    """An open case as the map needs it, without description, address or reporter."""
    supervision = item["supervision"]
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [item["lon"], item["lat"]]},
        "properties": {
            "kind": "case",
            "id": item["id"],
            "number": item["number"],
            "category": item["category"],
            "category_name": item.get("category_name"),
            "status": item["status"],
            "colour": supervision["colour"],
            "deadline": supervision["deadline"],
            "created_at": item["created_at"],
        },
    }


@router.get("/me/cases", response_model=Page)
def my_cases(
    who: Reader,
    service: Cases,
    open_only: Annotated[bool, Query(alias="open")] = False,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page:
    """A patrol's own reports, or a handler's department's cases; newest first,
    cursor-paginated; ``open=true`` leaves out closed and cancelled ones."""
    if who.role == Role.PATROL:
        wanted = CaseFilter(reporter_key=who.key_id, open_only=open_only)
    elif who.role == Role.HANDLER and who.department:
        wanted = pinned(CaseFilter(department=who.department, open_only=open_only), who)
    else:
        raise Forbidden(Msg("me.no_cases_role", role=who.role.value))
    items, next_cursor = service.search(wanted, cursor, limit)
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/me/sign-in-code",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "the QR code"}},
)
def sign_in_code(
    who: Reader,
    request: Request,
    page: Annotated[str, Query(description="the page the phone opens, e.g. /patrol")] = "/patrol",
) -> Response:
    """A QR code (SVG) a phone scans to open ``page`` signed in with the caller's own key.

    The key rides in the URL's fragment (``#key=``), which a browser never sends to a
    server, so no access log sees it; the page takes it, checks it like a pasted key and
    wipes it from the address bar and the history. POST and ``no-store``: the code is a
    secret and no cache may keep it."""
    allowed = [path for path, _, roles in PAGES if who.role in roles]
    if page not in allowed:
        raise Forbidden(Msg("me.page", role=who.role.value, allowed=allowed, page=page))
    key = bearer(request, request.headers.get("authorization"))
    if not key:  # signed in by the landing page's cookie: the page never held the key itself
        raise Unauthenticated(Msg("me.code_needs_key"))
    # a desktop on the centre's LAN may use a name (localhost, a hosts-file entry) that a
    # phone on the wireless network cannot resolve: GRIDSVC_PUBLIC_URL says the one it can
    base = request.app.state.settings.public_url or str(request.base_url)
    return Response(
        sign_in_svg(f"{base.rstrip('/')}{page}#key={key}", page),
        media_type="image/svg+xml",
        headers={"Cache-Control": "no-store"},
    )


def sign_in_svg(url: str, title: str) -> bytes:
    """The QR code of ``url`` as SVG (segno, error correction M: a smudged screen still reads)."""
    svg = io.BytesIO()
    segno.make(url, error="m").save(svg, kind="svg", scale=6, border=2, title=title)
    return svg.getvalue()
