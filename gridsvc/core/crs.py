"""Coordinate systems used in Chinese grid management.

* WGS-84 (GPS) and CGCS2000 (EPSG:4490, the official datum) agree to a few
  centimetres, so gridsvc treats them as one geographic system; PROJ's own
  transformation between them is a null transformation as well.
* GCJ-02 (the "Mars" offset of Chinese map SDKs) and BD-09 (Baidu) are not in
  PROJ. The forward formulas are the published ones; their inverses are
  computed by fixed-point iteration to well under a millimetre, because the
  common one-step inverse is off by metres.
* Lengths, areas and distances are measured in the CGCS2000 3-degree
  Gauss-Krüger zone whose central meridian is nearest the jurisdiction.

Every function takes and returns (x, y) = (lon, lat) order and works on
scalars or numpy arrays alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyproj
from numpy.typing import ArrayLike, NDArray

from gridsvc.core.errors import UnknownCRS
from gridsvc.core.messages import Msg

CGCS2000 = "EPSG:4490"

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 obfuscation.
_A = 6378245.0
_EE = 0.00669342162296594323
_BD_PI = np.pi * 3000.0 / 180.0

# Where GCJ-02 applies; outside it the published formula is the identity.
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)

# Iterating the inverse stops when the residual is under this (degrees,
# about 0.1 mm); the shift is so smooth that it takes 3 to 5 rounds.
_INVERSE_TOLERANCE_DEG = 1e-9
_INVERSE_MAX_ROUNDS = 30

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class InputCRS:
    """A coordinate system a caller may send points in.

    ``kind`` is one of ``geographic`` (WGS-84 / CGCS2000), ``gcj02``, ``bd09``
    or ``epsg`` (then ``epsg`` holds the code).
    """

    kind: str
    epsg: int | None = None

    @property
    def label(self) -> str:
        """A name :func:`parse_crs` reads back as this CRS."""
        if self.kind == "epsg":
            return f"EPSG:{self.epsg}"
        return "wgs84" if self.kind == "geographic" else self.kind


WGS84 = InputCRS("geographic")
GCJ02 = InputCRS("gcj02")
BD09 = InputCRS("bd09")

_NAMES = {
    "wgs84": WGS84,
    "wgs-84": WGS84,
    "epsg:4326": WGS84,
    "cgcs2000": WGS84,
    "epsg:4490": WGS84,
    "crs84": WGS84,
    "gcj02": GCJ02,
    "gcj-02": GCJ02,
    "bd09": BD09,
    "bd-09": BD09,
}


def parse_crs(name: str) -> InputCRS:
    """Turn a user's CRS name (wgs84, cgcs2000, gcj02, bd09, EPSG:N) into an InputCRS."""
    key = name.strip().lower()
    if key in _NAMES:
        return _NAMES[key]
    match = re.fullmatch(r"epsg:(\d{4,6})", key)
    if match:
        code = int(match.group(1))
        try:
            found = pyproj.CRS.from_epsg(code)
        except pyproj.exceptions.CRSError as exc:
            raise UnknownCRS(Msg("crs.epsg_unknown", code=code)) from exc
        if (
            not (found.is_projected or found.is_geographic)
            or found.is_vertical
            or len(found.axis_info) != 2
        ):
            raise UnknownCRS(Msg("crs.not_horizontal", code=code, name=found.name))
        return InputCRS("epsg", code)
    raise UnknownCRS(Msg("crs.unknown", name=name))


def _in_china(lon: Floats, lat: Floats) -> NDArray[np.bool_]:
    return (
        (lon >= _CHINA_LON[0])
        & (lon <= _CHINA_LON[1])
        & (lat >= _CHINA_LAT[0])
        & (lat <= _CHINA_LAT[1])
    )


def _gcj_offset(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """The published GCJ-02 offset (degrees) at WGS-84 (lon, lat)."""
    x = lon - 105.0
    y = lat - 35.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = _in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """WGS-84 → GCJ-02 by the published formula (identity outside China)."""
    x, y = _as_arrays(lon, lat)
    dx, dy = _gcj_offset(x, y)
    return x + dx, y + dy


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """GCJ-02 → BD-09 by Baidu's published formula."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """WGS-84 → BD-09 (through GCJ-02, as Baidu defines it)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def _invert(forward, lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:  # type: ignore[no-untyped-def]
    """Solve forward(x, y) = (lon, lat) by fixed-point iteration.

    The forward maps are the identity plus a small smooth shift, so
    x ← x − (forward(x) − target) converges fast; it stops when every point's
    residual is below ~0.1 mm.
    """
    tx, ty = _as_arrays(lon, lat)
    x, y = tx.copy(), ty.copy()
    for _ in range(_INVERSE_MAX_ROUNDS):
        fx, fy = forward(x, y)
        ex, ey = fx - tx, fy - ty
        x, y = x - ex, y - ey
        if np.all(np.abs(ex) < _INVERSE_TOLERANCE_DEG) and np.all(
            np.abs(ey) < _INVERSE_TOLERANCE_DEG
        ):
            break
    return x, y


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """GCJ-02 → WGS-84, exact to well under 1 cm (iterated inverse)."""
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """BD-09 → GCJ-02 (iterated inverse of the published forward formula)."""
    return _invert(gcj02_to_bd09, lon, lat)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]:
    """BD-09 → WGS-84, exact to well under 1 cm."""
    return _invert(wgs84_to_bd09, lon, lat)


@lru_cache(maxsize=64)
def transformer(source: str, target: str) -> pyproj.Transformer:
    """A cached pyproj transformer in (x, y) = (lon, lat) order."""
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def to_cgcs2000(lon: ArrayLike, lat: ArrayLike, crs: InputCRS) -> tuple[Floats, Floats]:
    """Coordinates in any supported input CRS → CGCS2000 geographic lon/lat."""
    if crs.kind == "geographic":
        return _as_arrays(lon, lat)
    if crs.kind == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if crs.kind == "bd09":
        return bd09_to_wgs84(lon, lat)
    x, y = _as_arrays(lon, lat)
    gx, gy = transformer(f"EPSG:{crs.epsg}", CGCS2000).transform(x, y)
    return np.asarray(gx, dtype=np.float64), np.asarray(gy, dtype=np.float64)


def from_cgcs2000(lon: ArrayLike, lat: ArrayLike, crs: InputCRS) -> tuple[Floats, Floats]:
    """CGCS2000 lon/lat → any supported CRS (the inverse of :func:`to_cgcs2000`)."""
    if crs.kind == "geographic":
        return _as_arrays(lon, lat)
    if crs.kind == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if crs.kind == "bd09":
        return wgs84_to_bd09(lon, lat)
    x, y = _as_arrays(lon, lat)
    gx, gy = transformer(CGCS2000, f"EPSG:{crs.epsg}").transform(x, y)
    return np.asarray(gx, dtype=np.float64), np.asarray(gy, dtype=np.float64)


def gauss_kruger_epsg(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Krüger zone (no zone prefix) for a longitude.

    EPSG:4534 is central meridian 75°E and each code after it moves 3° east up
    to EPSG:4554 at 135°E; EPSG:4549 (120°E) covers Shanghai.
    """
    central = int(round(lon / 3.0)) * 3
    if not 75 <= central <= 135:
        raise UnknownCRS(Msg("crs.outside_zones", lon=lon))
    return 4534 + (central - 75) // 3
