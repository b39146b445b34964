"""Layers of the territory: jurisdiction, units, grids, cells, committees, streets.

A :class:`Layer` is a GeoDataFrame in CGCS2000 (EPSG:4490) with the columns
every level shares (``code``, ``name``, ``parent_code``) plus the level's own
attributes (``team`` for grids). Geometry stays in the storage CRS; measures
use the jurisdiction's Gauss-Krüger zone (:func:`Layer.projected`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from gridsvc.core.crs import CGCS2000, gauss_kruger_epsg
from gridsvc.core.errors import InvalidLayer, MissingCRS
from gridsvc.core.kinds import PARENT_KIND as PARENT_KIND  # re-exported: importers keep working
from gridsvc.core.kinds import POLYGON_KINDS as POLYGON_KINDS
from gridsvc.core.kinds import LayerKind
from gridsvc.core.kinds import parent_kind as parent_kind
from gridsvc.core.messages import Msg

BASE_COLUMNS = ("code", "name", "parent_code")


@dataclass(frozen=True)
class Layer:
    """One level of the territory, in CGCS2000, one row per feature, codes unique."""

    kind: LayerKind
    frame: gpd.GeoDataFrame = field(repr=False)

    def __post_init__(self) -> None:
        if self.frame.crs is None:
            raise MissingCRS(Msg("layer.no_crs", kind=self.kind))
        if not self.frame.crs.equals(CGCS2000):
            raise InvalidLayer(
                Msg("layer.wrong_crs", kind=self.kind, wanted=CGCS2000, got=self.frame.crs)
            )
        missing = [c for c in BASE_COLUMNS if c not in self.frame.columns]
        if missing:
            raise InvalidLayer(Msg("layer.missing_columns", kind=self.kind, columns=missing))

    @property
    def codes(self) -> pd.Series:
        return self.frame["code"]

    def __len__(self) -> int:
        return len(self.frame)

    def projected(self, epsg: int | None = None) -> gpd.GeoDataFrame:
        """The frame in the Gauss-Krüger zone of its centre (or ``epsg``), for measuring."""
        return self.frame.to_crs(epsg or self.work_epsg())

    def work_epsg(self) -> int:
        """The CGCS2000 3-degree Gauss-Krüger zone nearest the layer's centre."""
        minx, _, maxx, _ = self.frame.total_bounds
        if not math.isfinite(minx + maxx):  # every feature empty: nowhere to measure
            raise InvalidLayer(Msg("layer.no_geometry", kind=self.kind))
        return gauss_kruger_epsg((minx + maxx) / 2.0)
