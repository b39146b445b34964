"""Points no polygon covers: the nearest polygon, and the distance to an area's boundary.

Why a module of its own: a point outside the jurisdiction (or in no grid) is answered
with the nearest grid and how far the jurisdiction is, and that search is a different
problem from locating a point in a polygon. Searched polygon by polygon (an STRtree of
whole polygons, GEOS measuring a candidate point against every vertex of each candidate
polygon) it costs some 30 µs per outside point, a hundred times a point inside.

Tie rule (as everywhere in matching): of the polygons at the least distance, the one with
the lowest ``rank`` (the rank of its code) is the nearest; a point covered by several
(on a shared edge, or where polygons overlap) takes the lowest-ranked of those.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from gridsvc.core.ragged import first_per_group

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


class OutsideSearch:
    """What matching measures for a point outside: its nearest grid and the distance to
    the jurisdiction, all in the work CRS (metres). Built when first asked (most server
    processes see their first outside point well after start)."""

    def __init__(
        self,
        grids_m: ArrayLike,
        grid_rank: ArrayLike,
        jurisdiction_m: ArrayLike | None = None,
    ) -> None:
        """``jurisdiction_m``: the jurisdiction's polygons, or None when it is the union of
        the grids (then the distance to it is the distance to the nearest grid)."""
        self.grid_tree = shapely.STRtree(np.asarray(grids_m, dtype=object))
        self.grid_rank: Ints = np.asarray(grid_rank, dtype=np.int64)
        self.jurisdiction: shapely.Geometry | None = None
        if jurisdiction_m is not None:
            self.jurisdiction = shapely.union_all(np.asarray(jurisdiction_m, dtype=object))
            shapely.prepare(self.jurisdiction)

    def measure(self, x: Floats, y: Floats) -> tuple[Ints, Floats]:
        """For points at (x, y), the nearest grid and the distance to the jurisdiction's
        boundary (to the nearest grid when no jurisdiction layer is given)."""
        points = shapely.points(x, y)
        # all equidistant grids come back; the lowest code wins, as everywhere else
        (which, grids), dists = self.grid_tree.query_nearest(
            points, return_distance=True, all_matches=True
        )
        first = first_per_group(which, self.grid_rank[grids])
        nearest, distance = grids[first], dists[first]
        if self.jurisdiction is not None:
            distance = shapely.distance(self.jurisdiction, points)
        return nearest, distance
