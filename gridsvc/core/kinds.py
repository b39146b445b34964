"""The levels of the territory and how they nest: names only, no geometry.

Kept apart from :mod:`gridsvc.core.layers` (which needs geopandas) so that the
command line can offer the level names in ``--help`` without loading it.
"""

from __future__ import annotations

from enum import StrEnum


class LayerKind(StrEnum):
    """The levels of the territory, from the largest to the smallest."""

    JURISDICTION = "jurisdiction"
    UNITS = "units"
    GRIDS = "grids"
    COMMITTEES = "committees"
    CELLS = "cells"
    STREETS = "streets"


POLYGON_KINDS = (
    LayerKind.JURISDICTION,
    LayerKind.UNITS,
    LayerKind.GRIDS,
    LayerKind.COMMITTEES,
    LayerKind.CELLS,
)

# Each polygon level tiles its parent with no gaps and no overlaps.
PARENT_KIND: dict[LayerKind, LayerKind] = {
    LayerKind.UNITS: LayerKind.JURISDICTION,
    LayerKind.GRIDS: LayerKind.UNITS,
    LayerKind.COMMITTEES: LayerKind.GRIDS,
    LayerKind.CELLS: LayerKind.COMMITTEES,
}
