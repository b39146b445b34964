"""Publish remembers a draft's validation by content (Planning._validated): the same
draft is not checked twice, and any edit of it, however small, is checked afresh, so a
publish still refuses an invalid layer."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from gridsvc.core.errors import InvalidLayer
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.services import planning as planning_module
from gridsvc.services.planning import Planning, content_digest
from gridsvc.store import reference
from gridsvc.store.engine import make_engine, upgrade


def _grids(overlap_m: float = 0.0, names: list | None = None) -> Layer:
    """Two grids side by side; the second reaches ``overlap_m`` metres into the first."""
    step = overlap_m / 111_000.0
    frame = gpd.GeoDataFrame(
        {
            "code": ["G1", "G2"],
            "name": names or ["甲", "乙"],
            "parent_code": "U",
            "team": ["T1", "T2"],
        },
        geometry=[
            shapely.box(121.0, 31.0, 121.01, 31.01),
            shapely.box(121.01 - step, 31.0, 121.02, 31.01),
        ],
        crs="EPSG:4490",
    )
    return Layer(LayerKind.GRIDS, frame)


@pytest.fixture
def planning(tmp_path: Path) -> Planning:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        reference.publish_layer(conn, _grids(), "first")
    return Planning(engine)


def test_an_edit_after_a_clean_validation_is_validated_again_and_refused(
    planning: Planning, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = planning_module.validate_layer
    monkeypatch.setattr(planning_module, "validate_layer", lambda *a: calls.append(1) or real(*a))
    draft = planning.add_draft(_grids(), "clean")["id"]
    assert planning.validation(LayerKind.GRIDS, draft)["blocking"] == 0
    assert len(calls) == 1  # the upload's validation answered the page's
    active = planning.active_version(LayerKind.GRIDS)
    with planning.engine.begin() as conn:  # an edit: the second grid moved 5 m into the first
        reference.replace_draft(conn, draft, _grids(overlap_m=5.0), active)  # type: ignore[arg-type]
    with pytest.raises(InvalidLayer):
        planning.publish(LayerKind.GRIDS, draft, draft, active)
    assert len(calls) == 2
    assert planning.validation(LayerKind.GRIDS, draft)["blocking"] >= 1
    assert len(calls) == 2


def test_the_digest_tells_apart_what_validation_could_tell_apart() -> None:
    base = content_digest(_grids())
    assert content_digest(_grids()) == base
    frame = _grids().frame.copy()
    shapes = frame.geometry.to_numpy().copy()
    shapes[1] = shapely.transform(shapes[1], lambda xy: xy + 1e-12)  # a few ulps at 121°
    nudged = Layer(LayerKind.GRIDS, frame.set_geometry(gpd.GeoSeries(shapes, crs=frame.crs)))
    others = [
        _grids(overlap_m=0.001),
        nudged,
        _grids(names=["甲", None]),
        _grids(names=["甲", ""]),
        Layer(LayerKind.UNITS, _grids().frame),
        Layer(LayerKind.GRIDS, _grids().frame.to_crs("EPSG:4549").to_crs("EPSG:4490")),
        Layer(LayerKind.GRIDS, _grids().frame.assign(parent_code=["U", "V"])),
    ]
    digests = [content_digest(layer) for layer in others]
    assert base not in digests and len(set(digests)) == len(digests)
    assert content_digest(None) == b""
