"""Splicing a town's redraw into the district's layer (core/splicing.py).

Two towns side by side, each 1 km², near Shanghai (CGCS2000 lon/lat): 甲 west, 乙 east.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gridsvc.core.crs import CGCS2000
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.splicing import (
    LINE_TOLERANCE_M,
    OTHER_TOWN,
    OUTSIDE_TOWN,
    features_equal,
    splice,
    strays,
)

X0, Y0 = 121.44, 31.33
DX, DY = 1000 / 95_000, 1000 / 111_000  # about a kilometre each way at 31° N
SLIVER = 10.0


def box(x0: float, x1: float, y0: float = 0.0, y1: float = 1.0) -> shapely.Polygon:
    """A box in kilometres from the district's corner."""
    return shapely.box(X0 + x0 * DX, Y0 + y0 * DY, X0 + x1 * DX, Y0 + y1 * DY)


def layer(kind: LayerKind, rows: list[tuple[str, shapely.Geometry]], **attrs: list) -> Layer:
    frame = gpd.GeoDataFrame(
        {"code": [c for c, _ in rows], "name": [c for c, _ in rows], "parent_code": "", **attrs},
        geometry=[g for _, g in rows],
        crs=CGCS2000,
    )
    return Layer(kind, frame)


TOWNS = layer(LayerKind.TOWNS, [("甲", box(0, 1)), ("乙", box(1, 2))])
GRIDS = layer(
    LayerKind.GRIDS,
    [("A1", box(0, 0.5)), ("A2", box(0.5, 1)), ("B1", box(1, 1.5)), ("B2", box(1.5, 2))],
    team=["W1", "W1", "W2", "W2"],
)


def test_a_splice_replaces_the_towns_features_and_keeps_the_others() -> None:
    redraw = layer(LayerKind.GRIDS, [("A1", box(0, 0.7)), ("A3", box(0.7, 1))])
    out = splice(GRIDS, redraw, "甲", TOWNS)
    assert sorted(out.frame["code"]) == ["A1", "A3", "B1", "B2"]
    kept = out.frame.set_index("code")
    assert kept.loc["B1", "team"] == "W2"
    assert kept.loc["A3", "team"] is None  # not NaN: attributes are stored as JSON
    assert shapely.equals(kept.loc["B2"].geometry, box(1.5, 2))


def test_two_towns_spliced_in_either_order_give_the_same_layer() -> None:
    west = layer(LayerKind.GRIDS, [("A1", box(0, 1))])
    east = layer(LayerKind.GRIDS, [("B1", box(1, 1.2)), ("B2", box(1.2, 2))])
    one = splice(splice(GRIDS, west, "甲", TOWNS), east, "乙", TOWNS)
    other = splice(splice(GRIDS, east, "乙", TOWNS), west, "甲", TOWNS)
    assert features_equal(one, other)
    assert not features_equal(one, GRIDS)


def test_an_overshoot_under_a_sliver_is_allowed_and_over_it_is_named() -> None:
    thin = layer(LayerKind.GRIDS, [("A2", box(0.5, 1.000005))])  # 5 mm over 1 km: ~5 m²
    assert strays(thin, "甲", TOWNS, GRIDS, SLIVER) == []
    wide = layer(LayerKind.GRIDS, [("A2", box(0.5, 1.002))])  # 2 m over: ~2,000 m²
    [found] = strays(wide, "甲", TOWNS, GRIDS, SLIVER)
    assert (found.kind, found.code, found.towns) == (OUTSIDE_TOWN, "A2", ("乙",))
    assert found.area_m2 is not None and 1500 < found.area_m2 < 2500
    assert found.message.startswith("A2 lies outside town 甲 (") and found.message.endswith(
        ", in 乙"
    )
    zh = found.to_dict("zh")["message"]
    assert zh.startswith("A2 超出街镇 甲 的范围") and zh.endswith("，位于 乙"), zh


def test_another_towns_code_is_named_even_inside_the_town() -> None:
    found = strays(layer(LayerKind.GRIDS, [("B1", box(0, 0.5))]), "甲", TOWNS, GRIDS, SLIVER)
    assert [(s.kind, s.code, s.towns) for s in found] == [(OTHER_TOWN, "B1", ("乙",))]
    assert "只有区里可以重划" in found[0].to_dict("zh")["message"]


def test_a_street_may_touch_the_boundary_but_not_run_over_it() -> None:
    y = Y0 + DY / 2
    edge = X0 + DX
    touching = shapely.LineString([(X0 + 0.5 * DX, y), (edge + 0.5 * LINE_TOLERANCE_M / 95_000, y)])
    crossing = shapely.LineString([(X0 + 0.5 * DX, y), (edge + 50 / 95_000, y)])
    streets = layer(LayerKind.STREETS, [("S1", touching), ("S2", crossing)])
    found = strays(streets, "甲", TOWNS, None, SLIVER)
    assert [(s.kind, s.code) for s in found] == [(OUTSIDE_TOWN, "S2")]


def test_features_are_compared_whatever_their_order() -> None:
    shuffled = Layer(LayerKind.GRIDS, GRIDS.frame.iloc[np.array([3, 1, 0, 2])])
    assert features_equal(GRIDS, shuffled)
    renamed = GRIDS.frame.copy()
    renamed.loc[0, "name"] = "改名"
    assert not features_equal(GRIDS, Layer(LayerKind.GRIDS, renamed))
