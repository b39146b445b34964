"""Who the key is, and the cases that are the caller's own: what the role pages open with.

The patrol app asks ``/me`` once when a key is pasted (a wrong key is told at
once, not at the first report) and shows the role and department; "my
reports" is ``/me/cases``: for a patrol the reports sent with its key, for a
handler the cases routed to its department. Other roles have the whole queue
at ``/cases``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from gridsvc.api.params import Cursor
from gridsvc.api.routes.cases import Cases, Page, Reader
from gridsvc.core.errors import Forbidden
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
