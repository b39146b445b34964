"""Layers and matchers built from the hand-written ``tests/data/match_*.geojson``.

The grids tile 121.440-121.455 E x 31.325-31.335 N in cells of 0.005 degrees,
codes deliberately out of order so that "lowest code wins" is not "first row
wins" (the file lists them in yet another order)::

    31.335 +--------------+--------------+--------------+
           | 310106113G01 | 310106113G04 | 310106114G02 |
    31.330 +--------------+--------------+--------------+
           | 310106113G03 | 310106113G02 | 310106114G01 |
    31.325 +--------------+--------------+--------------+
        121.440        121.445        121.450        121.455

Units: 310106113 west of 121.450, 310106114 east of it. The jurisdiction
310106 is the whole rectangle. Streets: S001 runs north-south at 121.4475,
S002 east-west at 31.332, S003 is a two-piece line in the south-west, S004 a
short east-west piece at 31.3275 in the east unit.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest

from gridsvc.core.crs import CGCS2000
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.matching import Matcher

DATA = Path(__file__).parent.parent / "data"


def _read(name: str) -> gpd.GeoDataFrame:
    # GeoJSON is read as EPSG:4326; the files hold CGCS2000 lon/lat
    return gpd.read_file(DATA / f"match_{name}.geojson").set_crs(CGCS2000, allow_override=True)


@pytest.fixture(scope="session")
def match_layers() -> dict[str, Layer]:
    return {
        "grids": Layer(LayerKind.GRIDS, _read("grids")),
        "units": Layer(LayerKind.UNITS, _read("units")),
        "jurisdiction": Layer(LayerKind.JURISDICTION, _read("jurisdiction")),
        "streets": Layer(LayerKind.STREETS, _read("streets")),
    }


@pytest.fixture(scope="session")
def matcher(match_layers: dict[str, Layer]) -> Matcher:
    """The town with every layer: grids, units, jurisdiction and streets (50 m)."""
    return Matcher(
        match_layers["grids"],
        units=match_layers["units"],
        jurisdiction=match_layers["jurisdiction"],
        streets=match_layers["streets"],
        street_radius_m=50.0,
    )


@pytest.fixture(scope="session")
def grids_only_matcher(match_layers: dict[str, Layer]) -> Matcher:
    """Grids alone: the jurisdiction is then the union of the grids."""
    return Matcher(match_layers["grids"])
