"""CRS conversions: GCJ-02 / BD-09 round trips, published pairs, names, zones.

Errors are measured on the ground (metres on the GRS80 ellipsoid), not in
degrees, because what a user cares about is where the report lands.
"""

from __future__ import annotations

import math

import numpy as np
import pyproj
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gridsvc.core.crs import (
    BD09,
    GCJ02,
    WGS84,
    InputCRS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_cgcs2000,
    gauss_kruger_epsg,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    parse_crs,
    to_cgcs2000,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from gridsvc.core.errors import UnknownCRS

_GEOD = pyproj.Geod(ellps="GRS80")

# China's extent, as the brief for the conversions puts it
lons = st.floats(73.0, 135.0, allow_nan=False)
lats = st.floats(18.0, 53.0, allow_nan=False)
china_points = st.lists(st.tuples(lons, lats), min_size=1, max_size=20)


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance between two sets of lon/lat points."""
    shape = np.broadcast(np.asarray(lon1), np.asarray(lon2)).shape
    args = [
        np.broadcast_to(np.asarray(a, dtype=float), shape).ravel() for a in (lon1, lat1, lon2, lat2)
    ]
    return np.asarray(_GEOD.inv(*args)[2])


# ---- round trips ---------------------------------------------------------------------

ROUND_TRIPS = [
    pytest.param(wgs84_to_gcj02, gcj02_to_wgs84, id="wgs84->gcj02->wgs84"),
    pytest.param(gcj02_to_wgs84, wgs84_to_gcj02, id="gcj02->wgs84->gcj02"),
    pytest.param(wgs84_to_bd09, bd09_to_wgs84, id="wgs84->bd09->wgs84"),
    pytest.param(bd09_to_wgs84, wgs84_to_bd09, id="bd09->wgs84->bd09"),
    pytest.param(gcj02_to_bd09, bd09_to_gcj02, id="gcj02->bd09->gcj02"),
    pytest.param(bd09_to_gcj02, gcj02_to_bd09, id="bd09->gcj02->bd09"),
]


@pytest.mark.parametrize(("there", "back"), ROUND_TRIPS)
@settings(max_examples=60, deadline=None)
@given(points=china_points)
@example(points=[(105.0, 35.0)])  # x = lon - 105 = 0: the sqrt(|x|) cusp of the GCJ-02 shift
@example(points=[(105.0 + 1e-12, 18.0), (135.0, 53.0), (73.0, 18.0)])
def test_round_trip_is_under_a_centimetre(there, back, points) -> None:
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    lon2, lat2 = back(*there(lon, lat))
    assert lon2.shape == lon.shape
    assert _metres(lon, lat, lon2, lat2).max() < 0.01


@pytest.mark.parametrize(("there", "back"), ROUND_TRIPS[:3])
def test_scalars_in_scalars_out(there, back) -> None:
    x, y = back(*there(121.45, 31.33))
    assert np.ndim(x) == 0 and np.ndim(y) == 0
    assert _metres(121.45, 31.33, x, y)[0] < 0.01


# ---- published reference values --------------------------------------------------------

# wandergis/coordtransform, test/app.js: the reference implementation most Chinese
# coordinate libraries test against, input (116.404, 39.915) in central Beijing.
BEIJING = (116.404, 39.915)


@pytest.mark.parametrize(
    ("forward", "expected"),
    [
        (wgs84_to_gcj02, (116.41024449916938, 39.91640428150164)),
        (gcj02_to_bd09, (116.41036949371029, 39.92133699351021)),
    ],
)
def test_forward_formulas_match_published_values(forward, expected) -> None:
    x, y = forward(*BEIJING)
    assert _metres(x, y, *expected)[0] < 1e-4  # a tenth of a millimetre: same formula


@pytest.mark.parametrize(
    ("inverse", "forward", "published_one_step"),
    [
        (gcj02_to_wgs84, wgs84_to_gcj02, (116.39775550083061, 39.91359571849836)),
        (bd09_to_gcj02, gcj02_to_bd09, (116.39762729119315, 39.90865673957631)),
    ],
)
def test_inverse_is_exact_where_the_published_one_step_inverse_is_close(
    inverse, forward, published_one_step
) -> None:
    x, y = inverse(*BEIJING)
    # close to the published one-step inverse (which is only approximate) ...
    assert _metres(x, y, *published_one_step)[0] < 1.0
    # ... and, unlike it, maps back onto the input
    assert _metres(*forward(x, y), *BEIJING)[0] < 0.001


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(121.45, 31.33), (121.4737, 31.2304), (116.404, 39.915), (113.2644, 23.1291)],
    ids=["pengpu", "shanghai-centre", "beijing", "guangzhou"],
)
def test_gcj02_shift_in_eastern_china_is_a_few_hundred_metres(lon: float, lat: float) -> None:
    shift = _metres(lon, lat, *wgs84_to_gcj02(lon, lat))[0]
    assert 300.0 < shift < 700.0


def test_bd09_is_further_shifted_than_gcj02_near_shanghai() -> None:
    # Baidu adds its own ~ 0.0065 / 0.006 degree shift on top of GCJ-02
    gcj = wgs84_to_gcj02(121.45, 31.33)
    extra = _metres(*gcj, *wgs84_to_bd09(121.45, 31.33))[0]
    assert 600.0 < extra < 1200.0


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(139.69, 35.69), (-0.1278, 51.5074), (151.21, -33.87), (-74.006, 40.7128), (106.8, -6.2)],
    ids=["tokyo", "london", "sydney", "new-york", "jakarta"],
)
def test_gcj02_is_the_identity_outside_china(lon: float, lat: float) -> None:
    assert tuple(map(float, wgs84_to_gcj02(lon, lat))) == (lon, lat)
    assert tuple(map(float, gcj02_to_wgs84(lon, lat))) == (lon, lat)


# ---- to / from CGCS2000 ------------------------------------------------------------------


@pytest.mark.parametrize(
    "crs", [WGS84, GCJ02, BD09, InputCRS("epsg", 4549), InputCRS("epsg", 3857)], ids=str
)
def test_to_and_from_cgcs2000_round_trip(crs: InputCRS) -> None:
    lon = np.array([121.44, 121.4525, 121.455])
    lat = np.array([31.325, 31.3311, 31.335])
    x, y = from_cgcs2000(lon, lat, crs)
    back = to_cgcs2000(x, y, crs)
    assert _metres(lon, lat, *back).max() < 0.01


def test_epsg_input_goes_through_proj() -> None:
    # the Gauss-Krüger zone 120E (EPSG:4549) has a 500 km false easting, no zone prefix
    x, y = from_cgcs2000(121.45, 31.33, InputCRS("epsg", 4549))
    ref = pyproj.Transformer.from_crs("EPSG:4490", "EPSG:4549", always_xy=True)
    assert (float(x), float(y)) == pytest.approx(ref.transform(121.45, 31.33), abs=1e-6)
    # 1.45 degrees east of the central meridian at 31.33 N is about 138 km
    assert float(x) - 500_000 == pytest.approx(
        1.45 * 111_320 * math.cos(math.radians(31.33)), rel=0.01
    )


def test_gcj02_input_is_converted_back_to_wgs84() -> None:
    gx, gy = wgs84_to_gcj02(121.45, 31.33)
    x, y = to_cgcs2000(gx, gy, GCJ02)
    assert _metres(x, y, 121.45, 31.33)[0] < 0.01


# ---- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("wgs84", WGS84),
        ("WGS-84", WGS84),
        ("EPSG:4326", WGS84),
        ("cgcs2000", WGS84),
        ("epsg:4490", WGS84),
        ("CRS84", WGS84),
        ("  gcj02 ", GCJ02),
        ("GCJ-02", GCJ02),
        ("bd09", BD09),
        ("BD-09", BD09),
        ("EPSG:4549", InputCRS("epsg", 4549)),
        ("epsg:3857", InputCRS("epsg", 3857)),
    ],
)
def test_parse_crs_names(name: str, expected: InputCRS) -> None:
    assert parse_crs(name) == expected


@pytest.mark.parametrize(
    "name", ["mars", "", "4326", "EPSG:", "EPSG:12", "EPSG:99999", "EPSG:7030", "gcj 02"]
)
def test_parse_crs_refuses_unknown_names(name: str) -> None:
    with pytest.raises(UnknownCRS) as info:
        parse_crs(name)
    assert info.value.code == "unknown-crs"


def test_unknown_crs_message_names_the_value_and_what_is_allowed() -> None:
    with pytest.raises(UnknownCRS, match="'mars'") as info:
        parse_crs("mars")
    assert "gcj02" in info.value.message and "EPSG" in info.value.message


@pytest.mark.parametrize(
    "name", ["EPSG:5773", "EPSG:4978", "EPSG:4979"], ids=["vertical", "geocentric", "3d"]
)
def test_parse_crs_refuses_crs_without_two_horizontal_axes(name: str) -> None:
    """A height or an (x, y, z) system cannot hold a (lon, lat) report: refuse it up front
    (before the fix, 5773 made a good point 'swapped' and 4978 put it at the pole)."""
    with pytest.raises(UnknownCRS, match=name):
        parse_crs(name)


@pytest.mark.parametrize("crs", [WGS84, GCJ02, BD09, InputCRS("epsg", 4549)], ids=str)
def test_label_parses_back(crs: InputCRS) -> None:
    assert parse_crs(crs.label) == crs


# ---- Gauss-Krüger zones --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "epsg"),
    [
        (121.45, 4549),  # Shanghai, central meridian 120E
        (116.4, 4548),  # Beijing, CM 117E
        (75.0, 4534),  # the first zone
        (76.4, 4534),
        (76.6, 4535),
        (135.0, 4554),  # the last zone
        (134.77, 4554),  # China's eastern tip
    ],
)
def test_gauss_kruger_zone(lon: float, epsg: int) -> None:
    assert gauss_kruger_epsg(lon) == epsg


@settings(max_examples=200, deadline=None)
@given(lon=st.floats(73.62, 134.77))
def test_gauss_kruger_zone_covers_the_longitude(lon: float) -> None:
    """Every longitude in China lies in the area of use EPSG gives for its zone."""
    crs = pyproj.CRS.from_epsg(gauss_kruger_epsg(lon))
    assert "3-degree Gauss-Kruger" in crs.name
    area = crs.area_of_use
    assert area is not None and area.west <= lon <= area.east


@pytest.mark.parametrize("lon", [0.0, 70.0, 72.0, 137.0, 140.0, -121.45])
def test_gauss_kruger_zone_out_of_china_raises(lon: float) -> None:
    with pytest.raises(UnknownCRS, match=str(lon)):
        gauss_kruger_epsg(lon)
