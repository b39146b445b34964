"""Points no polygon covers: the nearest polygon, and the distance to an area's boundary.

Why a module of its own: a point outside the jurisdiction (or in no grid) is answered
with the nearest grid and how far the jurisdiction is, and that search is a different
problem from locating a point in a polygon.

The nearest grid comes from an STRtree of whole grids (GEOS measures a candidate point
against every vertex of each candidate). A tree of the grids' boundary segments was
tried and measured 2.2× faster per outside point, but on a 20,000-grid city its 900,000
two-point lines cost 319 MB and 0.93 s, built inside the first outside report's request
of every server process: too dear for a search most points never need.

The distance to the jurisdiction is the distance to its boundary, from a tree of that
boundary's segments (the outline of one area: small). A point the exact locator found
outside may lie a millimetre inside the projected polygon, where the distance to the
polygon would say 0. A point outside the jurisdiction may still lie in a grid (a grid
drawn past the jurisdiction's edge): the caller passes the grid the locator found, which
is then the nearest (at 0 m).

Tie rule (as everywhere in matching): of the polygons at the least distance, the one with
the lowest ``rank`` (the rank of its code) is the nearest.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from gridsvc.core.ragged import first_per_group

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


def boundary_segments(polygons: ArrayLike) -> NDArray[np.object_]:
    """Every boundary segment of ``polygons`` (polygons or multipolygons, holes included)
    as a two-point line."""
    parts = shapely.get_parts(np.asarray(polygons, dtype=object))
    coords, coord_of = shapely.get_coordinates(shapely.get_rings(parts), return_index=True)
    same_ring = coord_of[:-1] == coord_of[1:]
    return shapely.linestrings(np.stack([coords[:-1][same_ring], coords[1:][same_ring]], axis=1))


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
        self._grid_tree = shapely.STRtree(np.asarray(grids_m, dtype=object))
        self.grid_rank: Ints = np.asarray(grid_rank, dtype=np.int64)
        self._jurisdiction_tree: shapely.STRtree | None = None
        if jurisdiction_m is not None:
            union = shapely.union_all(np.asarray(jurisdiction_m, dtype=object))
            self._jurisdiction_tree = shapely.STRtree(boundary_segments([union]))

    def measure(self, x: Floats, y: Floats, covering: Ints | None = None) -> tuple[Ints, Floats]:
        """For points at (x, y), the nearest grid and the distance to the jurisdiction's
        boundary (to the nearest grid when no jurisdiction layer is given).

        ``covering``: the grid each point lies in (-1: none), as the locator found it; a
        point in a grid has that grid as its nearest."""
        points = shapely.points(x, y)
        # all equidistant grids come back; the lowest code wins
        (which, grids), dists = self._grid_tree.query_nearest(
            points, return_distance=True, all_matches=True
        )
        first = first_per_group(which, self.grid_rank[grids])
        nearest, distance = grids[first], dists[first]
        if covering is not None:
            inside = np.asarray(covering) >= 0
            nearest = np.where(inside, covering, nearest)
            distance = np.where(inside, 0.0, distance)
        if self._jurisdiction_tree is not None:
            (which, _), dists = self._jurisdiction_tree.query_nearest(points, return_distance=True)
            distance = np.full(points.size, np.nan)
            distance[which] = dists
        return nearest, distance
