"""Reading and writing layers in the formats planners hand over."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from gridsvc.core.crs import CGCS2000, wgs84_to_bd09, wgs84_to_gcj02
from gridsvc.core.errors import InvalidInput, InvalidLayer, MissingCRS, UnreadableFile
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.layerio import read_layer, write_layer

DATA = Path(__file__).parent / "data"
GRIDS_FILE = DATA / "layer_grids.geojson"
CODES = [f"310106113{n:03d}" for n in range(1, 5)]
NAMES = ["彭浦一网格", "彭浦二网格", "彭浦三网格", "彭浦四网格"]


@pytest.fixture(scope="module")
def grids() -> Layer:
    return read_layer(GRIDS_FILE, LayerKind.GRIDS)


@pytest.fixture(scope="module")
def unit() -> Layer:
    return read_layer(DATA / "layer_unit.geojson", LayerKind.UNITS)


def test_geojson(grids: Layer) -> None:
    assert grids.frame.crs.equals(CGCS2000)
    assert list(grids.frame.columns[:3]) == ["code", "name", "parent_code"]
    assert grids.codes.tolist() == CODES
    assert grids.frame["name"].tolist() == NAMES
    assert grids.frame["team"].tolist()[0] == "第一工作站"
    assert grids.frame.total_bounds == pytest.approx([121.40, 31.20, 121.42, 31.22])


def test_geopackage_layer_named_like_the_kind(tmp_path: Path, grids: Layer, unit: Layer) -> None:
    path = tmp_path / "town.gpkg"
    write_layer(unit, path)
    write_layer(grids, path)
    assert read_layer(path, "grids").codes.tolist() == CODES
    assert read_layer(path, "units").codes.tolist() == ["310106113"]
    assert read_layer(path, "jurisdiction", layer="units").codes.tolist() == ["310106113"]


def test_geopackage_with_layers_none_can_be_chosen(tmp_path: Path, grids: Layer) -> None:
    path = tmp_path / "draft.gpkg"
    write_layer(grids, path, layer_name="draft_a")
    write_layer(grids, path, layer_name="draft_b")
    with pytest.raises(UnreadableFile, match=r"2 layers \(draft_a, draft_b\).*layer="):
        read_layer(path, "grids")
    with pytest.raises(UnreadableFile, match="no layer 'draft_c'; it has draft_a, draft_b"):
        read_layer(path, "grids", layer="draft_c")
    assert len(read_layer(path, "grids", layer="draft_b")) == 4


def _write_gbk_shapefile(grids: Layer, folder: Path) -> Path:
    """What older Chinese GIS exports: GBK text, a .cpg saying so, parent_code cut to 10."""
    folder.mkdir(exist_ok=True)
    path = folder / "grids.shp"
    with pytest.warns(RuntimeWarning, match="parent_code' to 'parent_cod'"):
        pyogrio.write_dataframe(grids.frame, path, encoding="GBK")
    return path


def test_shapefile_with_gbk_attributes_and_cpg(tmp_path: Path, grids: Layer) -> None:
    path = _write_gbk_shapefile(grids, tmp_path)
    assert path.with_suffix(".cpg").read_text().strip() == "GBK"
    assert NAMES[0].encode("gbk") in path.with_suffix(".dbf").read_bytes()
    layer = read_layer(path, "grids")  # parent_code was cut to parent_cod
    assert layer.frame["name"].tolist() == NAMES
    assert layer.frame["parent_code"].tolist() == ["310106113"] * 4


def test_shapefile_without_cpg_takes_an_encoding(tmp_path: Path, grids: Layer) -> None:
    path = _write_gbk_shapefile(grids, tmp_path)
    path.with_suffix(".cpg").unlink()
    assert read_layer(path, "grids", encoding="GBK").frame["name"].tolist() == NAMES


def test_shapefile_with_a_wrong_cpg(tmp_path: Path, grids: Layer) -> None:
    path = _write_gbk_shapefile(grids, tmp_path)
    path.with_suffix(".cpg").write_text("UTF-8")
    with pytest.raises(UnreadableFile, match="not in the declared encoding.*encoding="):
        read_layer(path, "grids")
    assert read_layer(path, "grids", encoding="GBK").frame["name"].tolist() == NAMES


def test_zipped_shapefile_in_a_folder(tmp_path: Path, grids: Layer) -> None:
    shp = _write_gbk_shapefile(grids, tmp_path / "shp")
    archive = tmp_path / "grids.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in shp.parent.iterdir():
            zipped.write(part, f"export/{part.name}")
    layer = read_layer(archive, "grids")
    assert layer.codes.tolist() == CODES
    assert layer.frame["name"].tolist() == NAMES


def test_zip_without_shapefile(tmp_path: Path) -> None:
    archive = tmp_path / "notes.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("readme.txt", "boundaries follow")
    with pytest.raises(UnreadableFile, match="holds no Shapefile.*readme.txt"):
        read_layer(archive, "grids")


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp", ".fgb", ".parquet"])
def test_write_and_read_back(tmp_path: Path, grids: Layer, suffix: str) -> None:
    path = write_layer(grids, tmp_path / f"grids{suffix}")
    back = read_layer(path, "grids")
    assert back.codes.tolist() == CODES
    assert back.frame["name"].tolist() == NAMES
    assert back.frame["parent_code"].tolist() == grids.frame["parent_code"].tolist()
    assert back.frame.crs.equals(CGCS2000)
    assert all(shapely.equals(back.frame.geometry, grids.frame.geometry))


def test_write_refuses_an_unknown_suffix(tmp_path: Path, grids: Layer) -> None:
    with pytest.raises(InvalidInput, match="suffix must be one of"):
        write_layer(grids, tmp_path / "grids.kml")


def test_missing_crs_is_refused_unless_given(tmp_path: Path, grids: Layer) -> None:
    path = tmp_path / "nocrs.fgb"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        pyogrio.write_dataframe(grids.frame.set_crs(None, allow_override=True), path)
    with pytest.raises(MissingCRS, match="crs="):
        read_layer(path, "grids")
    layer = read_layer(path, "grids", crs="EPSG:4490")
    assert layer.frame.crs.equals(CGCS2000)
    assert layer.frame.total_bounds == pytest.approx(grids.frame.total_bounds)


def test_gauss_kruger_file_is_reprojected(tmp_path: Path, grids: Layer) -> None:
    path = write_layer(grids.frame.to_crs(4549), tmp_path / "grids_4549.gpkg")
    layer = read_layer(path, "grids")
    assert layer.frame.crs.equals(CGCS2000)
    assert layer.frame.total_bounds == pytest.approx(grids.frame.total_bounds, abs=1e-8)


def test_given_crs_must_agree_with_the_file(tmp_path: Path, grids: Layer) -> None:
    path = write_layer(grids.frame.to_crs(4549), tmp_path / "grids_4549.gpkg")
    with pytest.raises(InvalidLayer, match="EPSG:4549 but crs= is 'gcj02'"):
        read_layer(path, "grids", crs="gcj02")


@pytest.mark.parametrize(("name", "forward"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_shifted_coordinates_are_moved_back(tmp_path: Path, grids: Layer, name, forward) -> None:
    def shift(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(forward(xy[:, 0], xy[:, 1]))

    shifted = grids.frame.set_geometry(shapely.transform(grids.frame.geometry.values, shift))
    path = write_layer(shifted.set_crs(4326, allow_override=True), tmp_path / "shifted.geojson")
    layer = read_layer(path, "grids", crs=name)
    original = shapely.get_coordinates(grids.frame.geometry.values)
    assert shapely.get_coordinates(layer.frame.geometry.values) == pytest.approx(original, abs=1e-8)


def _numeric_codes(tmp_path: Path, suffix: str, grids: Layer) -> Path:
    frame = grids.frame.copy()
    frame["code"] = [310106113001.0, 310106113002.0, np.nan, 310106113004.0]
    frame["parent_code"] = 310106113
    if suffix == ".geojson":  # plain JSON numbers, as a web tool would write them
        path = tmp_path / "numeric.geojson"
        collection = json.loads(frame.to_json(drop_id=True))
        collection["features"][0]["properties"]["code"] = 310106113001
        path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
        return path
    return write_layer(frame, tmp_path / f"numeric{suffix}")


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp"])
def test_numeric_codes_keep_every_digit(tmp_path: Path, grids: Layer, suffix: str) -> None:
    layer = read_layer(_numeric_codes(tmp_path, suffix, grids), "grids")
    assert layer.codes.tolist() == ["310106113001", "310106113002", "", "310106113004"]
    assert layer.frame["parent_code"].tolist() == ["310106113"] * 4


def test_field_mapping(tmp_path: Path, grids: Layer) -> None:
    frame = grids.frame.rename(columns={"code": "GRID_ID", "name": "MC", "parent_code": "SSDY"})
    frame["code"] = range(4)  # a running number that the mapped field replaces
    frame["GRID_ID"] = [f"  {c} " for c in CODES]
    path = write_layer(frame, tmp_path / "mapped.gpkg")
    layer = read_layer(path, "grids", code_field="grid_id", name_field="MC", parent_field="SSDY")
    assert layer.codes.tolist() == CODES
    assert layer.frame["name"].tolist() == NAMES
    assert "GRID_ID" not in layer.frame.columns and "team" in layer.frame.columns


def test_parent_field_is_optional_only_for_the_jurisdiction(tmp_path: Path, unit: Layer) -> None:
    path = write_layer(unit.frame.drop(columns="parent_code"), tmp_path / "town.geojson")
    with pytest.raises(InvalidLayer, match="no parent_code \\(field 'parent_code'\\).*code, name"):
        read_layer(path, "units")
    assert read_layer(path, "jurisdiction").frame["parent_code"].tolist() == [""]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("corrupt.gpkg", b"SQLite format 3\x00" + b"\x07" * 500),
        ("corrupt.geojson", b'{"type": "FeatureCollection", "features": [{"type": "Feat'),
        ("table.csv.gz", b"\x1f\x8b not really gzip"),
        ("broken.zip", b"PK\x03\x04 truncated"),
        ("grids.shp", b"\x00\x00\x27\x0a" + b"\x00" * 20),
        ("table.csv", b"code,name\n310106113001,a\n"),
    ],
)
@pytest.mark.filterwarnings("ignore:GPKG. bad application_id")
def test_unreadable_files(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableFile) as caught:
        read_layer(path, "grids")
    assert "\n" not in caught.value.message and name in caught.value.message


def test_a_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="does not exist"):
        read_layer(tmp_path / "missing.gpkg", "grids")


def test_points_are_not_grids(tmp_path: Path, grids: Layer) -> None:
    path = write_layer(
        grids.frame.set_geometry(grids.frame.representative_point()), tmp_path / "points.gpkg"
    )
    with pytest.raises(InvalidLayer, match="4 of 4 features") as caught:
        read_layer(path, "grids")
    assert {p.kind for p in caught.value.problems} == {"wrong-geometry-type"}


def test_polygons_are_not_streets() -> None:
    with pytest.raises(InvalidLayer, match="a streets layer holds LineString or MultiLineString"):
        read_layer(GRIDS_FILE, "streets")


def test_an_empty_layer(tmp_path: Path) -> None:
    path = tmp_path / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InvalidLayer, match="no features"):
        read_layer(path, "grids")


def test_three_dimensional_geometry_is_flattened(tmp_path: Path, grids: Layer) -> None:
    frame = grids.frame.set_geometry(shapely.force_3d(grids.frame.geometry.values, z=4.0))
    layer = read_layer(write_layer(frame, tmp_path / "z.gpkg"), "grids")
    assert not layer.frame.has_z.any()
    assert isinstance(layer.frame, gpd.GeoDataFrame)
