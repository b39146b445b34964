"""Layer versions: history and GeoPackage export (the planner's way into QGIS)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Header, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from gridsvc.api.auth import principal, require
from gridsvc.api.params import DraftId, VersionId, draft_tags, version_tags
from gridsvc.api.problems import request_lang
from gridsvc.api.refresh import refresh_matching
from gridsvc.core.errors import PreconditionRequired
from gridsvc.core.layers import LayerKind
from gridsvc.core.messages import Msg
from gridsvc.core.repair import parse_repairs
from gridsvc.core.workflow import Role
from gridsvc.services import layers
from gridsvc.services.planning import Planning, Upload, read_upload
from gridsvc.services.reading import Principal, town_for

router = APIRouter(prefix="/api/v1/layers", tags=["layers"])
Reader = Annotated[Principal, Depends(principal)]


@router.get("/{kind}/versions")
def versions(
    kind: LayerKind,
    request: Request,
    who: Reader,
    town: Annotated[
        str | None, Query(max_length=40, description="only the versions this town's planner made")
    ] = None,
) -> list[dict[str, Any]]:
    """Every version of a layer, newest first, with status, feature count and the town
    whose planner made it (`town_code`; none: the district's). A town's key lists the
    published and retired versions and its own town's drafts (no other's)."""
    if who.town is not None and town not in (None, who.town):
        town_for(who, town)  # a town key asking for another town: 404
    rows = layers.history(request.app.state.engine, kind, town)
    if who.town is None:
        return rows
    return [r for r in rows if r["status"] != "draft" or r["town_code"] == who.town]


@router.get("/{kind}/versions/{version_id}.gpkg", response_class=FileResponse)
async def export_version(
    kind: LayerKind, version_id: VersionId, request: Request, who: Reader
) -> FileResponse:
    """A layer version as a GeoPackage (EPSG:4490), ready for QGIS."""
    path = await run_in_threadpool(layers.export, request.app.state.engine, kind, version_id)
    return FileResponse(
        path,
        media_type="application/geopackage+sqlite3",
        filename=path.name,
        background=BackgroundTask(lambda: path.unlink(missing_ok=True)),
    )


Planner = Annotated[Principal, Depends(require(Role.PLANNER))]


def planning(request: Request) -> Planning:
    return request.app.state.planning  # type: ignore[no-any-return]


@router.post("/{kind}/drafts", status_code=201)
async def upload_draft(
    kind: LayerKind,
    request: Request,
    who: Planner,
    file: UploadFile,
    label: Annotated[str, Form(max_length=200)] = "",
    layer: Annotated[str | None, Form(description="layer name inside a GeoPackage")] = None,
    code_field: Annotated[str, Form()] = "code",
    name_field: Annotated[str, Form()] = "name",
    parent_field: Annotated[str, Form()] = "parent_code",
    encoding: Annotated[
        str | None, Form(description="e.g. GBK for a Shapefile without .cpg")
    ] = None,
    crs: Annotated[str | None, Form(description="when the file declares none")] = None,
    repair: Annotated[
        str | None, Form(description="repairs to apply: make_valid, snap, close_slivers")
    ] = None,
) -> dict[str, Any]:
    """Upload a redrawn layer (GeoJSON, GeoPackage, zipped Shapefile, FlatGeobuf) as a draft;
    the answer carries its validation report. Drafts are never used for matching."""
    limit = request.app.state.settings.max_layer_bytes
    data = await file.read(limit + 1)
    upload = Upload(
        file.filename or "upload", data, layer, code_field, name_field, parent_field, encoding, crs
    )
    repairs = parse_repairs(repair)
    found = await run_in_threadpool(read_upload, kind, upload, limit)
    name, lang = label or (file.filename or "draft"), request_lang(request)
    return await run_in_threadpool(
        planning(request).add_draft, found, name, repairs, who.town, lang
    )


@router.get("/{kind}/drafts/{draft_id}/validation")
def draft_validation(
    kind: LayerKind, draft_id: DraftId, request: Request, who: Planner
) -> dict[str, Any]:
    """Every problem of the draft with codes, location and area; blocking ones stop publication."""
    return planning(request).validation(kind, draft_id, who.town, request_lang(request))


@router.get("/{kind}/drafts/{draft_id}/impact")
def draft_impact(
    kind: LayerKind, draft_id: DraftId, request: Request, who: Planner
) -> dict[str, Any]:
    """Features added, removed and changed; every open or recent case that would move; per-grid
    workload before and after. A town's draft lists that town's cases and grids only."""
    return planning(request).impact(kind, draft_id, who.town)


@router.post("/{kind}/drafts/{draft_id}/publish")
def publish_draft(
    kind: LayerKind,
    draft_id: DraftId,
    request: Request,
    who: Planner,
    if_match: Annotated[str | None, Header(description='"draft-<id>", "active-<id>"')] = None,
) -> dict[str, Any]:
    """Publish a draft atomically; open cases it moves are reassigned with an event each.
    If-Match must name the draft and the active version you previewed against. A town's
    draft is spliced onto the active layer again when another town published since (its
    active version may then be older, if this town's features are unchanged in the new)."""
    tags = draft_tags(if_match)
    result = planning(request).publish(
        kind, draft_id, tags.get("draft", -1), tags.get("active"), who.town
    )
    refresh_matching(request.app)
    return result


@router.post("/{kind}/rollback")
def rollback(
    kind: LayerKind,
    request: Request,
    who: Planner,
    if_match: Annotated[str | None, Header(description='"active-<id>"')] = None,
) -> dict[str, Any]:
    """Make the previous version active again (as a new version; open cases are reassigned back).
    The district's planner's alone: a town's planner gets a 403."""
    if who.town is not None:
        planning(request).rollback(kind, None, who.town)  # the 403 that says what to do
    if not if_match:
        raise PreconditionRequired(Msg("layers.rollback_if_match"))
    result = planning(request).rollback(kind, version_tags(if_match).get("active"))
    refresh_matching(request.app)
    return result
