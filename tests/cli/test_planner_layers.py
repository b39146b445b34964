"""Layer files as a planner hands them over, through ``validate`` and ``match``.

The file (tests/data/planner_city_4549.gpkg, made by make_planner_layers.py)
names its layer ``city``, keeps the code in an integer ``gb`` field, has no
``parent_code``, is in Gauss-Krüger metres (EPSG:4549) and has an island
group 60 km off its main block. Findings (issue 19 item 8, issue 21 item 3):
such a file was refused for its missing parent_code and its layer name, and
the errors told CLI users the API's ``code_field=`` instead of the flag.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import Result
from typer.testing import CliRunner

from gridsvc.cli import app

DATA = Path(__file__).parent.parent / "data"
CITY = DATA / "planner_city_4549.gpkg"

runner = CliRunner()


def run(*args: object) -> Result:
    """The command in English, whose wording the tests check."""
    return runner.invoke(app, ["--lang", "en", *[str(a) for a in args]])


@pytest.fixture(scope="module")
def grids() -> gpd.GeoDataFrame:
    return gpd.read_file(CITY, layer="city")


def points_csv(tmp_path: Path, grids: gpd.GeoDataFrame) -> Path:
    """One point inside each grid, in WGS-84 as a phone reports it (islands included)."""
    inside = grids.geometry.representative_point().to_crs("EPSG:4326")
    table = pd.DataFrame({"id": grids["gb"], "lon": inside.x, "lat": inside.y})
    path = tmp_path / "pts.csv"
    table.to_csv(path, index=False)
    return path


def test_a_plain_grid_layer_validates_alone_without_a_parent_code() -> None:
    result = run("validate", CITY, "--layer", "city", "--code-field", "gb")
    assert result.exit_code == 0, result.output
    assert "11 grids feature(s)" in result.output and "0 blocking" in result.output


def test_match_takes_the_planners_layer_and_finds_every_grid_islands_included(
    tmp_path: Path, grids: gpd.GeoDataFrame
) -> None:
    out = tmp_path / "matched.csv"
    pts = points_csv(tmp_path, grids)
    result = run("match", pts, "-o", out, "--grids", CITY, "--layer", "city", "--code-field", "gb")
    assert result.exit_code == 0, result.output
    matched = pd.read_csv(out, dtype={"grid_code": str, "id": str})
    assert (matched["status"] == "matched").all()
    assert list(matched["grid_code"]) == list(matched["id"])  # each point in its own grid


def test_a_file_of_several_layers_names_them_and_the_flag_to_choose(tmp_path: Path) -> None:
    result = run("validate", CITY, "--code-field", "gb")
    assert result.exit_code == 2
    assert "city" in result.output and "roads" in result.output
    assert "--layer" in result.output and "layer=" not in result.output


def test_a_missing_field_names_the_flags_not_the_apis_form_fields() -> None:
    result = run("validate", CITY, "--layer", "city")  # no field 'code'
    assert result.exit_code == 2
    assert "--code-field" in result.output and "code_field=" not in result.output
    assert "gb" in result.output  # the fields the file has


def test_a_parent_asked_for_makes_the_parent_field_required(tmp_path: Path) -> None:
    """With --parent given the nesting is checked, so parent codes are needed again."""
    jurisdiction = tmp_path / "town.geojson"
    grids = gpd.read_file(CITY, layer="city")
    outline = gpd.GeoDataFrame(
        {"code": ["310113"], "name": ["示范镇"]},
        geometry=[grids.union_all().envelope],
        crs=grids.crs,
    )
    outline.to_file(jurisdiction)
    result = run(
        "validate", CITY, "--layer", "city", "--code-field", "gb", "--kind", "units",
        "--parent", jurisdiction,
    )  # fmt: skip
    assert result.exit_code == 2 and "--parent-field" in result.output


def test_a_layer_without_crs_is_told_the_flag_of_its_command(tmp_path: Path) -> None:
    """validate reads the layer's CRS from --crs; match from --layer-crs (--crs is the points')."""
    bare = tmp_path / "bare.shp"  # a Shapefile whose .prj was lost on the way
    grids = gpd.read_file(CITY, layer="city")
    grids.to_file(bare, engine="pyogrio")
    bare.with_suffix(".prj").unlink()
    told = run("validate", bare, "--code-field", "gb")
    assert told.exit_code == 2 and "--crs" in told.output and "crs=" not in told.output
    pts = points_csv(tmp_path, grids)
    told = run("match", pts, "-o", tmp_path / "m.csv", "--grids", bare, "--code-field", "gb")
    assert told.exit_code == 2 and "--layer-crs" in told.output
    ok = run(
        "match", pts, "-o", tmp_path / "m.csv", "--grids", bare, "--code-field", "gb",
        "--layer-crs", "EPSG:4549",
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output


def test_a_bad_layer_option_names_the_levels(tmp_path: Path, grids: gpd.GeoDataFrame) -> None:
    pts = points_csv(tmp_path, grids)
    told = run("match", pts, "-o", tmp_path / "m.csv", "--grids", CITY, "--layer", "roadz=roads")
    assert told.exit_code == 2 and "streets" in told.output and "roadz" in told.output
