"""Reading and writing point tables: CSV, GeoJSON, GeoPackage, Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridsvc.core.crs import WGS84, InputCRS
from gridsvc.core.errors import InvalidInput, UnreadableFile
from gridsvc.pointfiles import read_points, write_points

LON = [121.4427, 121.4512, 121.4601]
LAT = [31.3396, 31.3305, 31.3251]


def _csv(path: Path, header: tuple[str, str], encoding: str = "utf-8") -> Path:
    lines = [f"id,{header[0]},{header[1]},描述"]
    lines += [f"{i},{x},{y},路灯损坏{i}" for i, (x, y) in enumerate(zip(LON, LAT, strict=True))]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


@pytest.mark.parametrize(
    "header",
    [
        ("lon", "lat"),
        ("lng", "lat"),
        ("longitude", "latitude"),
        ("Longitude", "Latitude"),
        ("LON ", " LAT"),
        ("x", "y"),
        ("经度", "纬度"),
    ],
)
def test_coordinate_columns_are_found_by_common_names(
    tmp_path: Path, header: tuple[str, str]
) -> None:
    points = read_points(_csv(tmp_path / "p.csv", header))
    np.testing.assert_array_equal(points.x, LON)
    np.testing.assert_array_equal(points.y, LAT)
    assert list(points.rows.columns) == ["id", *header, "描述"]  # every column kept
    assert points.crs is None  # a CSV declares no CRS


def test_explicit_columns(tmp_path: Path) -> None:
    points = read_points(_csv(tmp_path / "p.csv", ("东经", "北纬")), "东经", "北纬")
    np.testing.assert_array_equal(points.x, LON)
    np.testing.assert_array_equal(points.y, LAT)


def test_explicit_columns_win_over_common_names(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("lon,lat,gcj_lon,gcj_lat\n1,2,121.45,31.33\n", encoding="utf-8")
    points = read_points(path, "gcj_lon", "gcj_lat")
    assert (points.x[0], points.y[0]) == (121.45, 31.33)


def test_an_explicit_column_that_is_not_there_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no column 'east'.*columns are"):
        read_points(_csv(tmp_path / "p.csv", ("lon", "lat")), "east", "lat")


def test_no_coordinate_column_says_how_to_name_it(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("地址,类别\n汶水路1号,CG01\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="no lon column found.*--lon-col"):
        read_points(path)


def test_gb18030_csv_from_excel(tmp_path: Path) -> None:
    points = read_points(_csv(tmp_path / "p.csv", ("经度", "纬度"), encoding="gb18030"))
    np.testing.assert_array_equal(points.x, LON)
    assert points.rows["描述"].tolist() == ["路灯损坏0", "路灯损坏1", "路灯损坏2"]


def test_utf8_bom_csv(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(_csv(tmp_path / "plain.csv", ("lon", "lat")).read_bytes())
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert list(read_points(path).rows.columns)[0] == "id"


def test_values_stay_text_and_bad_numbers_become_nan(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("id,lon,lat\n007,abc,31.3\n008,,31.3\n", encoding="utf-8")
    points = read_points(path)
    assert points.rows["id"].tolist() == ["007", "008"]
    assert np.isnan(points.x).all()
    assert points.y.tolist() == [31.3, 31.3]


def _collection(geometries: list[dict | None]) -> str:
    features = [
        {"type": "Feature", "properties": {"id": str(i)}, "geometry": g}
        for i, g in enumerate(geometries)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features})


POINT = {"type": "Point", "coordinates": [121.45, 31.33]}
LINE = {"type": "LineString", "coordinates": [[121.45, 31.33], [121.46, 31.34]]}
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[121.4, 31.3], [121.5, 31.3], [121.5, 31.4], [121.4, 31.3]]],
}


@pytest.mark.parametrize(
    "geometries",
    [[LINE], [POINT, SQUARE], [{"type": "MultiPoint", "coordinates": [[121.45, 31.33]]}]],
)
def test_non_point_geometry_is_refused(tmp_path: Path, geometries: list[dict]) -> None:
    path = tmp_path / "p.geojson"
    path.write_text(_collection(geometries), encoding="utf-8")
    with pytest.raises(InvalidInput, match="only point geometries"):
        read_points(path)


def test_features_without_geometry_have_no_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "p.geojson"
    path.write_text(_collection([POINT, None]), encoding="utf-8")
    points = read_points(path)
    assert points.x[0] == 121.45 and np.isnan(points.x[1]) and np.isnan(points.y[1])
    assert points.rows["id"].tolist() == ["0", "1"]
    assert points.crs == WGS84  # GeoJSON without a crs member is WGS-84


def test_a_projected_geopackage_declares_its_crs(tmp_path: Path) -> None:
    path = tmp_path / "p.gpkg"
    frame = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Point(448_000.0, 3_466_000.0)])
    frame.set_crs("EPSG:4549").to_file(path)
    points = read_points(path)
    assert points.crs == InputCRS("epsg", 4549)
    assert (points.x[0], points.y[0]) == (448_000.0, 3_466_000.0)  # not converted on reading


def test_a_plain_parquet_table_is_read_by_its_columns(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pd.DataFrame({"id": ["a", "b"], "lng": LON[:2], "lat": LAT[:2]}).to_parquet(path)
    points = read_points(path)
    np.testing.assert_array_equal(points.x, LON[:2])
    assert points.rows["id"].tolist() == ["a", "b"]


@pytest.mark.parametrize(
    ("name", "error"),
    [("p.xlsx", InvalidInput), ("p.txt", InvalidInput), ("missing.csv", UnreadableFile)],
)
def test_unreadable_inputs(tmp_path: Path, name: str, error: type[Exception]) -> None:
    if not name.startswith("missing"):
        (tmp_path / name).write_text("lon,lat\n1,2\n", encoding="utf-8")
    with pytest.raises(error, match=name.replace(".", r"\.")):
        read_points(tmp_path / name)


def test_a_corrupt_geojson_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "p.geojson"
    path.write_text('{"type": "FeatureColl', encoding="utf-8")
    with pytest.raises(UnreadableFile, match="p.geojson"):
        read_points(path)


ROWS = pd.DataFrame(
    {
        "编号": ["007", "008", "009"],
        "lon": [str(v) for v in LON],
        "lat": [str(v) for v in LAT],
        "grid_code": ["310106113G01", "310106113G06", None],
        "status": ["matched", "matched", "outside"],
    }
)


@pytest.mark.parametrize("suffix", [".csv", ".geojson", ".json", ".gpkg", ".parquet"])
def test_write_read_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"result{suffix}"
    write_points(ROWS, np.array(LON), np.array(LAT), path)
    back = read_points(path)
    np.testing.assert_allclose(back.x, LON, atol=1e-9)
    np.testing.assert_allclose(back.y, LAT, atol=1e-9)
    assert list(back.rows.columns) == list(ROWS.columns)
    assert back.rows["编号"].tolist() == ["007", "008", "009"]
    assert back.rows["status"].tolist() == ["matched", "matched", "outside"]
    assert back.rows["grid_code"].tolist()[:2] == ["310106113G01", "310106113G06"]
    assert back.crs in (None, WGS84)  # CGCS2000 / CRS84: the geographic system


def test_writing_again_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "result.gpkg"
    write_points(ROWS, np.array(LON), np.array(LAT), path)
    write_points(ROWS.iloc[:1], np.array(LON[:1]), np.array(LAT[:1]), path)
    assert len(read_points(path).x) == 1


def test_an_unknown_output_type_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "result.xlsx"
    with pytest.raises(InvalidInput, match=r"\.xlsx"):
        write_points(ROWS, np.array(LON), np.array(LAT), path)
    assert not path.exists()
