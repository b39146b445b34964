"""The working frame every module shares: where the repository is, the seed, the CRSs.

Geometry is built in local metres of the CGCS2000 3-degree Gauss-Krüger zone of
120°E (EPSG:4549; x east, y north, origin at the demo's centre) and written in
CGCS2000 geographic coordinates (EPSG:4490).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyproj
import shapely

ROOT = Path(__file__).resolve().parent.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gridsvc.core.crs import gauss_kruger_epsg  # noqa: E402

SEED = 20251101
CENTER_LON, CENTER_LAT = 121.45, 31.33
STORAGE_EPSG = 4490
WORK_EPSG = gauss_kruger_epsg(CENTER_LON)  # 4549
COUNTY_CODE = "310106"

TO_WORK = pyproj.Transformer.from_crs(STORAGE_EPSG, WORK_EPSG, always_xy=True)
TO_STORAGE = pyproj.Transformer.from_crs(WORK_EPSG, STORAGE_EPSG, always_xy=True)
X0, Y0 = TO_WORK.transform(CENTER_LON, CENTER_LAT)


def to_storage(geoms: list) -> list:
    """Local metres → EPSG:4490, vertex by vertex (equal vertices stay equal)."""

    def f(c: np.ndarray) -> np.ndarray:
        x, y = TO_STORAGE.transform(c[:, 0] + X0, c[:, 1] + Y0)
        return np.c_[x, y]

    return list(shapely.transform(np.array(geoms, dtype=object), f))
