"""The levels of the territory and how they nest: names only, no geometry.

Kept apart from :mod:`gridsvc.core.layers` (which needs geopandas) so that the
command line can offer the level names in ``--help`` without loading it.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum


class LayerKind(StrEnum):
    """The levels of the territory, from the largest to the smallest."""

    JURISDICTION = "jurisdiction"
    TOWNS = "towns"  # 街镇 of a district; a single town's deployment has none
    UNITS = "units"
    GRIDS = "grids"
    COMMITTEES = "committees"
    CELLS = "cells"
    STREETS = "streets"


POLYGON_KINDS = (
    LayerKind.JURISDICTION,
    LayerKind.TOWNS,
    LayerKind.UNITS,
    LayerKind.GRIDS,
    LayerKind.COMMITTEES,
    LayerKind.CELLS,
)

# Each polygon level tiles its parent with no gaps and no overlaps. The towns level is
# optional: without it (one town's deployment) the units nest in the jurisdiction.
PARENT_KIND: dict[LayerKind, LayerKind] = {
    LayerKind.TOWNS: LayerKind.JURISDICTION,
    LayerKind.UNITS: LayerKind.TOWNS,
    LayerKind.GRIDS: LayerKind.UNITS,
    LayerKind.COMMITTEES: LayerKind.GRIDS,
    LayerKind.CELLS: LayerKind.COMMITTEES,
}

OPTIONAL_LEVELS = frozenset({LayerKind.TOWNS})


def parent_kind(kind: LayerKind, present: Collection[LayerKind] | None = None) -> LayerKind | None:
    """The level ``kind`` nests in, given the levels the territory has (``present``).

    A district's units nest in its towns; a single town has no towns level and
    its units nest in the jurisdiction, which is the town. Without ``present``
    the towns level counts as absent only when asked of it (the ladder itself).
    """
    parent = PARENT_KIND.get(kind)
    while parent in OPTIONAL_LEVELS and present is not None and parent not in present:
        parent = PARENT_KIND.get(parent)
    return parent


def town_level(present: Collection[LayerKind]) -> LayerKind:
    """The level whose features are the towns (街镇): a district's towns layer, else the
    single town's jurisdiction, whose one feature is the town. Keys, the evaluation's
    by=town and the matcher all name towns by this one rule."""
    return LayerKind.TOWNS if LayerKind.TOWNS in present else LayerKind.JURISDICTION


def allowed_parents(kind: LayerKind) -> tuple[LayerKind, ...]:
    """Every level ``kind`` may be checked against: its parent, or past an optional one."""
    out: list[LayerKind] = []
    parent = PARENT_KIND.get(kind)
    while parent is not None:
        out.append(parent)
        if parent not in OPTIONAL_LEVELS:
            break
        parent = PARENT_KIND.get(parent)
    return tuple(out)
