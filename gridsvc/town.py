"""A town's territory: its layers read from one GeoPackage (or separate files) and checked.

Loading validates every level against its parent and refuses the town with
the full list of problems; a matcher is only ever built on layers that
passed, so matching never silently works on a broken coverage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyogrio
from numpy.typing import NDArray

from gridsvc.core.errors import InvalidLayer, UnreadableFile
from gridsvc.core.layers import Layer, LayerKind, parent_kind
from gridsvc.core.matching import Matcher
from gridsvc.core.messages import Msg
from gridsvc.core.validation import Problem, check_layer
from gridsvc.layerio import read_layer


@dataclass(frozen=True)
class Town:
    """The validated layers of one jurisdiction, by kind (grids are always present)."""

    layers: dict[LayerKind, Layer]

    def layer(self, kind: LayerKind) -> Layer | None:
        return self.layers.get(kind)

    def names(self, kind: LayerKind) -> list[tuple[str, str]]:
        """(code, name) of each feature of a level, in the layer's order; none without it."""
        layer = self.layers.get(kind)
        if layer is None:
            return []
        frame = layer.frame
        return list(zip(frame["code"].astype(str), frame["name"].astype(str), strict=True))

    def matcher(
        self,
        street_radius_m: float = 50.0,
        cell_m: float = 2.5,
        tables: Mapping[str, Mapping[str, NDArray[Any]]] | None = None,
    ) -> Matcher:
        """The matcher over this town's layers (``tables``: its indexes, built before)."""
        return Matcher(
            self.layers[LayerKind.GRIDS],
            units=self.layer(LayerKind.UNITS),
            committees=self.layer(LayerKind.COMMITTEES),
            jurisdiction=self.layer(LayerKind.JURISDICTION),
            towns=self.layer(LayerKind.TOWNS),
            streets=self.layer(LayerKind.STREETS),
            street_radius_m=street_radius_m,
            cell_m=cell_m,
            tables=tables,
        )


def load_town_file(path: Path) -> Town:
    """Read every known layer of a town GeoPackage; grids are required."""
    if not Path(path).exists():
        raise UnreadableFile(Msg("town.no_file", path=str(path)))
    try:
        names = {str(row[0]) for row in pyogrio.list_layers(path)}
    except Exception as exc:  # pyogrio raises several GDAL-specific errors
        raise UnreadableFile(Msg("town.not_gpkg", path=str(path), reason=str(exc))) from exc
    if LayerKind.GRIDS.value not in names:
        raise InvalidLayer(Msg("town.no_grids", path=str(path), names=sorted(names)))
    files = {kind: Path(path) for kind in LayerKind if kind.value in names}
    return load_town(files)


def load_town(
    files: dict[LayerKind, Path],
    layer_names: dict[LayerKind, str] | None = None,
    *,
    code_field: str = "code",
    name_field: str = "name",
    crs: str | None = None,
) -> Town:
    """Read and validate the given layer files (one per kind; a GeoPackage may serve several).

    In a file of several layers the one named in ``layer_names`` is read,
    else its only layer whatever its name, else the one named like the kind.
    A level's parent codes are required only when its parent level is given:
    a planner's grid file alone matches without a ``parent_code`` field.
    """
    names = layer_names or {}
    layers = {
        kind: read_layer(
            path,
            kind,
            layer=names.get(kind),
            code_field=code_field,
            name_field=name_field,
            crs=crs,
            require_parent=parent_kind(kind, files) in files,
        )
        for kind, path in files.items()
    }
    problems = validate_town(layers)
    if any(p.blocking for p in problems):
        raise InvalidLayer(
            Msg("town.blocking", count=sum(p.blocking for p in problems)),
            problems=problems,
        )
    return Town(layers)


def validate_town(layers: dict[LayerKind, Layer]) -> list[Problem]:
    """Every problem of every level, each checked against its parent when it is loaded."""
    problems: list[Problem] = []
    for kind, layer in layers.items():
        above = parent_kind(kind, layers)
        parent = layers.get(above) if above is not None else None
        try:
            problems.extend(check_layer(layer, parent))
        except InvalidLayer as exc:
            problems.extend(exc.problems)
    return problems
