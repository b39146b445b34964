"""Repairs run only as asked, and each touched feature is listed."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from gridsvc.core.errors import InvalidInput
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.repair import apply_repairs, parse_repairs


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
