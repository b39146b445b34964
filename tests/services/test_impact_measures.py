"""The impact's shortcuts against the straightforward ways: ``equals_exact`` before the
topological ``equals`` in feature_changes, and the areas from the once-projected layers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.measures import area_km2
from gridsvc.services.impact import JITTER_M, Zoned, feature_changes


def _layer(geoms: list[shapely.Geometry], teams: list[str]) -> Layer:
    n = len(geoms)
    frame = gpd.GeoDataFrame(
        {
            "code": [f"G{i:02d}" for i in range(n)],
            "name": "网格",
            "parent_code": "U",
            "team": teams,
        },
        geometry=geoms,
        crs="EPSG:4490",
    )
    return Layer(LayerKind.GRIDS, frame)


def _straight_changed(active: Layer, draft: Layer) -> list[str]:
    """The codes feature_changes called changed before: equals, then Hausdorff for the rest."""
    epsg = draft.work_epsg()
    a = active.projected(epsg).geometry.to_numpy()
    b = draft.projected(epsg).geometry.to_numpy()
    same = shapely.equals(a, b)
    rest = np.flatnonzero(~same)
    same[rest] = shapely.hausdorff_distance(a[rest], b[rest]) <= JITTER_M
    teams = active.frame["team"].to_numpy() == draft.frame["team"].to_numpy()
    return [c for c, s, t in zip(active.frame["code"], same, teams, strict=True) if not (s and t)]


def test_the_exact_shortcut_finds_the_changes_equals_finds() -> None:
    old, new, teams_old, teams_new = [], [], [], []
    for i in range(60):
        x, y = 121.0 + (i % 10) * 0.01, 31.0 + (i // 10) * 0.01
        box = shapely.box(x, y, x + 0.01, y + 0.01)
        pick = i % 6
        if pick == 0:  # the same square, its ring started at another corner: equal, not exact
            other = shapely.Polygon(list(box.exterior.coords)[2:] + list(box.exterior.coords)[1:3])
        elif pick == 1:  # a vertex moved a metre
            other = shapely.box(x, y, x + 0.01 + 1e-5, y + 0.01)
        elif pick == 2:  # moved less than a centimetre
            other = shapely.transform(box, lambda xy: xy + 1e-8)
        elif pick == 3:  # a vertex added on an edge: equal in degrees, not once projected
            other = shapely.Polygon(
                [(x, y), (x + 0.005, y), (x + 0.01, y), (x + 0.01, y + 0.01), (x, y + 0.01)]
            )
        else:
            other = box
        old.append(box)
        new.append(other)
        teams_old.append("T1")
        teams_new.append("T2" if i % 7 == 5 else "T1")
    active, draft = _layer(old, teams_old), _layer(new, teams_new)
    got = [c["code"] for c in feature_changes(active, draft)["changed"]]
    assert got == _straight_changed(active, draft)
    assert "G01" in got and "G05" in got
    assert not {"G00", "G02", "G04", "G06"} & set(got)


def test_areas_from_the_projected_layers_are_those_measures_gives() -> None:
    boxes = [shapely.box(121.0 + i * 0.01, 31.0, 121.01 + i * 0.01, 31.01) for i in range(5)]
    active, draft = _layer(boxes, ["T"] * 5), _layer(boxes[::-1], ["T"] * 5)
    before, after = Zoned.of(active, draft).areas_km2()
    epsg = draft.work_epsg()
    assert before == area_km2(active, epsg) and after == area_km2(draft, epsg)
    assert Zoned.of(None, draft).areas_km2() == ({}, area_km2(draft, epsg))
