"""Which cases a redraw moves, computed in columns: empty places must compare as equal."""

from __future__ import annotations

import geopandas as gpd
import shapely

from gridsvc.core.layers import Layer, LayerKind
from gridsvc.services.impact import case_columns, feature_changes, moved_cases, rematched_places


def grids(team_b: str = "T2") -> Layer:
    frame = gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["甲", "乙"], "parent_code": "U", "team": ["T1", team_b]},
        geometry=[
            shapely.box(121.0, 31.0, 121.01, 31.01),
            shapely.box(121.01, 31.0, 121.02, 31.01),
        ],
        crs="EPSG:4490",
    )
    return Layer(LayerKind.GRIDS, frame)


def cases() -> dict:
    rows = [
        (1, "C1", "dispatched", 121.005, 31.005, "A", None, None, "T1", None),
        (2, "C2", "closed", 121.015, 31.005, "B", None, None, "T2", None),
        (3, "C3", "reported", 121.5, 31.5, None, None, None, None, None),  # placed nowhere
    ]
    return case_columns(rows)


def test_an_unchanged_draft_moves_nothing_even_where_places_are_empty() -> None:
    layer = grids()
    after = rematched_places(LayerKind.GRIDS, {LayerKind.GRIDS: layer}, grids(), cases())
    assert moved_cases(cases(), after) == []


def test_a_team_change_moves_the_cases_of_that_grid_only() -> None:
    after = rematched_places(LayerKind.GRIDS, {LayerKind.GRIDS: grids()}, grids("T9"), cases())
    (move,) = moved_cases(cases(), after)
    assert move["number"] == "C2" and move["open"] is False
    assert move["from"] == {
        "grid_code": "B",
        "unit_code": None,
        "committee_code": None,
        "team": "T2",
        "town_code": None,
    }
    assert move["to"] == {
        "grid_code": "B",
        "unit_code": None,
        "committee_code": None,
        "team": "T9",
        "town_code": None,
    }


def _jittered(layer: Layer, metres: float) -> Layer:
    """Every vertex moved by about ``metres`` (a degree of latitude is 111 km)."""
    step = metres / 111_000.0
    frame = layer.frame.copy()
    frame["geometry"] = shapely.transform(frame.geometry.to_numpy(), lambda xy: xy + step / 2**0.5)
    return Layer(LayerKind.GRIDS, frame)


def test_sub_millimetre_jitter_is_no_change_but_a_metre_is() -> None:
    """Finding (issue 19, 8): a file round-tripped through another GIS showed every grid changed."""
    assert feature_changes(grids(), _jittered(grids(), 0.0005))["changed"] == []
    changed = feature_changes(grids(), _jittered(grids(), 1.0))["changed"]
    assert [c["code"] for c in changed] == ["A", "B"]
    assert all(c["geometry_changed"] and not c["attributes_changed"] for c in changed)
