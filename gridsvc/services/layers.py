"""Layer versions as planners see them: their history and exports for QGIS."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from gridsvc.core.errors import NotFound
from gridsvc.core.layers import LayerKind
from gridsvc.layerio import write_layer
from gridsvc.store import reference


def history(engine: Engine, kind: LayerKind) -> list[dict[str, Any]]:
    """Every version of a layer kind, newest first (draft, published or retired)."""
    with engine.connect() as conn:
        versions = reference.list_versions(conn, kind)
    return [
        {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
        for row in versions
    ]


def export(
    engine: Engine, kind: LayerKind, version_id: int | None, target: Path | None = None
) -> Path:
    """Write a version (default: the active one) to a GeoPackage; returns its path."""
    with engine.connect() as conn:
        if version_id is None:
            version_id = reference.active_versions(conn).get(kind)
            if version_id is None:
                raise NotFound(f"no published {kind.value} layer")
        elif reference.version_kind(conn, version_id) != kind:
            raise NotFound(f"the {kind.value} layer has no version {version_id}")
        layer = reference.load_layer(conn, kind, version_id)
    if target is None:
        target = (
            Path(tempfile.mkdtemp(prefix="gridsvc-export-")) / f"{kind.value}-v{version_id}.gpkg"
        )
    return write_layer(layer, target, layer_name=kind.value)
