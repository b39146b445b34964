"""The ``gridsvc`` command line, driven the way a user drives it.

Inputs are written into ``tmp_path``; expected grids come from the demo
GeoPackage (a grid's representative point is inside that grid), never from
the matcher itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import Result
from typer.testing import CliRunner

from gridsvc.cli import app
from gridsvc.config import Settings
from gridsvc.core.crs import wgs84_to_bd09, wgs84_to_gcj02

DATA = Path(__file__).parent.parent / "data"
DEMO_GPKG = Settings().town_file
MATCH_COLUMNS = [
    "grid_code",
    "unit_code",
    "committee_code",
    "street_id",
    "street_name",
    "street_distance_m",
    "team",
    "status",
    "reason",
]

runner = CliRunner()


def run(*args: object) -> Result:
    """The command in English (its wording is checked; tests/cli/test_cli_lang.py has the Chinese)."""
    return runner.invoke(app, ["--lang", "en", *[str(a) for a in args]])


@pytest.fixture(scope="module")
def grids() -> gpd.GeoDataFrame:
    return gpd.read_file(DEMO_GPKG, layer="grids").sort_values("code").reset_index(drop=True)


@pytest.fixture(scope="module")
def inside(grids: gpd.GeoDataFrame) -> list[tuple[float, float, str]]:
    """(lon, lat, grid code) of an interior point of each demo grid."""
    points = [g.representative_point() for g in grids.geometry]
    return [(p.x, p.y, code) for p, code in zip(points, grids["code"], strict=True)]


def _write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture
def mixed_csv(tmp_path: Path, inside: list[tuple[float, float, str]]) -> Path:
    """Two interior points, one swapped, one far outside, one unreadable; extra columns."""
    (x1, y1, _), (x2, y2, _) = inside[0], inside[5]
    rows = [
        {"编号": "007", "lon": repr(x1), "lat": repr(y1), "备注": "垃圾暴露", "crs": "wgs84"},
        {"编号": "008", "lon": repr(x2), "lat": repr(y2), "备注": "乱设摊", "crs": "wgs84"},
        {"编号": "009", "lon": repr(y1), "lat": repr(x1), "备注": "swapped", "crs": "wgs84"},
        {"编号": "010", "lon": "121.6", "lat": "31.2", "备注": "far", "crs": "wgs84"},
        {"编号": "011", "lon": "abc", "lat": "31.33", "备注": "typo", "crs": "wgs84"},
    ]
    return _write_csv(tmp_path / "reports.csv", rows)


EXPECTED_STATUS = ["matched", "matched", "invalid", "outside", "invalid"]


def test_match_csv_keeps_input_columns_and_adds_the_match(
    tmp_path: Path, mixed_csv: Path, inside: list[tuple[float, float, str]]
) -> None:
    out = tmp_path / "out.csv"
    result = run("match", mixed_csv, "-o", out)
    assert result.exit_code == 0, result.output
    table = _read_csv(out)
    source = _read_csv(mixed_csv)
    for column in [*source.columns, *MATCH_COLUMNS]:
        assert column in table.columns
    pd.testing.assert_frame_equal(table[source.columns], source)  # "007" stays "007"
    assert table["status"].tolist() == EXPECTED_STATUS
    assert table["grid_code"].tolist()[:2] == [inside[0][2], inside[5][2]]
    assert table["unit_code"][0].startswith("310106113U")
    assert len(table["committee_code"][0]) == 12 and table["team"][0].startswith("WS")
    assert "swapped" in table["reason"][2]
    assert table["reason"][3].startswith("outside the jurisdiction")
    assert float(table["boundary_distance_m"][3]) > 10_000
    assert table["grid_code"][2:].tolist() == ["", "", ""]
    assert table["reason"][4]  # the user is told why row 011 was not matched


def test_an_input_column_named_like_a_result_column_is_kept(
    tmp_path: Path, inside: list[tuple[float, float, str]]
) -> None:
    x, y, code = inside[0]
    rows = [{"lon": repr(x), "lat": repr(y), "status": "已受理", "crs": "wgs84"}]
    out = tmp_path / "out.csv"
    assert run("match", _write_csv(tmp_path / "in.csv", rows), "-o", out).exit_code == 0
    table = _read_csv(out)
    assert table["input_status"].tolist() == ["已受理"]
    assert table["status"].tolist() == ["matched"]
    assert table["grid_code"].tolist() == [code]


@pytest.mark.parametrize("crs_args", [[], ["--crs", "wgs84"], ["--crs", "cgcs2000"]])
def test_match_plain_lon_lat_csv(
    tmp_path: Path, inside: list[tuple[float, float, str]], crs_args: list[str]
) -> None:
    """No crs column and no --crs (or WGS-84 named): the points are WGS-84."""
    x, y, code = inside[0]
    source = _write_csv(tmp_path / "plain.csv", [{"id": "1", "lon": repr(x), "lat": repr(y)}])
    out = tmp_path / "out.csv"
    assert run("match", source, "-o", out, *crs_args).exit_code == 0
    table = _read_csv(out)
    assert table["status"].tolist() == ["matched"], table["reason"].tolist()
    assert table["grid_code"].tolist() == [code]


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".parquet"])
def test_match_writes_geo_formats(tmp_path: Path, mixed_csv: Path, suffix: str) -> None:
    out = tmp_path / f"out{suffix}"
    result = run("match", mixed_csv, "-o", out)
    assert result.exit_code == 0, result.output
    back = gpd.read_parquet(out) if suffix == ".parquet" else gpd.read_file(out)
    source = _read_csv(mixed_csv)
    assert back["编号"].tolist() == source["编号"].tolist()
    assert back["status"].tolist() == EXPECTED_STATUS
    assert set(MATCH_COLUMNS) <= set(back.columns)
    if suffix == ".geojson":  # RFC 7946: WGS-84 longitude, latitude
        assert back.crs.equals("OGC:CRS84") or back.crs.equals("EPSG:4326")
        text = json.loads(out.read_text(encoding="utf-8"))
        assert text["type"] == "FeatureCollection" and len(text["features"]) == len(source)
    else:
        assert back.crs.to_epsg() == 4490
    first = back.geometry.iloc[0]
    assert (first.x, first.y) == pytest.approx((float(source["lon"][0]), float(source["lat"][0])))


def test_geojson_output_has_only_valid_positions(tmp_path: Path, mixed_csv: Path) -> None:
    out = tmp_path / "out.geojson"
    assert run("match", mixed_csv, "-o", out).exit_code == 0
    for feature in json.loads(out.read_text(encoding="utf-8"))["features"]:
        if feature["geometry"] is not None:
            lon, lat = feature["geometry"]["coordinates"]
            assert -180 <= lon <= 180 and -90 <= lat <= 90, feature["properties"]["编号"]


def _point_collection(coords: list[tuple[float, float]], extra: dict[str, str]) -> dict:
    features = [
        {
            "type": "Feature",
            "properties": {"id": f"P{i}", **extra},
            "geometry": {"type": "Point", "coordinates": [x, y]},
        }
        for i, (x, y) in enumerate(coords)
    ]
    return {"type": "FeatureCollection", "features": features}


def test_match_geojson_points_from_a_phone_app(
    tmp_path: Path, inside: list[tuple[float, float, str]]
) -> None:
    """A GCJ-02 export (labelled WGS-84, as every GeoJSON is) matched with --crs gcj02."""
    chosen = inside[::3]
    gcj = [tuple(float(v) for v in wgs84_to_gcj02(x, y)) for x, y, _ in chosen]
    source = tmp_path / "app.geojson"
    source.write_text(json.dumps(_point_collection(gcj, {"类别": "CG01"})), encoding="utf-8")
    out = tmp_path / "out.csv"
    result = run("match", source, "--crs", "gcj02", "-o", out)
    assert result.exit_code == 0, result.output
    table = _read_csv(out)
    assert table["id"].tolist() == [f"P{i}" for i in range(len(chosen))]
    assert table["类别"].tolist() == ["CG01"] * len(chosen)
    assert table["grid_code"].tolist() == [code for _, _, code in chosen]


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
def test_match_wgs84_point_file(
    tmp_path: Path, inside: list[tuple[float, float, str]], suffix: str
) -> None:
    x, y, code = inside[0]
    source = tmp_path / f"points{suffix}"
    gpd.GeoDataFrame({"id": ["P0"]}, geometry=[shapely.Point(x, y)], crs="EPSG:4326").to_file(
        source
    )
    out = tmp_path / "out.csv"
    assert run("match", source, "-o", out).exit_code == 0
    assert _read_csv(out)["grid_code"].tolist() == [code]


def test_per_row_crs_column(tmp_path: Path, inside: list[tuple[float, float, str]]) -> None:
    """Phones send GCJ-02, GPS units WGS-84, Baidu maps BD-09, in one export."""
    rows = []
    for x, y, _ in inside:
        gx, gy = wgs84_to_gcj02(x, y)
        bx, by = wgs84_to_bd09(x, y)
        rows += [
            {"lon": repr(x), "lat": repr(y), "crs": "wgs84"},
            {"lon": repr(float(gx)), "lat": repr(float(gy)), "crs": "gcj02"},
            {"lon": repr(float(bx)), "lat": repr(float(by)), "crs": "BD-09"},
        ]
    rows.append({"lon": "121.45", "lat": "31.33", "crs": "mars"})
    out = tmp_path / "out.csv"
    result = run("match", _write_csv(tmp_path / "mixed_crs.csv", rows), "-o", out)
    assert result.exit_code == 0, result.output
    table = _read_csv(out)
    expected = [code for _, _, code in inside for _ in range(3)]
    assert table["grid_code"].tolist()[:-1] == expected
    assert table["status"].tolist() == ["matched"] * len(expected) + ["invalid"]
    assert "mars" in table["reason"].iloc[-1]


def test_grids_file_without_jurisdiction_uses_their_union(tmp_path: Path) -> None:
    grids_file = DATA / "layer_grids.geojson"  # 4 squares 0.01° wide, 121.40–121.42, 31.20–31.22
    rows = [
        ("interior of 001", 121.405, 31.205),
        ("edge 001|002", 121.41, 31.205),
        ("vertex of all four", 121.41, 31.21),
        ("outer corner of the union", 121.40, 31.20),
        ("interior of 004", 121.415, 31.215),
        ("east of the union", 121.43, 31.205),
    ]
    source = _write_csv(
        tmp_path / "pts.csv",
        [{"what": w, "lon": x, "lat": y, "crs": "wgs84"} for w, x, y in rows],
    )
    out = tmp_path / "out.csv"
    result = run("match", source, "--grids", grids_file, "-o", out)
    assert result.exit_code == 0, result.output
    table = _read_csv(out)
    assert table["status"].tolist() == ["matched"] * 5 + ["outside"]
    codes = ["310106113001"] * 4 + ["310106113004", ""]
    assert table["grid_code"].tolist() == codes
    assert table["team"].tolist() == ["第一工作站"] * 4 + ["第二工作站", ""]
    assert table["unit_code"].tolist() == [""] * 6  # no unit layer given
    union = gpd.read_file(grids_file).to_crs("EPSG:4549").union_all()
    east = gpd.GeoSeries([shapely.Point(121.43, 31.205)], crs="EPSG:4326").to_crs("EPSG:4549")
    distance = float(table["boundary_distance_m"].iloc[-1])
    assert distance == pytest.approx(union.distance(east.iloc[0]), abs=0.05)
    assert table["nearest_grid_code"].iloc[-1] == "310106113002"


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "points.txt").write_text("lon,lat\n121.45,31.33\n", encoding="utf-8")
    (tmp_path / "no_lon.csv").write_text("经,纬\n121.45,31.33\n", encoding="utf-8")
    (tmp_path / "broken.geojson").write_text('{"type": "FeatureColl', encoding="utf-8")
    polygons = _point_collection([], {})
    polygons["features"] = [
        {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
        }
    ]
    (tmp_path / "areas.geojson").write_text(json.dumps(polygons), encoding="utf-8")
    return {
        "missing": tmp_path / "missing.csv",
        "unsupported": tmp_path / "points.txt",
        "no_lon": tmp_path / "no_lon.csv",
        "corrupt": tmp_path / "broken.geojson",
        "polygons": tmp_path / "areas.geojson",
    }


@pytest.mark.parametrize("case", ["missing", "unsupported", "no_lon", "corrupt", "polygons"])
def test_bad_input_is_one_error_and_exit_2(tmp_path: Path, case: str) -> None:
    source = _bad_inputs(tmp_path)[case]
    out = tmp_path / "out.csv"
    result = run("match", source, "-o", out)
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.strip().startswith("error:")
    assert result.stdout.strip() == ""
    assert not out.exists()


def test_unsupported_output_type_is_refused(tmp_path: Path, mixed_csv: Path) -> None:
    out = tmp_path / "out.xlsx"
    result = run("match", mixed_csv, "-o", out)
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("error:") and ".xlsx" in result.stderr
    assert not out.exists()


def test_error_is_one_line_in_a_log(tmp_path: Path) -> None:
    """A message longer than 80 columns, with stderr not a terminal, stays on one line."""
    source = _bad_inputs(tmp_path)["no_lon"]
    drop = ("COLUMNS", "LINES", "GRIDSVC_LANG")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    done = subprocess.run(
        [sys.executable, "-m", "gridsvc.cli", "match", str(source), "-o", "out.csv"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误（"), done.stderr  # Chinese by default


def test_validate_demo_grids_against_their_units() -> None:
    result = run("validate", DEMO_GPKG, "--kind", "grids", "--parent", DEMO_GPKG)
    assert result.exit_code == 0, result.output
    assert "14 grids feature(s), 0 problem(s), 0 blocking" in " ".join(result.stdout.split())


def test_validate_lists_an_overlap_and_exits_1() -> None:
    result = run("validate", DATA / "layer_grids_overlap.geojson")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "overlap" in result.stderr
    assert "310106113001" in result.stderr and "310106113002" in result.stderr
    assert "1 blocking" in " ".join(result.stdout.split())
