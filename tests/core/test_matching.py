"""Matcher against the hand-written town in ``tests/data/match_*.geojson``.

See ``conftest.py`` for the map. Expected answers are either read off that
map (and cross-checked against brute force over the GeoJSON features) or
measured independently with geopandas in EPSG:4549 / pyproj.Geod.
"""

from __future__ import annotations

import dataclasses
import math

import geopandas as gpd
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gridsvc.core.crs import (
    BD09,
    GCJ02,
    WGS84,
    from_cgcs2000,
    parse_crs,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from gridsvc.core.errors import (
    CoordinatesOutOfRange,
    InvalidInput,
    SwappedCoordinates,
)
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.matching import COLUMNS, Matcher

WORK = "EPSG:4549"
GEOD = pyproj.Geod(ellps="GRS80")
T1, T2, T3 = "第一工作站", "第二工作站", "第三工作站"
U13, U14 = "310106113", "310106114"
_GK = pyproj.Transformer.from_crs("EPSG:4490", WORK, always_xy=True).transform


def lowest_code_holding(layer: Layer, lon: float, lat: float) -> str | None:
    """Brute force: the lowest code among the features whose closure holds the point."""
    frame = layer.frame
    hits = frame[frame.geometry.intersects(shapely.Point(lon, lat))]
    return None if hits.empty else str(min(hits["code"]))


def metres_to(layer: Layer, lon: float, lat: float) -> pd.Series:
    """Distance (m) from the point to every feature, measured by geopandas in EPSG:4549."""
    point = gpd.GeoSeries([shapely.Point(lon, lat)], crs="EPSG:4490").to_crs(WORK).iloc[0]
    return pd.Series(layer.frame.to_crs(WORK).distance(point).to_numpy(), index=layer.codes)


# ---- the table -----------------------------------------------------------------------------

INSIDE = [
    # lon, lat, grid, unit, team, what
    (121.4425, 31.3275, "310106113G03", U13, T1, "interior of G03"),
    (121.4525, 31.3325, "310106114G02", U14, T3, "interior of 114G02"),
    (121.4471, 31.3338, "310106113G04", U13, T2, "interior of G04"),
    (121.4450, 31.3275, "310106113G02", U13, T2, "edge G03|G02: the eastern one is lower"),
    (121.4450, 31.3325, "310106113G01", U13, T1, "edge G01|G04: the western one is lower"),
    (121.4500, 31.3333, "310106113G04", U13, T2, "edge G04|114G02, also the unit edge"),
    (121.4500, 31.3260, "310106113G02", U13, T2, "edge G02|114G01, also the unit edge"),
    (121.4425, 31.3300, "310106113G01", U13, T1, "edge G01 over G03"),
    (121.4475, 31.3300, "310106113G02", U13, T2, "edge G04 over G02: the southern one is lower"),
    (121.4525, 31.3300, "310106114G01", U14, T3, "edge 114G02 over 114G01"),
    (121.4450, 31.3300, "310106113G01", U13, T1, "vertex of G01 G04 G03 G02"),
    (
        121.4500,
        31.3300,
        "310106113G02",
        U13,
        T2,
        "vertex of G04 114G02 G02 114G01 (and both units)",
    ),
    (121.4400, 31.3275, "310106113G03", U13, T1, "on the jurisdiction's western edge"),
    (121.4550, 31.3350, "310106114G02", U14, T3, "the jurisdiction's north-east corner"),
]


@pytest.mark.parametrize(
    ("lon", "lat", "grid", "unit", "team", "what"), INSIDE, ids=[c[-1] for c in INSIDE]
)
def test_point_gets_its_grid_unit_and_team(
    matcher: Matcher, match_layers, lon, lat, grid, unit, team, what
) -> None:
    assert lowest_code_holding(match_layers["grids"], lon, lat) == grid  # the table is right
    assert lowest_code_holding(match_layers["units"], lon, lat) == unit
    m = matcher.match_point(lon, lat)
    assert (m.status, m.grid_code, m.unit_code, m.team) == ("matched", grid, unit, team), what
    names = dict(zip(match_layers["grids"].codes, match_layers["grids"].frame["name"], strict=True))
    assert m.grid_name == names[grid]
    assert m.boundary_distance_m is None and m.nearest_grid_code is None and m.reason is None


@pytest.mark.parametrize(
    ("lon", "lat", "grid", "unit", "team", "what"), INSIDE, ids=[c[-1] for c in INSIDE]
)
def test_grids_alone_give_the_same_grid(
    grids_only_matcher: Matcher, lon, lat, grid, unit, team, what
) -> None:
    m = grids_only_matcher.match_point(lon, lat)
    assert (m.status, m.grid_code, m.team, m.unit_code) == ("matched", grid, team, None), what


@pytest.mark.parametrize(
    ("lon", "lat", "crs", "error", "words"),
    [
        (31.3275, 121.4425, WGS84, SwappedCoordinates, "swapped"),
        (31.3350, 121.4550, WGS84, SwappedCoordinates, "swapped"),  # a corner
        (31.3200, 121.4425, WGS84, SwappedCoordinates, "swapped"),  # 550 m out
        (*reversed(wgs84_to_gcj02(121.4425, 31.3275)), GCJ02, SwappedCoordinates, "swapped"),
        (*reversed(wgs84_to_bd09(121.4425, 31.3275)), BD09, SwappedCoordinates, "swapped"),
        (200.0, 31.33, WGS84, CoordinatesOutOfRange, "range"),
        (-180.5, 31.33, WGS84, CoordinatesOutOfRange, "range"),
        (121.45, 91.0, WGS84, CoordinatesOutOfRange, "range"),
        (121.45, -90.01, WGS84, CoordinatesOutOfRange, "range"),
        (math.nan, 31.33, WGS84, CoordinatesOutOfRange, "not numbers"),
        (121.45, math.inf, WGS84, CoordinatesOutOfRange, "not numbers"),
        (math.nan, math.nan, GCJ02, CoordinatesOutOfRange, "not numbers"),
        # Gauss-Krüger (northing, easting) sent as (x, y)
        (*reversed(_GK(121.4425, 31.3275)), parse_crs("EPSG:4549"), SwappedCoordinates, "swapped"),
    ],
)
def test_invalid_coordinates(matcher: Matcher, lon, lat, crs, error, words) -> None:
    lon, lat = float(lon), float(lat)
    with pytest.raises(error) as info:
        matcher.match_point(lon, lat, crs)
    assert isinstance(info.value, InvalidInput)
    assert f"lon={lon}" in info.value.message  # the message names the bad value
    # in bulk the point is a row with status invalid, and its good neighbour is unaffected
    good_x, good_y = (float(v) for v in from_cgcs2000(121.4425, 31.3275, crs))
    frame = matcher.frame(matcher.match_points([good_x, lon], [good_y, lat], crs))
    row = frame.iloc[1]
    assert row["status"] == "invalid"
    assert words in row["reason"]
    assert pd.isna(row["grid_code"]) and pd.isna(row["unit_code"]) and pd.isna(row["street_id"])
    assert frame.iloc[0]["grid_code"] == "310106113G03"


@pytest.mark.parametrize(
    ("lon", "lat", "error"),
    [
        (31.33, 121.50, SwappedCoordinates),  # swapped, 4 km east of the town: still swapped
        (31.33, 121.95, CoordinatesOutOfRange),  # swapped it would be 47 km away: just bad
        (-31.33, 21.45, None),  # a valid point whose swap is nowhere near: outside
    ],
)
def test_swapped_means_the_swapped_pair_is_near_the_town(matcher: Matcher, lon, lat, error) -> None:
    if error is None:
        assert matcher.match_point(lon, lat).status == "outside"
    else:
        with pytest.raises(error):
            matcher.match_point(lon, lat)


# ---- outside ---------------------------------------------------------------------------------

OUTSIDE = [
    # lon, lat, nearest grid, what
    (121.4425, 31.3200, "310106113G03", "550 m south of G03"),
    (121.4475, 31.3240, "310106113G02", "110 m south of G02"),
    (121.4600, 31.3310, "310106114G02", "east of 114G02"),
    (121.4300, 31.3400, "310106113G01", "north-west, beyond the corner"),
    (121.4551, 31.3270, "310106114G01", "10 m east of 114G01"),
]


@pytest.mark.parametrize("which", ["matcher", "grids_only_matcher"])
@pytest.mark.parametrize(("lon", "lat", "nearest", "what"), OUTSIDE, ids=[c[-1] for c in OUTSIDE])
def test_outside_point_gets_boundary_distance_and_nearest_grid(
    request, match_layers, which, lon, lat, nearest, what
) -> None:
    m = request.getfixturevalue(which).match_point(lon, lat)
    assert m.status == "outside"
    assert m.grid_code is None and m.unit_code is None and m.team is None
    to_grids = metres_to(match_layers["grids"], lon, lat)
    assert to_grids.idxmin() == nearest  # the table is right
    assert m.nearest_grid_code == nearest, what
    # the jurisdiction layer, or without one the union of the grids (straight edges in
    # EPSG:4549 between the projected vertices: the two differ by a centimetre or two)
    boundary = "jurisdiction" if which == "matcher" else "grids"
    expected = metres_to(match_layers[boundary], lon, lat).min()
    assert m.boundary_distance_m == pytest.approx(expected, abs=0.006)  # rounded to cm
    assert f"{expected:.0f} m" in m.reason and nearest in m.reason


def test_boundary_distance_is_the_distance_on_the_ground(matcher: Matcher) -> None:
    """Due south of the southern edge the shortest way is along the meridian."""
    m = matcher.match_point(121.4425, 31.3200)
    _, _, geodesic = GEOD.inv(121.4425, 31.3200, 121.4425, 31.3250)
    assert m.boundary_distance_m == pytest.approx(geodesic, rel=1e-3)  # GK scale error ~ 2e-4


def test_outside_in_range_but_far_away(matcher: Matcher) -> None:
    m = matcher.match_point(116.404, 39.915)  # Beijing
    assert m.status == "outside"
    assert m.nearest_grid_code == "310106113G01"  # the north-westernmost grid
    assert 900_000 < m.boundary_distance_m < 1_200_000


@pytest.mark.parametrize(("lon", "lat"), [(25.0, 0.0), (29.9, 0.0)])
def test_the_far_side_of_the_world_is_outside_with_nothing_to_measure(
    matcher: Matcher, lon: float, lat: float
) -> None:
    """On the equator some 90 degrees from the zone's meridian (Africa), EPSG:4549 has no
    coordinates: outside, no nearest grid, no distance, a reason that says so; the rest of
    a batch unharmed."""
    m = matcher.match_point(lon, lat)
    assert m.status == "outside" and m.grid_code is None
    assert m.nearest_grid_code is None and m.boundary_distance_m is None
    assert "too far" in m.reason
    table = matcher.frame(matcher.match_points([lon, 121.4425, 116.404], [lat, 31.3275, 39.915]))
    assert list(table["status"]) == ["outside", "matched", "outside"]
    assert list(table["grid_code"])[1] == "310106113G03"
    assert table["nearest_grid_code"].iloc[2] == "310106113G01"  # Beijing is still measured


@settings(max_examples=300, deadline=None)
@given(
    lon=st.floats(-180, 180, allow_nan=False),
    lat=st.floats(-90, 90, allow_nan=False),
)
def test_any_point_on_earth_is_matched_outside_or_refused_as_swapped(
    matcher: Matcher, lon: float, lat: float
) -> None:
    """Every coordinate in range has an answer, one point or many: never an exception
    other than the swapped pair's, and the one-point and bulk paths agree."""
    try:
        one = matcher.match_point(lon, lat)
    except SwappedCoordinates:
        assert matcher.match_points([lon], [lat]).status[0] == "invalid"
        return
    assert one.status in ("matched", "outside")
    bulk = matcher.frame(matcher.match_points([lon], [lat])).iloc[0]
    assert (bulk["status"], bulk["grid_code"], bulk["nearest_grid_code"]) == (
        one.status,
        one.grid_code,
        one.nearest_grid_code,
    )


def test_a_gap_between_the_grids_is_outside(match_layers) -> None:
    """A jurisdiction larger than the grids: a point in the difference is in no grid."""
    grown = match_layers["jurisdiction"].frame.copy()
    grown["geometry"] = [shapely.box(121.440, 31.325, 121.460, 31.335)]
    town = Matcher(match_layers["grids"], jurisdiction=Layer(LayerKind.JURISDICTION, grown))
    m = town.match_point(121.457, 31.330)
    assert m.status == "outside" and m.grid_code is None
    assert "no grid" in m.reason
    assert town.match_point(121.4525, 31.3325).grid_code == "310106114G02"


# ---- other input systems -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat", "grid"),
    [
        (121.4425, 31.3275, "310106113G03"),
        (121.44501, 31.3275, "310106113G02"),  # a metre east of the G03|G02 edge
        (121.44499, 31.3275, "310106113G03"),  # a metre west of it
        (121.4525, 31.33001, "310106114G02"),  # a metre north of 114G01|114G02
    ],
)
@pytest.mark.parametrize(
    ("crs", "forward"),
    [
        (GCJ02, wgs84_to_gcj02),
        (BD09, wgs84_to_bd09),
        (parse_crs("EPSG:4549"), _GK),
    ],
    ids=["gcj02", "bd09", "epsg4549"],
)
def test_other_input_crs_lands_in_the_same_grid(
    matcher: Matcher, lon, lat, grid, crs, forward
) -> None:
    x, y = (float(v) for v in forward(lon, lat))
    assert lowest_code_holding(matcher.grids.layer, lon, lat) == grid
    m = matcher.match_point(x, y, crs)
    assert (m.status, m.grid_code) == ("matched", grid)
    _, _, err = GEOD.inv(m.lon, m.lat, lon, lat)  # Match holds the CGCS2000 position
    assert err < 0.01
    if crs.kind != "epsg":  # the conversion mattered: the input is hundreds of metres off
        assert GEOD.inv(x, y, lon, lat)[2] > 300


# ---- streets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat", "street"),
    [
        (121.4478, 31.3275, "S001"),  # ~28 m east of 共和新路
        (121.4525, 31.3277, "S004"),  # ~22 m north of 保德路
        (121.4525, 31.3320, "S002"),  # on 汶水路
        (121.4425, 31.3275, "S003"),  # south of the bend of 场中路
        (121.4477, 31.3322, "S001"),  # near the crossing S001 x S002: 19 m vs 22 m
        (121.4425, 31.3340, None),  # 220 m from 汶水路, nothing within 50 m
        (121.4425, 31.3200, None),  # outside, and no street near
        (121.4475, 31.3210, "S001"),  # outside the town, on 共和新路: streets still found
    ],
)
def test_nearest_street_and_distance(matcher: Matcher, match_layers, lon, lat, street) -> None:
    d = metres_to(match_layers["streets"], lon, lat)
    within = d[d <= 50.0]
    assert (within.idxmin() if len(within) else None) == street  # the table is right
    m = matcher.match_point(lon, lat)
    assert m.street_id == street
    if street is None:
        assert m.street_name is None and m.street_distance_m is None
    else:
        names = dict(
            zip(match_layers["streets"].codes, match_layers["streets"].frame["name"], strict=True)
        )
        assert m.street_name == names[street]
        assert m.street_distance_m == pytest.approx(d[street], abs=0.006)


# ---- bulk == one point, and both == brute force ---------------------------------------------

BOUNDS = (121.440, 31.325, 121.455, 31.335)


@st.composite
def town_points(draw):
    """A mix: anywhere near the town, on grid edges and vertices, swapped, out of range."""
    kind = draw(st.sampled_from(["near", "edge", "vertex", "swapped", "bad"]))
    if kind == "near":
        return (draw(st.floats(121.435, 121.460)), draw(st.floats(31.320, 31.340)))
    if kind == "edge":
        xs, ys = [121.440, 121.445, 121.450, 121.455], [31.325, 31.330, 31.335]
        if draw(st.booleans()):
            return (draw(st.sampled_from(xs)), draw(st.floats(31.325, 31.335)))
        return (draw(st.floats(121.440, 121.455)), draw(st.sampled_from(ys)))
    if kind == "vertex":
        return (
            draw(st.sampled_from([121.440, 121.445, 121.450, 121.455])),
            draw(st.sampled_from([31.325, 31.330, 31.335])),
        )
    if kind == "swapped":
        return (draw(st.floats(31.325, 31.335)), draw(st.floats(121.440, 121.455)))
    return draw(
        st.sampled_from([(200.0, 31.33), (121.45, -95.0), (math.nan, 31.33), (121.45, math.inf)])
    )


def _same(a: object, b: object) -> bool:
    """Equal, counting None and NaN as the same 'missing' (pandas 3 stores None as NaN)."""
    if pd.isna(a) or pd.isna(b):
        return bool(pd.isna(a) and pd.isna(b))
    return a == b


@pytest.mark.parametrize("which", ["matcher", "grids_only_matcher"])
@settings(max_examples=40, deadline=None)
@given(points=st.lists(town_points(), min_size=1, max_size=25))
@example(points=[(121.445, 31.330), (121.450, 31.3275), (31.33, 121.45), (121.4425, 31.32)])
def test_bulk_equals_one_point_equals_brute_force(request, match_layers, which, points) -> None:
    m: Matcher = request.getfixturevalue(which)
    lon = [p[0] for p in points]
    lat = [p[1] for p in points]
    frame = m.frame(m.match_points(lon, lat))
    assert list(frame.columns) == list(COLUMNS) and len(frame) == len(points)
    for i, (x, y) in enumerate(points):
        row = frame.iloc[i].to_dict()
        try:
            one = dataclasses.asdict(m.match_point(x, y))
        except InvalidInput as exc:
            assert row["status"] == "invalid"
            assert isinstance(exc, SwappedCoordinates) == ("swapped" in row["reason"])
            continue
        for column in COLUMNS:
            assert _same(row[column], one[column]), (column, x, y, row[column], one[column])
        # and the answer is the right one
        inside = shapely.intersects(shapely.box(*BOUNDS), shapely.Point(x, y))
        assert row["status"] == ("matched" if inside else "outside")
        assert _same(row["grid_code"], lowest_code_holding(match_layers["grids"], x, y))
        if which == "matcher":
            assert _same(row["unit_code"], lowest_code_holding(match_layers["units"], x, y))


def test_frame_keeps_input_order_and_handles_no_points(matcher: Matcher) -> None:
    lon = [121.4525, 31.3275, 121.4425, 121.4425]
    lat = [31.3325, 121.4425, 31.3275, 31.3200]
    frame = matcher.frame(matcher.match_points(lon, lat))
    assert frame["status"].tolist() == ["matched", "invalid", "matched", "outside"]
    assert frame["grid_code"].fillna("-").tolist() == ["310106114G02", "-", "310106113G03", "-"]
    assert frame["nearest_grid_code"].fillna("-").tolist() == ["-", "-", "-", "310106113G03"]
    empty = matcher.frame(matcher.match_points([], []))
    assert list(empty.columns) == list(COLUMNS) and len(empty) == 0


def test_a_layer_spread_far_for_its_boundaries_costs_what_its_boundaries_cost() -> None:
    """Islands 1.5 degrees apart (a district with its far islands): a fixed raster would
    span billions of cells; the cell tree's tables stay small and the answers exact."""

    shapes = [shapely.box(121.40, 31.30, 121.41, 31.31), shapely.box(121.41, 31.30, 121.42, 31.31),
              shapely.box(122.90, 30.80, 122.91, 30.81)]  # fmt: skip
    frame = gpd.GeoDataFrame(
        {"code": ["A", "B", "C"], "name": ["甲", "乙", "丙"], "parent_code": ""},
        geometry=shapes,
        crs="EPSG:4490",
    )
    far = Matcher(Layer(LayerKind.GRIDS, frame))
    near = Matcher(Layer(LayerKind.GRIDS, frame.iloc[:2]))
    assert far.grids.locator.nbytes < 2 * near.grids.locator.nbytes + 1_000_000
    for (lon, lat), code in [((121.405, 31.305), "A"), ((121.41, 31.305), "A"),
                             ((121.415, 31.309), "B"), ((122.905, 30.805), "C")]:  # fmt: skip
        assert far.match_point(lon, lat, parse_crs("cgcs2000")).grid_code == code
    assert far.match_point(122.0, 31.0, parse_crs("cgcs2000")).grid_code is None


def test_building_a_matcher_gives_the_freed_build_memory_back(monkeypatch) -> None:
    """The index build's temporaries, once freed, go back to the system (malloc_trim): a
    server worker on a 20,000-grid town stayed some 100 MB above what it holds (issue 21)."""
    from gridsvc.core import matching

    calls: list[int] = []
    real = matching.give_back_freed_memory
    monkeypatch.setattr(matching, "give_back_freed_memory", lambda: calls.append(1) or real())
    square = shapely.box(121.0, 31.0, 121.01, 31.01)
    grids = Layer(
        LayerKind.GRIDS,
        gpd.GeoDataFrame(
            {"code": ["G1"], "name": ["g"], "parent_code": ["U1"]}, geometry=[square], crs=4490
        ),
    )
    matching.Matcher(grids)
    assert calls == [1]
    assert real() is True  # glibc here: the trim ran
