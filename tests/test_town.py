"""Loading a town: every layer read and checked, or nothing at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridsvc.config import Settings
from gridsvc.core.errors import InvalidLayer, UnreadableFile
from gridsvc.core.layers import LayerKind
from gridsvc.core.validation import ProblemKind
from gridsvc.layerio import read_layer, write_layer
from gridsvc.town import Town, load_town, load_town_file

DATA = Path(__file__).parent / "data"
DEMO_GPKG = Settings().town_file
DEMO_COUNTS = {
    LayerKind.JURISDICTION: 1,
    LayerKind.UNITS: 3,
    LayerKind.GRIDS: 14,
    LayerKind.COMMITTEES: 22,
    LayerKind.CELLS: 587,
    LayerKind.STREETS: 509,
}


@pytest.fixture(scope="module")
def demo() -> Town:
    return load_town_file(DEMO_GPKG)


def test_demo_town_has_every_layer(demo: Town) -> None:
    assert {kind: len(layer) for kind, layer in demo.layers.items()} == DEMO_COUNTS
    assert all(layer.kind == kind for kind, layer in demo.layers.items())
    assert demo.layers[LayerKind.JURISDICTION].codes.tolist() == ["310106113"]


def test_demo_matcher_uses_the_loaded_layers(demo: Town) -> None:
    grid = demo.layers[LayerKind.GRIDS].frame.iloc[0]
    point = grid.geometry.representative_point()
    match = demo.matcher().match_point(point.x, point.y)
    assert (match.status, match.grid_code, match.team) == ("matched", grid["code"], grid["team"])


def test_a_geopackage_without_grids_is_refused(tmp_path: Path, demo: Town) -> None:
    path = tmp_path / "units_only.gpkg"
    write_layer(demo.layers[LayerKind.UNITS], path)
    write_layer(demo.layers[LayerKind.JURISDICTION], path)
    with pytest.raises(InvalidLayer, match="no 'grids' layer.*'jurisdiction', 'units'"):
        load_town_file(path)


def test_a_missing_town_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="no such file"):
        load_town_file(tmp_path / "nowhere.gpkg")


def test_a_file_that_is_not_a_geopackage_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "town.gpkg"
    path.write_text("not a database", encoding="utf-8")
    with pytest.raises(UnreadableFile):
        load_town_file(path)


def test_a_town_whose_grids_overlap_is_refused_with_the_list(tmp_path: Path) -> None:
    path = tmp_path / "town.gpkg"
    write_layer(read_layer(DATA / "layer_unit.geojson", LayerKind.UNITS), path)
    write_layer(read_layer(DATA / "layer_grids_overlap.geojson", LayerKind.GRIDS), path)
    with pytest.raises(InvalidLayer) as caught:
        load_town_file(path)
    problems = caught.value.problems
    overlaps = [p for p in problems if p.kind == ProblemKind.OVERLAP]
    assert len(overlaps) == 1 and overlaps[0].blocking
    assert overlaps[0].codes == ("310106113001", "310106113002")
    assert overlaps[0].area_m2 == pytest.approx(105_708, rel=0.01)  # 0.001° × 0.01° at 31.2°N
    assert "blocking problem" in caught.value.message


def test_grids_checked_against_their_unit_when_loaded_from_files() -> None:
    town = load_town(
        {
            LayerKind.UNITS: DATA / "layer_unit.geojson",
            LayerKind.GRIDS: DATA / "layer_grids.geojson",
        }
    )
    assert len(town.layers[LayerKind.GRIDS]) == 4
    assert town.layer(LayerKind.STREETS) is None


@pytest.mark.parametrize(
    ("grids", "kind"),
    [
        ("layer_grids_overlap.geojson", ProblemKind.OVERLAP),
        ("layer_grids_gap.geojson", ProblemKind.GAP),
    ],
)
def test_broken_grids_in_separate_files_are_refused(grids: str, kind: ProblemKind) -> None:
    files = {LayerKind.UNITS: DATA / "layer_unit.geojson", LayerKind.GRIDS: DATA / grids}
    with pytest.raises(InvalidLayer) as caught:
        load_town(files)
    assert kind in {p.kind for p in caught.value.problems if p.blocking}
