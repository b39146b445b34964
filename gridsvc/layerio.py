"""Territory layers as the files planners exchange.

Planners draw boundaries in QGIS and hand over GeoPackages, Shapefiles (often
zipped, often with GBK attributes), GeoJSON or FlatGeobuf. :func:`read_layer`
turns any of them into a :class:`Layer`: the agreed columns with codes as
text, geometry in CGCS2000. What cannot be read becomes an
:class:`UnreadableFile` with one line for the user, never a GDAL traceback; a
missing CRS is an error, never a guess.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from numpy.typing import NDArray
from pyogrio.errors import (
    CRSError,
    DataLayerError,
    DataSourceError,
    FeatureError,
    FieldError,
    GeometryError,
)

from gridsvc.core.crs import CGCS2000, InputCRS, bd09_to_wgs84, gcj02_to_wgs84, parse_crs
from gridsvc.core.errors import InvalidInput, InvalidLayer, MissingCRS, UnreadableFile
from gridsvc.core.layers import BASE_COLUMNS, Layer, LayerKind
from gridsvc.core.messages import Msg
from gridsvc.core.validation import geometry_type_problems

_GDAL_ERRORS = (DataSourceError, DataLayerError, FieldError, GeometryError, CRSError, FeatureError)
_ZIPPED_SUFFIXES = (".shp", ".gpkg", ".geojson", ".fgb")
_WRITE_DRIVERS = {
    ".gpkg": "GPKG",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".shp": "ESRI Shapefile",
    ".fgb": "FlatGeobuf",
}
# FlatGeobuf's spatial index would reorder the features; keep the planner's order.
_WRITE_OPTIONS = {"ESRI Shapefile": {"encoding": "UTF-8"}, "FlatGeobuf": {"SPATIAL_INDEX": "NO"}}
_SHAPEFILE_FIELD_LENGTH = 10


def read_layer(
    path: str | Path,
    kind: LayerKind | str,
    *,
    layer: str | None = None,
    code_field: str = "code",
    name_field: str = "name",
    parent_field: str = "parent_code",
    encoding: str | None = None,
    crs: str | None = None,
    require_parent: bool = True,
) -> Layer:
    """Read one level of the territory from a vector file.

    ``layer`` picks a layer of a multi-layer file (GeoPackage, a zip of
    several shapefiles); without it the only layer, or the one named like
    ``kind``, is read. The ``*_field`` names map the file's fields to
    ``code``, ``name`` and ``parent_code``; they are matched exactly, then
    ignoring case, then cut to the 10 characters a Shapefile allows. Codes
    become text with every digit. ``encoding`` overrides a Shapefile's
    ``.cpg`` (``GBK`` for files from older Chinese GIS). ``crs`` says what
    the coordinates are when the file does not (or cannot: ``gcj02``,
    ``bd09``); the result is always in EPSG:4490. ``require_parent=False``
    reads a layer whose parent level is not there to check it against (a
    planner's plain grid file): its parent codes are then blank when the
    file has no such field.
    """
    source = Path(path)
    kind = _kind(kind)
    frame = _read_frame(source, kind, layer, encoding)
    frame = _map_fields(frame, kind, source, code_field, name_field, parent_field, require_parent)
    result = Layer(kind, _to_cgcs2000(frame, crs, source))
    problems = geometry_type_problems(result)
    if problems:
        raise InvalidLayer(
            Msg(
                "file.wrong_geometry",
                name=source.name,
                count=len(problems),
                total=len(result),
                kind=kind,
                first=problems[0].text or problems[0].message,
            ),
            problems=problems,
        )
    return result


def _kind(kind: LayerKind | str) -> LayerKind:
    try:
        return LayerKind(kind)
    except ValueError:
        allowed = [k.value for k in LayerKind]
        raise InvalidInput(Msg("file.unknown_kind", kind=kind, allowed=allowed)) from None


def write_layer(
    layer_or_frame: Layer | gpd.GeoDataFrame, path: str | Path, layer_name: str | None = None
) -> Path:
    """Write a layer in the format its suffix names: .gpkg, .geojson, .shp, .fgb or .parquet.

    A GeoPackage keeps its other layers (``layer_name`` defaults to the kind).
    Shapefiles are written in UTF-8 with a ``.cpg`` so Chinese names survive;
    their 10-character field limit turns ``parent_code`` into ``parent_cod``,
    which :func:`read_layer` finds again.
    """
    frame = layer_or_frame.frame if isinstance(layer_or_frame, Layer) else layer_or_frame
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".parquet":
        frame.to_parquet(target)
        return target
    driver = _WRITE_DRIVERS.get(suffix)
    if driver is None:
        allowed = [*_WRITE_DRIVERS, ".parquet"]
        raise InvalidInput(Msg("file.write_suffix", name=target.name, allowed=allowed))
    if layer_name is None:
        layer_name = layer_or_frame.kind.value if isinstance(layer_or_frame, Layer) else target.stem
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Normalized/laundered field name")
        pyogrio.write_dataframe(
            frame, target, layer=layer_name, driver=driver, **_WRITE_OPTIONS.get(driver, {})
        )
    return target


def _read_frame(
    source: Path, kind: LayerKind, layer: str | None, encoding: str | None
) -> gpd.GeoDataFrame:
    """The chosen layer of the file as GDAL reads it; every failure an UnreadableFile."""
    if not source.is_file():
        raise UnreadableFile(Msg("file.missing", path=str(source)))
    if source.suffix.lower() == ".parquet":
        frame = _read_parquet(source)
    else:
        datasets = _datasets(source)
        chosen = _choose_layer(source, sorted(datasets), layer, kind)
        try:
            # a geometry GEOS cannot build (a ring of one point, NaN coordinates) is read as
            # none, which validation reports by feature; raised, it named no feature (a 500)
            frame = pyogrio.read_dataframe(
                datasets[chosen], layer=chosen, encoding=encoding, on_invalid="ignore"
            )
        except _GDAL_ERRORS as exc:
            raise UnreadableFile(
                Msg("file.gdal", name=source.name, reason=_first_line(exc))
            ) from exc
        except (UnicodeDecodeError, LookupError) as exc:
            declared = encoding or Msg("file.declared")
            raise UnreadableFile(
                Msg("file.encoding", name=source.name, declared=declared, reason=str(exc))
            ) from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        raise UnreadableFile(Msg("file.no_geometry", name=source.name))
    if frame.empty:
        raise InvalidLayer(Msg("file.no_features", name=source.name, kind=kind))
    return frame


def _read_parquet(source: Path) -> gpd.GeoDataFrame:
    try:
        return gpd.read_parquet(source)
    except (OSError, ValueError) as exc:
        raise UnreadableFile(
            Msg("file.not_parquet", name=source.name, reason=_first_line(exc))
        ) from exc


def _datasets(source: Path) -> dict[str, str]:
    """Layer name → the GDAL path that holds it (a zip may hold several files)."""
    if source.suffix.lower() != ".zip":
        return dict.fromkeys(_layer_names(source, str(source)), str(source))
    members = _zip_members(source)
    found: dict[str, str] = {}
    for member in members:
        if member.lower().endswith(_ZIPPED_SUFFIXES) and not member.startswith("__MACOSX"):
            inner = f"/vsizip/{source.resolve()}/{member}"
            found.update(dict.fromkeys(_layer_names(source, inner), inner))
    if not found:
        listing = ", ".join(members[:8]) or Msg("file.zip_nothing")
        raise UnreadableFile(Msg("file.zip_empty", name=source.name, listing=listing))
    return found


def _zip_members(source: Path) -> list[str]:
    try:
        with zipfile.ZipFile(source) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableFile(Msg("file.bad_zip", name=source.name, reason=str(exc))) from exc


def _layer_names(source: Path, dataset: str) -> list[str]:
    try:
        return [str(name) for name in pyogrio.list_layers(dataset)[:, 0]]
    except _GDAL_ERRORS as exc:
        if "not recognized as being in a supported file format" in str(exc):
            raise UnreadableFile(Msg("file.not_vector", name=source.name)) from exc
        raise UnreadableFile(Msg("file.gdal", name=source.name, reason=_first_line(exc))) from exc


def _choose_layer(source: Path, names: list[str], wanted: str | None, kind: LayerKind) -> str:
    """The layer asked for, the only one, or the one named like the kind (grids, grid)."""
    listing = ", ".join(names)
    if wanted is not None:
        if wanted in names:
            return wanted
        raise UnreadableFile(Msg("file.no_layer", name=source.name, wanted=wanted, listing=listing))
    if len(names) == 1:
        return names[0]
    like_kind = [n for n in names if n.lower() in (kind.value, kind.value.removesuffix("s"))]
    if len(like_kind) == 1:
        return like_kind[0]
    raise UnreadableFile(
        Msg(
            "file.which_layer",
            name=source.name,
            count=len(names),
            listing=listing,
            kind=kind.value,
        )
    )


def _first_line(exc: BaseException) -> str:
    """GDAL's first sentence, without its advice on drivers and config options."""
    text = str(exc).strip() or type(exc).__name__
    sentence = re.split(r"\n|; |\. ", text)[0].strip()
    return sentence if len(sentence) <= 200 else sentence[:199] + "…"


def _find_field(columns: list[str], wanted: str) -> str | None:
    """A field by its exact name, else ignoring case, else cut to a Shapefile's 10 characters."""
    for candidate in (wanted, wanted[:_SHAPEFILE_FIELD_LENGTH]):
        if candidate in columns:
            return candidate
        folded = [c for c in columns if c.lower() == candidate.lower()]
        if len(folded) == 1:
            return folded[0]
    return None


def _map_fields(
    frame: gpd.GeoDataFrame,
    kind: LayerKind,
    source: Path,
    code_field: str,
    name_field: str,
    parent_field: str,
    require_parent: bool = True,
) -> gpd.GeoDataFrame:
    """The file's fields under the agreed names, codes and names as text, geometry 2-D.

    A column already named like a target (a file's own ``code`` when
    ``code_field`` names another) is replaced by the mapped field.
    """
    columns = [c for c in frame.columns if c != frame.geometry.name]
    wanted = dict(zip(BASE_COLUMNS, (code_field, name_field, parent_field), strict=True))
    found = {target: _find_field(columns, field) for target, field in wanted.items()}
    parentless = kind == LayerKind.JURISDICTION or not require_parent
    optional = {"parent_code"} if parentless else set()
    missing = [
        Msg("file.field_missing", target=t, field=wanted[t])
        for t in found
        if found[t] is None and t not in optional
    ]
    if missing:
        raise InvalidLayer(
            Msg("file.missing_fields", name=source.name, missing=missing, columns=list(columns))
        )
    base = {t: _texts(frame[f]) if f else [""] * len(frame) for t, f in found.items()}
    rest = frame[[c for c in columns if c not in {*found.values(), *BASE_COLUMNS}]]
    table = pd.concat([pd.DataFrame(base, index=frame.index), pd.DataFrame(rest)], axis=1)
    geometry = shapely.force_2d(np.asarray(frame.geometry.array))
    return gpd.GeoDataFrame(table, geometry=geometry, crs=frame.crs).reset_index(drop=True)


def _texts(values: pd.Series) -> list[str]:
    """Codes as text: a numeric 310106113001 stays '310106113001' (no '.0', no exponent)."""
    return [_text(v) for v in values]


def _text(value: object) -> str:
    if value is None or (np.isscalar(value) and pd.isna(value)):
        return ""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _to_cgcs2000(frame: gpd.GeoDataFrame, declared: str | None, source: Path) -> gpd.GeoDataFrame:
    """Geometry in EPSG:4490; a CRS missing from the file must be given, never guessed.

    ``declared`` (a :func:`parse_crs` name) may only agree with what the file
    says, except that a file labelled WGS-84 may hold GCJ-02 or BD-09
    coordinates, which no CRS label can express.
    """
    given = parse_crs(declared) if declared is not None else None
    if frame.crs is None and given is None:
        raise MissingCRS(Msg("file.no_crs", name=source.name))
    if given is not None and frame.crs is not None and not _agrees(frame.crs, given):
        found = frame.crs.to_string()
        raise InvalidLayer(
            Msg("file.crs_disagrees", name=source.name, found=found, declared=declared)
        )
    if given is not None and given.kind in ("gcj02", "bd09"):
        return _unshift(frame, given)
    crs = frame.crs if given is None else pyproj.CRS(given.label if given.epsg else CGCS2000)
    if _is_wgs84(crs):
        return frame.set_crs(CGCS2000, allow_override=True)
    return frame.set_crs(crs, allow_override=True).to_crs(CGCS2000)


def _is_wgs84(crs: pyproj.CRS) -> bool:
    """WGS-84 and CGCS2000 lon/lat, which agree to centimetres and are relabelled, not moved."""
    return crs.to_epsg() in (4326, 4490) or crs.to_authority() == ("OGC", "CRS84")


def _agrees(crs: pyproj.CRS, given: InputCRS) -> bool:
    """Whether the file's CRS and the one given say the same (GCJ-02 files say WGS-84)."""
    if given.kind == "epsg":
        return crs.to_epsg() == given.epsg or crs.equals(pyproj.CRS(given.label))
    return _is_wgs84(crs)


def _unshift(frame: gpd.GeoDataFrame, given: InputCRS) -> gpd.GeoDataFrame:
    """Move every vertex from GCJ-02 or BD-09 back to WGS-84 (= CGCS2000)."""
    inverse = gcj02_to_wgs84 if given.kind == "gcj02" else bd09_to_wgs84

    def move(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack(inverse(xy[:, 0], xy[:, 1]))

    geometry = shapely.transform(np.asarray(frame.geometry.array), move)
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return gpd.GeoDataFrame(table, geometry=geometry, crs=CGCS2000)
