"""What a new case row holds: where it is (placement), who it goes to (routing), and the
clock its deadlines run on. Shared by intake and by the demo history's loader, so a
loaded case and a reported one are made alike."""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Any

from gridsvc.core.routing import Matter, route
from gridsvc.core.worktime import WorkCalendar


def clock_for(level: str, calendar: WorkCalendar, natural_time: WorkCalendar) -> WorkCalendar:
    """The clock a case's deadlines run on. Grid-level (small loop) cases run on natural time:
    street teams work in shifts every day. Town and county departments count working hours
    with the holiday calendar."""
    return natural_time if level == "grid" else calendar


def placement(
    match: Mapping[str, Any],
    grid: str | None,
    team: str | None,
    raw_lon: float,
    raw_lat: float,
    raw_crs: str,
) -> dict[str, Any]:
    """Where a case is: the matched point (CGCS2000), as sent, and its grid, unit, street."""
    return {
        "lon": match["lon"],
        "lat": match["lat"],
        "raw_lon": raw_lon,
        "raw_lat": raw_lat,
        "raw_crs": raw_crs,
        "geom_wkb": point_wkb(match["lon"], match["lat"]),
        "town_code": match.get("town_code"),
        "grid_code": grid,
        "unit_code": match["unit_code"],
        "committee_code": match["committee_code"],
        "street_id": match["street_id"],
        "street_distance_m": match["street_distance_m"],
        "team": team,
    }


def point_wkb(lon: float, lat: float) -> bytes:
    """The WKB of a point, as shapely writes it (little-endian, 2D), without a GEOS call.

    Intake stores one per report; two GEOS calls there each let go of the GIL
    and waited to get it back behind the writer thread.
    """
    return _POINT_WKB.pack(1, 1, lon, lat)


_POINT_WKB = struct.Struct("<BIdd")  # byte order 1 (little), geometry type 1 (Point), x, y


def routed(matter: Matter, team: str | None) -> dict[str, Any]:
    """Who handles a case: the responsibility list's answer for its matter and team."""
    routing = route(matter, team)
    return {
        "level": routing.level.value,
        "department": routing.department,
        "cooperating": list(routing.cooperating),
        "group_code": routing.group,
        "assignee": routing.team or routing.department,
        "duplicate_of": None,
    }
