"""Reading and writing tables of points: CSV, GeoJSON, GeoPackage, Parquet.

A CSV carries coordinates in two columns (found by common names unless
given); geo formats carry point geometries, whose CRS is then the input CRS.
Every input column is kept so the output can be joined back by the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from gridsvc.core.crs import CGCS2000, InputCRS, parse_crs
from gridsvc.core.errors import InvalidInput, UnreadableFile
from gridsvc.core.messages import Msg

LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")
GEO_SUFFIXES = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG"}
SUFFIXES = (".csv", ".parquet", *GEO_SUFFIXES)


@dataclass(frozen=True)
class PointTable:
    """The input rows (without geometry) and their raw coordinates."""

    rows: pd.DataFrame
    x: np.ndarray
    y: np.ndarray
    crs: InputCRS | None  # the CRS the file declares, if any


def read_points(path: Path, lon_col: str | None = None, lat_col: str | None = None) -> PointTable:
    """Read a point table; coordinates stay as given (conversion happens in matching)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput(
            Msg("points.input_type", name=path.name, suffix=suffix, allowed=list(SUFFIXES))
        )
    if not path.exists():
        raise UnreadableFile(Msg("points.no_file", path=str(path)))
    if suffix == ".csv":
        return _from_table(_read_csv(path), lon_col, lat_col, path)
    frame = _read_geo(path)
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns and not lon_col:
        return _from_geometry(frame, path)
    return _from_table(pd.DataFrame(frame), lon_col, lat_col, path)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gb18030")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        reason = str(exc).splitlines()[0]
        raise UnreadableFile(Msg("points.bad_csv", name=path.name, reason=reason)) from exc


def _read_geo(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".parquet":
            try:
                return gpd.read_parquet(path)
            except (ValueError, KeyError):
                return pd.read_parquet(path)
        return gpd.read_file(path, engine="pyogrio")
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        OSError,
        ValueError,
    ) as exc:
        reason = str(exc).splitlines()[0]
        raise UnreadableFile(Msg("points.unreadable", name=path.name, reason=reason)) from exc


def _pick(
    columns: list[str], given: str | None, names: tuple[str, ...], what: str, path: Path
) -> str:
    if given:
        if given not in columns:
            raise InvalidInput(
                Msg("points.no_column", name=path.name, given=given, columns=columns)
            )
        return given
    lower = {c.lower().strip(): c for c in columns}
    for name in names:
        if name in lower:
            return lower[name]
    key = "points.no_lon" if what == "lon" else "points.no_lat"
    raise InvalidInput(Msg(key, name=path.name, tried=list(names)))


def _from_table(
    rows: pd.DataFrame, lon_col: str | None, lat_col: str | None, path: Path
) -> PointTable:
    columns = [str(c) for c in rows.columns]
    lon = _pick(columns, lon_col, LON_NAMES, "lon", path)
    lat = _pick(columns, lat_col, LAT_NAMES, "lat", path)
    x = pd.to_numeric(rows[lon], errors="coerce").to_numpy(dtype=np.float64)
    y = pd.to_numeric(rows[lat], errors="coerce").to_numpy(dtype=np.float64)
    return PointTable(
        rows.drop(columns=[c for c in ("geometry",) if c in rows.columns]), x, y, None
    )


def _from_geometry(frame: gpd.GeoDataFrame, path: Path) -> PointTable:
    geom = frame.geometry
    kinds = set(geom.dropna().geom_type.unique())
    if kinds - {"Point"}:
        raise InvalidInput(Msg("points.not_points", name=path.name, kinds=sorted(kinds)))
    empty = geom.isna() | geom.is_empty
    x = np.where(empty, np.nan, geom.x.where(~empty)).astype(np.float64)
    y = np.where(empty, np.nan, geom.y.where(~empty)).astype(np.float64)
    crs = None
    if frame.crs is not None:
        epsg = frame.crs.to_epsg()
        crs = parse_crs(f"EPSG:{epsg}") if epsg else None
    return PointTable(pd.DataFrame(frame.drop(columns=frame.geometry.name)), x, y, crs)


def write_points(rows: pd.DataFrame, lon: np.ndarray, lat: np.ndarray, path: Path) -> None:
    """Write the result by the output's extension; geo formats get CGCS2000 point geometry."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput(
            Msg("points.output_type", name=path.name, suffix=suffix, allowed=list(SUFFIXES))
        )
    if suffix == ".csv":
        rows.to_csv(path, index=False, encoding="utf-8")
        return
    known = np.isfinite(lon) & np.isfinite(lat)
    points = gpd.points_from_xy(np.where(known, lon, 0.0), np.where(known, lat, 0.0))
    geometry = gpd.GeoSeries(points, crs=CGCS2000).where(known, None)  # no position: null geometry
    geo = gpd.GeoDataFrame(rows, geometry=geometry, crs=CGCS2000)
    if suffix == ".parquet":
        geo.to_parquet(path)
        return
    if suffix in (".geojson", ".json"):
        geo = geo.to_crs("OGC:CRS84")  # RFC 7946: WGS-84 lon/lat; CGCS2000 agrees to centimetres
    path.unlink(missing_ok=True)
    geo.to_file(path, driver=GEO_SUFFIXES[suffix], engine="pyogrio")
