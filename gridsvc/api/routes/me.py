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
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from gridsvc.api.auth import bearer
from gridsvc.api.params import Cursor
from gridsvc.api.routes.cases import Cases, Page, Reader
from gridsvc.api.routes.session import PAGES
from gridsvc.core.errors import Forbidden, Unauthenticated
from gridsvc.core.workflow import Role
from gridsvc.services.cases import CaseFilter

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
        wanted = CaseFilter(department=who.department, open_only=open_only)
    else:
        raise Forbidden(
            f"a {who.role.value} has no cases of its own; read the queue at /api/v1/cases"
        )
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
        raise Forbidden(f"a {who.role.value} key opens {', '.join(allowed)}; not {page!r}")
    key = bearer(request, request.headers.get("authorization"))
    if not key:  # signed in by the landing page's cookie: the page never held the key itself
        raise Unauthenticated("send the key as 'Authorization: Bearer <key>' to make its code")
    url = f"{str(request.base_url).rstrip('/')}{page}#key={key}"
    svg = io.BytesIO()
    segno.make(url, error="m").save(svg, kind="svg", scale=6, border=2, title=page)
    return Response(
        svg.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "no-store"}
    )
