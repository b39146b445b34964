"""Layer versions: history and GeoPackage export (the planner's way into QGIS)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from gridsvc.api.auth import principal
from gridsvc.core.layers import LayerKind
from gridsvc.services import layers
from gridsvc.services.cases import Principal

router = APIRouter(prefix="/api/v1/layers", tags=["layers"])
Reader = Annotated[Principal, Depends(principal)]


@router.get("/{kind}/versions")
def versions(kind: LayerKind, request: Request, who: Reader) -> list[dict[str, Any]]:
    """Every version of a layer, newest first, with status and feature count."""
    return layers.history(request.app.state.engine, kind)


@router.get("/{kind}/versions/{version_id}.gpkg", response_class=FileResponse)
async def export_version(
    kind: LayerKind, version_id: int, request: Request, who: Reader
) -> FileResponse:
    """A layer version as a GeoPackage (EPSG:4490), ready for QGIS."""
    path = await run_in_threadpool(layers.export, request.app.state.engine, kind, version_id)
    return FileResponse(
        path,
        media_type="application/geopackage+sqlite3",
        filename=path.name,
        background=BackgroundTask(lambda: path.unlink(missing_ok=True)),
    )
