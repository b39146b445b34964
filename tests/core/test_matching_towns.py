"""District → town → grid in one lookup: a point takes the town its grid lies in.

The towns here are the two units of ``tests/data/match_units.geojson`` read as
towns of the district 310106 (west and east of 121.450), and the truth is
geopandas: the town polygon that covers the point, lowest code on an edge.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridsvc.core.crs import InputCRS, parse_crs
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.matching import MATCHED, OUTSIDE, Matcher
from gridsvc.core.validation import validate_layer
from gridsvc.town import validate_town


def _cgcs() -> InputCRS:
    return parse_crs("cgcs2000")


def _towns(match_layers: dict[str, Layer]) -> Layer:
    frame = match_layers["units"].frame.copy()
    frame["name"] = ["西镇" if c.endswith("113") else "东镇" for c in frame["code"]]
    frame["parent_code"] = "310106"
    return Layer(LayerKind.TOWNS, frame)


def _district(match_layers: dict[str, Layer]) -> Matcher:
    return Matcher(
        match_layers["grids"],
        jurisdiction=match_layers["jurisdiction"],
        towns=_towns(match_layers),
    )


def _truth(towns: Layer, x: float, y: float) -> str | None:
    hits = towns.frame[towns.frame.covers(shapely.Point(x, y))]
    return str(hits["code"].min()) if len(hits) else None


def test_a_point_is_in_the_town_its_grid_lies_in(match_layers: dict[str, Layer]) -> None:
    m = _district(match_layers)
    west = m.match_point(121.4425, 31.3275, _cgcs())
    east = m.match_point(121.4525, 31.3325, _cgcs())
    assert (west.town_code, west.town_name, west.grid_code) == ("310106113", "西镇", "310106113G03")
    assert (east.town_code, east.town_name, east.grid_code) == ("310106114", "东镇", "310106114G02")


def test_a_single_town_is_its_jurisdiction(match_layers: dict[str, Layer]) -> None:
    """Without a towns layer every point is in the one town the jurisdiction is."""
    m = Matcher(match_layers["grids"], jurisdiction=match_layers["jurisdiction"])
    hit = m.match_point(121.4525, 31.3325, _cgcs())
    code = str(match_layers["jurisdiction"].frame["code"].iloc[0])
    assert hit.town_code == code
    assert m.town_of("310106113G01") == code


def test_without_towns_or_jurisdiction_there_is_no_town(match_layers: dict[str, Layer]) -> None:
    m = Matcher(match_layers["grids"])
    assert m.match_point(121.4525, 31.3325, _cgcs()).town_code is None
    assert m.town_of("310106113G01") is None


def test_outside_the_district_names_the_nearest_town(match_layers: dict[str, Layer]) -> None:
    m = _district(match_layers)
    far = m.match_point(121.4600, 31.3300, _cgcs())  # some 450 m east of the district
    assert far.status == OUTSIDE
    assert "310106114G" in (far.reason or "") and "(town 东镇)" in (far.reason or "")


@settings(max_examples=300, deadline=None)
@given(
    x=st.floats(121.4395, 121.4555, allow_nan=False),
    y=st.floats(31.3245, 31.3355, allow_nan=False),
    snap=st.sampled_from([None, 121.445, 121.450]),
)
def test_bulk_and_one_point_give_geopandas_town(
    match_layers: dict[str, Layer], x: float, y: float, snap: float | None
) -> None:
    """Points anywhere, some exactly on the town boundary (x = 121.450) or a grid edge."""
    x = snap if snap is not None else x
    m = _district(match_layers)
    towns = _towns(match_layers)
    one = m.match_point(x, y, _cgcs())
    frame = m.frame(m.match_points([x], [y], _cgcs()))
    if one.status == MATCHED:
        assert one.town_code == _truth(towns, x, y)
        assert frame["town_code"].iloc[0] == one.town_code
    else:
        assert frame["town_code"].iloc[0] is None


def test_towns_nest_in_the_district_and_units_in_towns(match_layers: dict[str, Layer]) -> None:
    """The levels check against the nearest level present: units against towns, towns
    against the jurisdiction; a town that leaves part of the district uncovered is a gap."""
    towns = _towns(match_layers)
    units = match_layers["units"].frame.copy()
    units["parent_code"] = units["code"]  # each unit is a whole town here
    layers = {
        LayerKind.JURISDICTION: match_layers["jurisdiction"],
        LayerKind.TOWNS: towns,
        LayerKind.UNITS: Layer(LayerKind.UNITS, units),
    }
    assert [p for p in validate_town(layers) if p.blocking] == []
    shrunk = towns.frame.copy()
    shrunk.loc[0, "geometry"] = shrunk.geometry.iloc[0].buffer(-0.0005)
    problems = validate_layer(Layer(LayerKind.TOWNS, shrunk), match_layers["jurisdiction"])
    gaps = [p for p in problems if p.kind == "gap" and p.blocking]
    assert gaps and gaps[0].area_m2 is not None and gaps[0].area_m2 > 1_000


def test_the_matcher_costs_no_lookup_per_town(match_layers: dict[str, Layer]) -> None:
    """The towns are no index of their own: the district matcher's tables are the town's."""
    plain = Matcher(match_layers["grids"], jurisdiction=match_layers["jurisdiction"])
    assert _district(match_layers).nbytes == plain.nbytes


def test_grids_of_a_layer_far_apart_get_their_towns() -> None:
    """Two towns 80 km apart (an island town): each grid is in its own."""
    boxes = [shapely.box(121.0, 31.0, 121.01, 31.01), shapely.box(121.8, 31.5, 121.81, 31.51)]
    grids = gpd.GeoDataFrame(
        {"code": ["G1", "G2"], "name": ["一", "二"], "parent_code": ["", ""]},
        geometry=boxes,
        crs="EPSG:4490",
    )
    towns = gpd.GeoDataFrame(
        {"code": ["T2", "T1"], "name": ["岛镇", "陆镇"], "parent_code": ["D", "D"]},
        geometry=[boxes[1].buffer(0.001), boxes[0].buffer(0.001)],
        crs="EPSG:4490",
    )
    m = Matcher(Layer(LayerKind.GRIDS, grids), towns=Layer(LayerKind.TOWNS, towns))
    table = m.frame(
        m.match_points(np.array([121.005, 121.805]), np.array([31.005, 31.505]), _cgcs())
    )
    assert table["town_code"].tolist() == ["T1", "T2"]
    assert table["town_name"].tolist() == ["陆镇", "岛镇"]
