"""The responsibility list (属地管理清单) as versions: history, drafts, changes, publish."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Header, Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from gridsvc.api.auth import require
from gridsvc.api.params import DraftId, draft_tags
from gridsvc.api.refresh import refresh_matching
from gridsvc.core.workflow import Role
from gridsvc.services.reading import Principal
from gridsvc.services.responsibility import MAX_LIST_BYTES, ResponsibilityLists, read_list_csv

router = APIRouter(prefix="/api/v1/responsibility-list", tags=["responsibility list"])
Planner = Annotated[Principal, Depends(require(Role.PLANNER))]
Reader = Annotated[Principal, Depends(require(Role.PLANNER, Role.DISPATCHER, Role.LEADER))]


def lists(request: Request) -> ResponsibilityLists:
    service: ResponsibilityLists = request.app.state.lists
    return service


Lists = Annotated[ResponsibilityLists, Depends(lists)]


@router.get("/versions")
def versions(service: Lists, who: Reader) -> list[dict[str, Any]]:
    """Every version of the list, newest first: draft, published (one) or retired."""
    return service.history()


@router.post("/drafts", status_code=201)
async def upload_draft(
    service: Lists,
    who: Planner,
    file: UploadFile,
    label: Annotated[str, Form(max_length=200)] = "",
) -> dict[str, Any]:
    """Upload a list (CSV with the columns of data/demo/responsibility_list.csv) as a draft.
    Every row is checked, and every department and group it names must exist; the answer
    says which matters it adds, removes and changes against the published list."""
    data = await file.read(MAX_LIST_BYTES + 1)
    rows = read_list_csv(data)
    return await run_in_threadpool(service.add_draft, rows, label or (file.filename or "draft"))


@router.get("/drafts/{draft_id}/changes")
def draft_changes(draft_id: DraftId, service: Lists, who: Planner) -> dict[str, Any]:
    """Matters added, removed and changed (with the fields) against the published list."""
    return service.changes(draft_id)


@router.post("/drafts/{draft_id}/publish")
def publish_draft(
    draft_id: DraftId,
    request: Request,
    service: Lists,
    who: Planner,
    if_match: Annotated[str | None, Header(description='"draft-<id>", "active-<id>"')] = None,
) -> dict[str, Any]:
    """Publish the draft: reports from now on are routed by it and record its version.
    If-Match must name the draft and the published version you compared against."""
    tags = draft_tags(if_match)
    result = service.publish(draft_id, tags["draft"], tags.get("active"))
    refresh_matching(request.app)
    return result
