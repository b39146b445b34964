"""Repairs run only as asked, and each touched feature is listed."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from gridsvc.core.errors import InvalidInput
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.repair import apply_repairs, parse_repairs
from gridsvc.core.validation import validate_layer


def layer(*geoms: shapely.Geometry) -> Layer:
    frame = gpd.GeoDataFrame(
        {"code": [f"G{i}" for i in range(len(geoms))], "name": "n", "parent_code": "U"},
        geometry=list(geoms),
        crs="EPSG:4490",
    )
    return Layer(LayerKind.GRIDS, frame)


def test_make_valid_fixes_and_lists_only_the_broken() -> None:
    bowtie = shapely.Polygon([(121.0, 31.0), (121.1, 31.1), (121.1, 31.0), (121.0, 31.1)])
    good = shapely.box(121.2, 31.0, 121.3, 31.1)
    repaired, done = apply_repairs(layer(bowtie, good), ("make_valid",))
    assert [(r.repair, r.code) for r in done] == [("make_valid", "G0")]
    assert shapely.is_valid(repaired.frame.geometry).all()
    assert repaired.frame.geometry.iloc[1].equals(good)


def test_snap_moves_noise_and_says_where() -> None:
    noisy = shapely.box(121.0, 31.0, 121.1 + 3e-9, 31.1)
    clean = shapely.box(121.2, 31.0, 121.3, 31.1)
    repaired, done = apply_repairs(layer(noisy, clean), ("snap",))
    assert [r.code for r in done] == ["G0"]
    assert repaired.frame.geometry.iloc[0].bounds[2] == pytest.approx(121.1, abs=1e-12)


def test_nothing_asked_nothing_done() -> None:
    bowtie = shapely.Polygon([(121.0, 31.0), (121.1, 31.1), (121.1, 31.0), (121.0, 31.1)])
    repaired, done = apply_repairs(layer(bowtie), ())
    assert done == [] and not repaired.frame.geometry.iloc[0].is_valid


def test_unknown_repairs_are_refused() -> None:
    assert parse_repairs(" make_valid , snap ") == ("make_valid", "snap")
    with pytest.raises(InvalidInput, match="offered"):
        parse_repairs("make_valid,fill_gaps")


# ---- slivers: ~1e-5 degree is about 1 m here -------------------------------------------------

D = 0.001  # a 95 m x 111 m square


def test_a_small_overlap_is_left_to_the_lower_code() -> None:
    west = shapely.box(121.0, 31.0, 121.0 + D + 4e-6, 31.0 + D)  # 0.4 m into its neighbour
    east = shapely.box(121.0 + D, 31.0, 121.0 + 2 * D, 31.0 + D)
    before = validate_layer(layer(west, east), sliver_m2=100)  # 0.4 m x 111 m: 42 m²
    assert [p.kind.value for p in before if p.blocking] == ["sliver"]
    assert "close_slivers" in before[0].message
    repaired, done = apply_repairs(layer(west, east), ("close_slivers",), sliver_m2=100)
    assert [(r.code, r.detail.split(" of ")[0]) for r in done] == [("G1", "overlap")]
    assert "left to G0" in done[0].detail
    assert not [p for p in validate_layer(repaired) if p.blocking]
    assert repaired.frame.geometry.iloc[0].equals(west)  # the lower code keeps its shape


def test_a_small_hole_joins_the_neighbour_with_the_longest_border() -> None:
    left = shapely.box(121.0, 31.0, 121.0 + D, 31.0 + D)
    right = shapely.box(121.0 + D + 1e-5, 31.0, 121.0 + 2 * D, 31.0 + D)  # a 1 m wide gap
    top = shapely.box(121.0, 31.0 + D, 121.0 + 2 * D, 31.0 + 2 * D)
    bottom = shapely.box(121.0, 31.0 - D, 121.0 + 2 * D, 31.0)
    grids = layer(left, right, top, bottom)
    kinds = [p.kind.value for p in validate_layer(grids, sliver_m2=200) if p.blocking]
    assert kinds == ["sliver"]  # about 1 m x 111 m
    repaired, done = apply_repairs(grids, ("close_slivers",), sliver_m2=200)
    assert len(done) == 1 and done[0].code in ("G0", "G1")  # a side, not top or bottom
    assert "gap of 10" in done[0].detail  # about 1 m x 111 m = 105 m²
    assert not [p for p in validate_layer(repaired) if p.blocking]


def test_slivers_at_the_parent_boundary_are_closed_against_the_parent() -> None:
    unit = Layer(
        LayerKind.UNITS,
        gpd.GeoDataFrame(
            {"code": ["U"], "name": "u", "parent_code": "J"},
            geometry=[shapely.box(121.0, 31.0, 121.0 + 2 * D, 31.0 + D)],
            crs="EPSG:4490",
        ),
    )
    west = shapely.box(121.0, 31.0, 121.0 + D, 31.0 + D)
    east = shapely.box(121.0 + D, 31.0, 121.0 + 2 * D - 5e-6, 31.0 + D)  # 0.5 m short of the edge
    problems = validate_layer(layer(west, east), unit, sliver_m2=100)  # 0.5 m x 111 m: 53 m²
    assert [p.kind.value for p in problems if p.blocking] == ["sliver"]
    repaired, done = apply_repairs(
        layer(west, east), ("close_slivers",), parent=unit, sliver_m2=100
    )
    assert [r.code for r in done] == ["G1"]
    assert not [p for p in validate_layer(repaired, unit) if p.blocking]


def test_large_overlaps_and_gaps_are_left_to_the_planner() -> None:
    west = shapely.box(121.0, 31.0, 121.0 + D + 2e-4, 31.0 + D)  # a 19 m strip, ~2,100 m²
    east = shapely.box(121.0 + D, 31.0, 121.0 + 2 * D, 31.0 + D)
    repaired, done = apply_repairs(layer(west, east), ("close_slivers",), sliver_m2=10.0)
    assert done == []
    assert [p.kind.value for p in validate_layer(repaired) if p.blocking] == ["overlap"]


def test_the_sliver_area_is_configurable() -> None:
    west = shapely.box(121.0, 31.0, 121.0 + D + 4e-6, 31.0 + D)  # ~44 m²
    east = shapely.box(121.0 + D, 31.0, 121.0 + 2 * D, 31.0 + D)
    assert [p.kind.value for p in validate_layer(layer(west, east), sliver_m2=10)] == ["overlap"]
    assert [p.kind.value for p in validate_layer(layer(west, east), sliver_m2=100)] == ["sliver"]
    with pytest.raises(InvalidInput, match="sliver area"):
        validate_layer(layer(west, east), sliver_m2=-1)
