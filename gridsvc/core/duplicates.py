"""Possible duplicates: cases of the same matter reported near a new one, not long before.

Two patrols walking the same street report the same overflowing bin; the
dispatcher wants to see the first case beside the second. A candidate is a
case of the same category within ``radius_m`` metres, reported within the
window. Points are bucketed by a lon/lat cell of about 100 m (the same cell
the database indexes, so the SQL search of a stored case and the in-memory
search of intake look in the same places), and distances are local metres.

:class:`RecentCases` keeps the window's cases in memory for intake: every
report needs this search, and a dictionary of cells answers it in
microseconds where a query costs hundreds. It changes with every report, so
it is a hash of cells, not a tree that must be rebuilt.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

CELL_DEG = 0.001  # about 100 m
M_PER_DEG = 111_320.0  # metres per degree of latitude (and of longitude at the equator)
MAX_DUPLICATES = 10  # possible duplicates shown with a case, nearest first


def cell_of(lon: float, lat: float) -> int:
    """The cell of a point (stored with every case, indexed with its category)."""
    return _cell(math.floor(lon / CELL_DEG), math.floor(lat / CELL_DEG))


def cells_around(lon: float, lat: float, radius_m: float) -> list[int]:
    """Every cell that the box of ± ``radius_m`` around the point touches."""
    dlat = radius_m / M_PER_DEG
    dlon = radius_m / (M_PER_DEG * max(math.cos(math.radians(lat)), 0.01))
    lons = range(math.floor((lon - dlon) / CELL_DEG), math.floor((lon + dlon) / CELL_DEG) + 1)
    lats = range(math.floor((lat - dlat) / CELL_DEG), math.floor((lat + dlat) / CELL_DEG) + 1)
    return [_cell(i, j) for j in lats for i in lons]


def _cell(i: int, j: int) -> int:
    return j * 1_000_000 + i + 180_000


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Distance on a local plane: exact enough for a radius of tens of metres."""
    kx = M_PER_DEG * math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot((lon2 - lon1) * kx, (lat2 - lat1) * M_PER_DEG)


class Reported(NamedTuple):
    """What the duplicate search needs of a case."""

    id: int
    number: str
    category: str
    lon: float
    lat: float
    created_at: datetime


def nearest(
    lon: float, lat: float, candidates: Iterable[Reported], radius_m: float
) -> list[dict[str, object]]:
    """Candidates within ``radius_m``, nearest first (ties by id), at most MAX_DUPLICATES."""
    near = []
    for c in candidates:
        d = metres(lon, lat, c.lon, c.lat)
        if d <= radius_m:
            near.append((d, c.id, c.number))
    near.sort()
    return [
        {"id": i, "number": number, "distance_m": round(d, 1)}
        for d, i, number in near[:MAX_DUPLICATES]
    ]


class RecentCases:
    """The cases of the last ``window``, by category and cell, for intake's duplicate search.

    Entries are never updated: a case closed since it was added is still a
    candidate here, and the caller checks the candidates' status (one query,
    and only when something is near). Entries older than the window are
    dropped as time passes.

    Entries are kept as plain tuples in tuple buckets of a dict: containers
    holding only numbers, strings and times are left out of Python's cycle
    collector, so a busy window of tens of thousands of cases adds nothing to
    its pauses (a dataclass and a list per case did).
    """

    def __init__(self, radius_m: float, window: timedelta) -> None:
        self.radius_m = radius_m
        self.window = window
        self._cells: dict[tuple[str, int], tuple[tuple[Any, ...], ...]] = {}
        self._by_age: deque[tuple[Any, ...]] = deque()  # in the order added, for pruning

    def __len__(self) -> int:
        return len(self._by_age)

    def add(self, case: Reported) -> None:
        entry = tuple(case)
        key = (case.category, cell_of(case.lon, case.lat))
        self._cells[key] = (*self._cells.get(key, ()), entry)
        self._by_age.append(entry)

    def drop_newest(self, ids: set[int]) -> None:
        """Forget the cases of a write that was rolled back (the last ones added)."""
        while self._by_age and self._by_age[-1][0] in ids:
            self._forget(self._by_age.pop())

    def candidates(self, category: str, lon: float, lat: float, now: datetime) -> list[Reported]:
        """Cases of ``category`` in the cells around the point, reported within the window."""
        self.prune(now)
        since = now - self.window
        out: list[Reported] = []
        for cell in cells_around(lon, lat, self.radius_m):
            for entry in self._cells.get((category, cell), ()):
                if entry[_CREATED] >= since:
                    out.append(Reported(*entry))
        return out

    def prune(self, now: datetime) -> None:
        """Drop cases added longest ago once they fall out of the window.

        Cases arrive roughly in time order, so the oldest are at the front; a
        case added late with an old time is dropped when its turn comes, and
        until then the window check in :meth:`candidates` hides it.
        """
        since = now - self.window
        while self._by_age and self._by_age[0][_CREATED] < since:
            self._forget(self._by_age.popleft())

    def _forget(self, entry: tuple[Any, ...]) -> None:
        case = Reported(*entry)
        key = (case.category, cell_of(case.lon, case.lat))
        kept = tuple(e for e in self._cells[key] if e is not entry)
        if kept:
            self._cells[key] = kept
        else:
            del self._cells[key]


_CREATED = Reported._fields.index("created_at")
