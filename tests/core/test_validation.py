"""Validation of a level on its own and against its parent.

The files in ``tests/data/layer_*.geojson`` are a 2 x 2 grid tiling of one
unit (121.40-121.42 E, 31.20-31.22 N, cells of 0.01 degrees) and variants with
one mistake each; the tables below say exactly what each must report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridsvc.core.crs import CGCS2000
from gridsvc.core.errors import InvalidInput, InvalidLayer
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.validation import Problem, check_layer, validate_layer

DATA = Path(__file__).parent.parent / "data"
UNIT = "310106113"
G1, G2, G3, G4 = (f"310106113{n:03d}" for n in range(1, 5))
_GEOD = pyproj.Geod(ellps="GRS80")


def _area(minx: float, miny: float, maxx: float, maxy: float) -> float:
    """Geodesic area of a lon/lat box: an independent check on the Gauss-Krüger areas."""
    return abs(_GEOD.geometry_area_perimeter(shapely.box(minx, miny, maxx, maxy))[0])


STRIP_WEST = _area(121.409, 31.20, 121.41, 31.21)  # 002 reaching into 001
STRIP_EAST = _area(121.42, 31.20, 121.421, 31.21)  # 002 reaching out of the unit
NOTCH = _area(121.41, 31.21, 121.411, 31.211)  # the hole at the centre
CELL = _area(121.41, 31.21, 121.42, 31.22)  # grid 004


def _layer(name: str, kind: LayerKind = LayerKind.GRIDS) -> Layer:
    frame = gpd.read_file(DATA / f"{name}.geojson").set_crs(CGCS2000, allow_override=True)
    return Layer(kind, frame)


@pytest.fixture(scope="module")
def unit() -> Layer:
    return _layer("layer_unit", LayerKind.UNITS)


def _summary(problems: list[Problem]) -> list[tuple[str, tuple[str, ...], bool]]:
    return [(str(p.kind), p.codes, p.blocking) for p in problems]


def _assert_problems(problems: list[Problem], expected: list[tuple]) -> None:
    assert _summary(problems) == [(kind, codes, blocking) for kind, codes, _, blocking in expected]
    for problem, (_, _, area, _) in zip(problems, expected, strict=True):
        if area is None:
            assert problem.area_m2 is None
        else:
            assert problem.area_m2 == pytest.approx(area, rel=0.01)


@pytest.mark.parametrize(
    ("name", "with_parent", "expected"),
    [
        ("layer_grids", False, []),
        ("layer_grids", True, []),
        ("layer_grids_overlap", False, [("overlap", (G1, G2), STRIP_WEST, True)]),
        ("layer_grids_overlap", True, [("overlap", (G1, G2), STRIP_WEST, True)]),
        ("layer_grids_gap", False, [("gap", (G1, G2, G3, G4), NOTCH, True)]),
        ("layer_grids_gap", True, [("gap", (UNIT, G1, G2, G3, G4), NOTCH, True)]),
        ("layer_grids_bowtie", False, [("invalid-geometry", ("310106113009",), None, True)]),
        ("layer_grids_duplicate", False, [("duplicate-code", (G3,), None, True)]),
        ("layer_grids_duplicate", True, [("duplicate-code", (G3,), None, True)]),
        ("layer_grids_crossing", False, []),
        ("layer_grids_crossing", True, [("crosses-parent", (G2, UNIT), STRIP_EAST, True)]),
    ],
)
def test_files(unit: Layer, name: str, with_parent: bool, expected: list[tuple]) -> None:
    _assert_problems(validate_layer(_layer(name), unit if with_parent else None), expected)


def _set(row: int, column: str, value: object) -> Callable[[gpd.GeoDataFrame], None]:
    def change(frame: gpd.GeoDataFrame) -> None:
        frame.loc[row, column] = value

    return change


# 001's east edge gets a vertex at its middle that 002's west edge lacks.
T_JUNCTION = shapely.Polygon(
    [(121.40, 31.20), (121.41, 31.20), (121.41, 31.205), (121.41, 31.21), (121.40, 31.21)]
)


@pytest.mark.parametrize(
    ("change", "with_parent", "expected"),
    [
        pytest.param(
            _set(0, "geometry", T_JUNCTION),
            True,
            [("unmatched-edge", (G1, G2), None, False)],
            id="t-junction",
        ),
        pytest.param(
            _set(1, "geometry", shapely.box(121.41 - 1e-11, 31.20, 121.42, 31.21)),
            False,
            [("overlap", (G1, G2), 0.00106, False), ("unmatched-edge", (G2, G4), None, False)],
            id="noise-overlap",
        ),
        pytest.param(
            _set(1, "geometry", shapely.box(121.41, 31.20, 121.42 + 1e-11, 31.21)),
            True,
            [
                ("unmatched-edge", (G2, G4), None, False),
                ("crosses-parent", (UNIT, G2), 0.00106, False),
            ],
            id="noise-overhang",
        ),
        pytest.param(_set(2, "code", ""), False, [("missing-code", (), None, True)], id="no-code"),
        pytest.param(
            _set(3, "geometry", None),
            False,
            [("empty-geometry", (G4,), None, True)],
            id="no-geometry",
        ),
        pytest.param(
            _set(3, "geometry", shapely.Point(121.415, 31.215)),
            False,
            [("wrong-geometry-type", (G4,), None, True)],
            id="point",
        ),
        pytest.param(
            _set(3, "parent_code", "310106999"),
            True,
            [
                ("unknown-parent", (G4, "310106999"), None, True),
                ("gap", (UNIT, G1, G2, G3), CELL, True),
            ],
            id="unknown-parent",
        ),
        pytest.param(
            _set(0, "parent_code", None),
            True,
            [
                ("unknown-parent", (G1,), None, True),
                ("gap", (UNIT, G2, G3, G4), _area(121.40, 31.20, 121.41, 31.21), True),
            ],
            id="no-parent-code",
        ),
        pytest.param(
            _set(3, "geometry", shapely.box(121.51, 31.21, 121.52, 31.22)),
            True,
            [
                ("outside-parent", (G4, UNIT), _area(121.51, 31.21, 121.52, 31.22), True),
                ("gap", (UNIT, G1, G2, G3), CELL, True),
            ],
            id="outside-parent",
        ),
    ],
)
def test_changes(
    unit: Layer, change: Callable[[gpd.GeoDataFrame], None], with_parent: bool, expected: list
) -> None:
    grids = _layer("layer_grids")
    change(grids.frame)
    _assert_problems(validate_layer(grids, unit if with_parent else None), expected)


def test_check_layer_refuses_with_the_full_list(unit: Layer) -> None:
    grids = _layer("layer_grids_overlap")
    with pytest.raises(InvalidLayer, match="1 blocking problem.*1 overlap") as caught:
        check_layer(grids, unit)
    assert caught.value.problems == validate_layer(grids, unit)


def test_check_layer_lets_noise_through(unit: Layer) -> None:
    grids = _layer("layer_grids")
    grids.frame.loc[0, "geometry"] = T_JUNCTION
    assert [p.kind for p in check_layer(grids, unit)] == ["unmatched-edge"]
    assert check_layer(_layer("layer_grids"), unit) == []


def test_problem_geometry_is_the_offending_part() -> None:
    (overlap,) = validate_layer(_layer("layer_grids_overlap"))
    assert overlap.geometry is not None
    assert overlap.geometry.bounds == pytest.approx((121.409, 31.20, 121.41, 31.21))
    assert overlap.location == pytest.approx((121.4095, 31.205))
    assert "310106113001 and 310106113002 overlap by 105,7" in overlap.message


def test_invalid_geometry_says_why_and_where() -> None:
    (invalid,) = validate_layer(_layer("layer_grids_bowtie"))
    assert invalid.location == pytest.approx((121.405, 31.205))
    assert invalid.geometry == shapely.Point(121.405, 31.205)
    assert "Self-intersection at (121.405, 31.205)" in invalid.message


def test_to_dict_is_json_ready(unit: Layer) -> None:
    (gap,) = validate_layer(_layer("layer_grids_gap"), unit)
    data = json.loads(json.dumps(gap.to_dict()))
    assert data["kind"] == "gap"
    assert data["codes"] == [UNIT, G1, G2, G3, G4]
    assert data["geometry"]["type"] == "Polygon"
    assert data["blocking"] is True
    assert data["area_m2"] == pytest.approx(NOTCH, rel=0.01)


def _streets(*rows: tuple[str, shapely.Geometry | None]) -> Layer:
    frame = gpd.GeoDataFrame(
        {"code": [c for c, _ in rows], "name": "路", "parent_code": UNIT},
        geometry=[g for _, g in rows],
        crs=CGCS2000,
    )
    return Layer(LayerKind.STREETS, frame)


def test_streets_get_no_coverage_checks() -> None:
    streets = _streets(
        ("s1", shapely.LineString([(121.40, 31.20), (121.42, 31.22)])),
        ("s2", shapely.LineString([(121.40, 31.22), (121.42, 31.20)])),  # crosses s1: fine
        ("s2", shapely.LineString([(121.41, 31.20), (121.41, 31.22)])),
        ("s4", None),
        ("s5", shapely.box(121.40, 31.20, 121.41, 31.21)),
    )
    assert _summary(validate_layer(streets)) == [
        ("duplicate-code", ("s2",), True),
        ("empty-geometry", ("s4",), True),
        ("wrong-geometry-type", ("s5",), True),
    ]


def test_a_jurisdiction_may_have_holes() -> None:
    town = shapely.box(121.40, 31.20, 121.42, 31.22).difference(
        shapely.box(121.405, 31.205, 121.41, 31.21)
    )
    frame = gpd.GeoDataFrame(
        {"code": ["310106"], "name": ["彭浦镇"], "parent_code": [""]}, geometry=[town], crs=CGCS2000
    )
    assert validate_layer(Layer(LayerKind.JURISDICTION, frame)) == []


def test_the_parent_must_be_the_level_above(unit: Layer) -> None:
    with pytest.raises(InvalidInput, match="against a units layer, not grids"):
        validate_layer(_layer("layer_grids"), _layer("layer_grids"))


def _tiling(rows: int, cols: int, removed: tuple[int, int] | None) -> tuple[Layer, Layer, float]:
    """A rows x cols tiling of 0.001-degree cells, one cell left out; and its parent."""
    size, x0, y0 = 0.001, 121.40, 31.20
    cells, codes, gone = [], [], 0.0
    for r in range(rows):
        for c in range(cols):
            box = (x0 + c * size, y0 + r * size, x0 + (c + 1) * size, y0 + (r + 1) * size)
            if (r, c) == removed:
                gone = _area(*box)
                continue
            cells.append(shapely.box(*box))
            codes.append(f"{UNIT}{r:02d}{c:02d}")
    grids = gpd.GeoDataFrame({"code": codes, "name": codes, "parent_code": UNIT}, geometry=cells)
    whole = shapely.box(x0, y0, x0 + cols * size, y0 + rows * size)
    parent = gpd.GeoDataFrame(
        {"code": [UNIT], "name": ["u"], "parent_code": ["310106"]}, geometry=[whole]
    )
    return (
        Layer(LayerKind.GRIDS, grids.set_crs(CGCS2000)),
        Layer(LayerKind.UNITS, parent.set_crs(CGCS2000)),
        gone,
    )


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_one_missing_cell_is_one_gap_of_its_area(data: st.DataObject) -> None:
    rows = data.draw(st.integers(1, 4))
    cols = data.draw(st.integers(1 if rows > 1 else 2, 4))
    removed = (data.draw(st.integers(0, rows - 1)), data.draw(st.integers(0, cols - 1)))
    grids, parent, gone = _tiling(rows, cols, removed)
    (gap,) = validate_layer(grids, parent)
    assert (gap.kind, gap.codes[0], gap.blocking) == ("gap", UNIT, True)
    assert gap.area_m2 == pytest.approx(gone, rel=0.01)
    interior = 0 < removed[0] < rows - 1 and 0 < removed[1] < cols - 1
    assert [p.kind for p in validate_layer(grids)] == (["gap"] if interior else [])


@given(st.integers(1, 4), st.integers(1, 4))
@settings(max_examples=10, deadline=None)
def test_a_full_tiling_has_no_problems(rows: int, cols: int) -> None:
    grids, parent, _ = _tiling(rows, cols, None)
    assert validate_layer(grids, parent) == []


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize(
    ("name", "with_parent", "words"),
    [
        ("layer_grids_overlap", False, ["网格", "重叠", "m²"]),
        ("layer_grids_gap", False, ["缝隙", "没有任何网格覆盖"]),
        ("layer_grids_gap", True, ["基本管理单元", "缝隙"]),
        ("layer_grids_bowtie", False, ["不是有效的", "自相交"]),
        ("layer_grids_duplicate", False, ["编码", "同时使用"]),
        ("layer_grids_crossing", True, ["超出所属基本管理单元"]),
    ],
)
def test_a_planner_reads_each_problem_in_chinese(
    unit: Layer, name: str, with_parent: bool, words: list[str]
) -> None:
    """The checks say each problem by catalogue key: Chinese for the planner, the English
    ``message`` unchanged, the same codes named in both."""
    problems = validate_layer(_layer(name), unit if with_parent else None)
    assert problems
    for problem in problems:
        zh, en = problem.message_in("zh"), problem.message_in("en")
        assert en == problem.message and not _cjk(en)
        assert _cjk(zh) and all(code in zh for code in problem.codes), zh
        assert problem.to_dict("zh")["message"] == zh
    said = " ".join(p.message_in("zh") for p in problems)
    assert all(word in said for word in words), said


def test_a_refused_layer_names_its_first_problem_in_chinese(unit: Layer) -> None:
    with pytest.raises(InvalidLayer) as refused:
        check_layer(_layer("layer_grids_overlap"), unit)
    assert "重叠" in refused.value.render(lambda name: f"--{name}", "zh")
