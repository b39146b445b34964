"""The duplicate search of intake: RecentCases finds what a scan of every case finds.

The oracle walks every case: same category, reported within the window
before the new report, and within the radius by the local-plane distance;
nearest first, ties by id, at most MAX_DUPLICATES. Points are drawn in a
few hundred metres around one spot, so cell borders, the radius edge and
the window edge are all crossed often.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridsvc.core.duplicates import (
    CELL_DEG,
    MAX_DUPLICATES,
    RecentCases,
    Reported,
    cell_of,
    cells_around,
    metres,
    nearest,
)

T0 = datetime(2026, 5, 1, 8, tzinfo=UTC)
WINDOW = timedelta(hours=72)
LON0, LAT0 = 121.4425, 31.3395


def oracle(cases: list[Reported], new: Reported, radius: float) -> list[dict[str, object]]:
    found = sorted(
        (metres(new.lon, new.lat, c.lon, c.lat), c.id, c.number)
        for c in cases
        if c.category == new.category
        and new.created_at - WINDOW <= c.created_at
        and metres(new.lon, new.lat, c.lon, c.lat) <= radius
    )
    return [{"id": i, "number": n, "distance_m": round(d, 1)} for d, i, n in found][:MAX_DUPLICATES]


reports = st.lists(
    st.tuples(
        st.sampled_from(["CG01", "CG02"]),
        st.floats(-0.003, 0.003),  # about ±300 m
        st.floats(-0.003, 0.003),
        st.integers(0, 100),  # hours after T0
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(reports, st.sampled_from([10.0, 50.0, 120.0]))
def test_each_report_finds_what_a_full_scan_finds(
    drawn: list[tuple[str, float, float, int]], radius: float
) -> None:
    index = RecentCases(radius, WINDOW)
    stored: list[Reported] = []
    for k, (category, dx, dy, hours) in enumerate(sorted(drawn, key=lambda d: d[3])):
        new = Reported(
            k + 1, f"N{k + 1}", category, LON0 + dx, LAT0 + dy, T0 + timedelta(hours=hours)
        )
        found = nearest(
            new.lon,
            new.lat,
            index.candidates(category, new.lon, new.lat, new.created_at),
            radius,
        )
        assert found == oracle(stored, new, radius)
        index.add(new)
        stored.append(new)


def test_the_window_drops_old_cases_from_memory() -> None:
    index = RecentCases(50.0, WINDOW)
    index.add(Reported(1, "A", "CG01", LON0, LAT0, T0))
    index.add(Reported(2, "B", "CG01", LON0, LAT0, T0 + timedelta(hours=10)))
    later = T0 + WINDOW + timedelta(hours=1)
    assert [c.id for c in index.candidates("CG01", LON0, LAT0, later)] == [2]
    assert len(index) == 1  # the first is gone, not only hidden


def test_a_rolled_back_write_is_forgotten() -> None:
    index = RecentCases(50.0, WINDOW)
    index.add(Reported(1, "A", "CG01", LON0, LAT0, T0))
    index.add(Reported(2, "B", "CG01", LON0, LAT0, T0))
    index.add(Reported(3, "C", "CG01", LON0, LAT0, T0))
    index.drop_newest({2, 3})
    assert [c.id for c in index.candidates("CG01", LON0, LAT0, T0)] == [1]


@given(st.floats(-0.01, 0.01), st.floats(-0.01, 0.01), st.sampled_from([10.0, 50.0, 200.0]))
def test_the_cells_around_a_point_hold_every_point_within_the_radius(
    dx: float, dy: float, radius: float
) -> None:
    lon, lat = LON0 + dx, LAT0 + dy
    cells = set(cells_around(lon, lat, radius))
    for bearing in range(0, 360, 15):  # points on the radius all round
        a = math.radians(bearing)
        plon = lon + radius * math.sin(a) / (111_320.0 * math.cos(math.radians(lat)))
        plat = lat + radius * math.cos(a) / 111_320.0
        assert cell_of(plon, plat) in cells


def test_the_cell_is_about_a_hundred_metres() -> None:
    assert metres(LON0, LAT0, LON0, LAT0 + CELL_DEG) == pytest.approx(111.3, abs=0.1)
    assert cell_of(LON0, LAT0) != cell_of(LON0 + CELL_DEG, LAT0)
    assert cell_of(LON0, LAT0) != cell_of(LON0, LAT0 + CELL_DEG)
