"""Layer versions as planners see them: their history and exports for QGIS."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from gridsvc.core.errors import InvalidInput, NotFound
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.matching import Matcher
from gridsvc.core.messages import Msg
from gridsvc.layerio import write_layer
from gridsvc.store import reference
from gridsvc.town import Town

LOADED_VERSIONS = 12  # layer versions kept in memory (a district's grids are ~20 MB each)


class StoredLayers:
    """Stored layer versions, each read once: a version's features never change once stored.

    The last :data:`LOADED_VERSIONS` read are kept (oldest read dropped first).
    """

    def __init__(self) -> None:
        self._loaded: dict[int, Layer] = {}

    def get(self, conn: Connection, kind: LayerKind, version_id: int) -> Layer:
        if version_id not in self._loaded:
            if len(self._loaded) >= LOADED_VERSIONS:
                self._loaded.pop(next(iter(self._loaded)))
            self._loaded[version_id] = reference.load_layer(conn, kind, version_id)
        return self._loaded[version_id]

    def active(self, conn: Connection) -> tuple[dict[LayerKind, int], dict[LayerKind, Layer]]:
        """The published version of every kind, and those layers."""
        versions = reference.active_versions(conn)
        return versions, {k: self.get(conn, k, v) for k, v in versions.items()}


class MatcherCache:
    """Matchers for past layer versions, built on demand and kept (versions never change)."""

    def __init__(
        self,
        engine: Engine,
        current: Matcher,
        current_versions: dict[LayerKind, int],
        street_radius_m: float,
        cell_m: float,
    ) -> None:
        self.engine = engine
        self.street_radius_m = street_radius_m
        self.cell_m = cell_m
        self._built: dict[tuple[tuple[str, int], ...], Matcher] = {_key(current_versions): current}

    def at(self, moment: datetime) -> Matcher:
        """The matcher for the layers that were active at ``moment``."""
        if moment.tzinfo is None:
            raise InvalidInput(Msg("layers.at_zone"))
        with self.engine.connect() as conn:
            versions = reference.versions_at(conn, moment)
            if LayerKind.GRIDS not in versions:
                raise NotFound(Msg("layers.none_at", moment=moment.isoformat()))
            key = _key(versions)
            if key not in self._built:
                layers = {
                    kind: reference.load_layer(conn, kind, vid) for kind, vid in versions.items()
                }
                self._built[key] = Town(layers).matcher(self.street_radius_m, self.cell_m)
        return self._built[key]


def _key(versions: dict[LayerKind, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((k.value, v) for k, v in versions.items()))


def history(engine: Engine, kind: LayerKind, town: str | None = None) -> list[dict[str, Any]]:
    """Every version of a layer kind, newest first (draft, published or retired); those a
    town's planner made alone when ``town`` is given."""
    with engine.connect() as conn:
        versions = reference.list_versions(conn, kind, town)
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
                raise NotFound(Msg("layers.none_published", kind=kind.value))
        elif reference.version_kind(conn, version_id) != kind:
            raise NotFound(Msg("layers.no_version", kind=kind.value, version_id=version_id))
        layer = reference.load_layer(conn, kind, version_id)
    if target is None:
        target = (
            Path(tempfile.mkdtemp(prefix="gridsvc-export-")) / f"{kind.value}-v{version_id}.gpkg"
        )
    return write_layer(layer, target, layer_name=kind.value)
