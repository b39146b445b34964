"""The matcher's index file: read back it answers exactly as the build, and a file that does
not fit (cut short, a flipped byte, other layers, another format) is never used (issue 21)."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity

from gridsvc.config import DEMO_DIR
from gridsvc.core.crs import parse_crs
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.matching import Matcher
from gridsvc.services.matching import shared_matcher
from gridsvc.store import index_cache
from gridsvc.town import Town, load_town_file

VERSIONS = {kind: i + 1 for i, kind in enumerate(LayerKind)}
CGCS = parse_crs("cgcs2000")


@pytest.fixture(scope="module")
def town() -> Town:
    return load_town_file(DEMO_DIR / "shifan.gpkg")


@pytest.fixture(scope="module")
def built(town: Town) -> Matcher:
    return town.matcher()


def _edge_points(town: Town) -> np.ndarray:
    """Points on and within a hair (1e-9 to 1e-6 degrees) of the grids' vertices and edge
    midpoints, and random points over the town and past its edge."""
    rng = np.random.default_rng(21)
    grids = np.asarray(town.layers[LayerKind.GRIDS].frame.geometry.array, dtype=object)
    rings = shapely.get_coordinates(shapely.boundary(grids))
    mids = (rings[:-1] + rings[1:]) / 2
    near = np.r_[rings, mids]
    near = near[rng.choice(len(near), min(4000, len(near)), replace=False)]
    offsets = rng.normal(0, 1, near.shape) * 10.0 ** rng.integers(-9, -5, (len(near), 1))
    minx, miny, maxx, maxy = shapely.total_bounds(grids)
    spread = np.column_stack(
        [rng.uniform(minx - 0.02, maxx + 0.02, 3000), rng.uniform(miny - 0.02, maxy + 0.02, 3000)]
    )
    return np.r_[near, near + offsets, spread]


def _answers(matcher: Matcher, points: np.ndarray) -> tuple[pd.DataFrame, list[object]]:
    frame = matcher.frame(matcher.match_points(points[:, 0], points[:, 1], CGCS))
    one = []
    for x, y in points[::7]:
        try:
            one.append(matcher.match_point(x, y, CGCS))
        except Exception as exc:  # noqa: BLE001 - the refusal is part of the answer
            one.append((type(exc).__name__, str(exc)))
    return frame, one


def test_a_matcher_from_its_file_answers_exactly_as_the_built_one(
    town: Town, built: Matcher, tmp_path: Path
) -> None:
    points = _edge_points(town)
    key = index_cache.layers_key(town.layers, VERSIONS, 50.0, 2.5)
    path = index_cache.file_for(tmp_path, key)
    index_cache.write(path, key, built.tables())
    tables = index_cache.read(path, key)
    assert tables is not None
    assert not tables["grids"]["nodes"].flags.writeable  # mapped read-only, not copied
    loaded = town.matcher(tables=tables)
    assert loaded.grids.locator._tree is None  # type: ignore[attr-defined]
    frame, one = _answers(built, points)
    frame2, one2 = _answers(loaded, points)
    # points on edges went to GEOS: the loaded locator built its STRtree when first asked
    assert loaded.grids.locator._tree is not None  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(frame, frame2)
    assert one == one2
    assert set(frame["status"]) == {"matched", "outside"}  # both kinds were asked


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "garbage"])
def test_a_damaged_file_is_built_and_written_again(
    town: Town, built: Matcher, tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    points = _edge_points(town)[::5]
    reference = built.frame(built.match_points(points[:, 0], points[:, 1], CGCS))
    first = shared_matcher(town, VERSIONS, 50.0, 2.5, tmp_path)
    pd.testing.assert_frame_equal(
        reference, first.frame(first.match_points(points[:, 0], points[:, 1], CGCS))
    )
    del first  # its map goes: a file in use is never changed in place (a SIGBUS)
    gc.collect()
    (path,) = tmp_path.glob("matcher-*.idx")
    size = path.stat().st_size
    raw = bytearray(path.read_bytes())
    if damage == "truncate":
        raw = raw[: size // 2]
    elif damage == "flip":
        raw[size - 100] ^= 0x40  # in the payload, past the header
    elif damage == "empty":
        raw = bytearray()
    else:
        raw[:16] = b"not an index!..."
    path.chmod(0o644)  # written read-only
    path.write_bytes(bytes(raw))
    again = shared_matcher(town, VERSIONS, 50.0, 2.5, tmp_path)
    assert "not used" in caplog.text
    assert path.stat().st_size == size  # written again, whole
    key = index_cache.layers_key(town.layers, VERSIONS, 50.0, 2.5)
    assert index_cache.read(path, key) is not None
    got = again.frame(again.match_points(points[:, 0], points[:, 1], CGCS))
    pd.testing.assert_frame_equal(reference, got)


def test_the_key_follows_the_layers_and_the_settings(town: Town) -> None:
    """A database made again numbers its versions from 1 again: the same ids over other
    geometries or codes must not find the old file."""
    key = index_cache.layers_key(town.layers, VERSIONS, 50.0, 2.5)
    assert key == index_cache.layers_key(town.layers, dict(VERSIONS), 50.0, 2.5)
    assert key != index_cache.layers_key(town.layers, VERSIONS, 60.0, 2.5)
    assert key != index_cache.layers_key(town.layers, VERSIONS, 50.0, 5.0)
    other = dict(VERSIONS) | {LayerKind.GRIDS: 99}
    assert key != index_cache.layers_key(town.layers, other, 50.0, 2.5)
    grids = town.layers[LayerKind.GRIDS]
    geoms = np.asarray(grids.frame.geometry.array, dtype=object).copy()
    geoms[0] = shapely.affinity.translate(geoms[0], 1e-9)  # a millimetre or so
    moved = grids.frame.set_geometry(list(geoms), crs=grids.frame.crs)
    shifted = dict(town.layers) | {LayerKind.GRIDS: Layer(grids.kind, moved)}
    assert key != index_cache.layers_key(shifted, VERSIONS, 50.0, 2.5)
    renamed = grids.frame.copy()
    renamed.loc[renamed.index[0], "code"] = "X" + str(renamed["code"].iloc[0])
    recoded = dict(town.layers) | {LayerKind.GRIDS: Layer(grids.kind, renamed)}
    assert key != index_cache.layers_key(recoded, VERSIONS, 50.0, 2.5)


def test_a_file_of_another_key_is_not_read(town: Town, built: Matcher, tmp_path: Path) -> None:
    path = tmp_path / "matcher-x.idx"
    index_cache.write(path, "a" * 64, built.tables())
    assert index_cache.read(path, "a" * 64) is not None
    assert index_cache.read(path, "b" * 64) is None
    assert index_cache.read(tmp_path / "missing.idx", "a" * 64) is None


def test_a_directory_that_cannot_be_written_only_costs_the_build(
    town: Town, built: Matcher, tmp_path: Path
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the directory should be")
    m = shared_matcher(town, VERSIONS, 50.0, 2.5, blocked / "cache")
    points = _edge_points(town)[::9]
    pd.testing.assert_frame_equal(
        built.frame(built.match_points(points[:, 0], points[:, 1], CGCS)),
        m.frame(m.match_points(points[:, 0], points[:, 1], CGCS)),
    )


def test_old_files_are_pruned(built: Matcher, tmp_path: Path) -> None:
    tables = {"grid_town": built.tables()["grid_town"]}
    paths = [tmp_path / f"matcher-{i}.idx" for i in range(6)]
    for i, path in enumerate(paths):
        index_cache.write(path, str(i), tables)
        os.utime(path, (1000 + i, 1000 + i))
    index_cache.prune(tmp_path, keep=paths[0])
    left = sorted(p.name for p in tmp_path.glob("matcher-*.idx"))
    assert left == ["matcher-0.idx", "matcher-3.idx", "matcher-4.idx", "matcher-5.idx"]


def test_the_default_directory_lies_beside_the_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'g.db'}"
    assert index_cache.directory_for(url) == tmp_path / "var" / "index-cache"
    assert index_cache.directory_for(url, tmp_path / "x") == tmp_path / "x"
    elsewhere = index_cache.directory_for("postgresql+psycopg://h/db")
    assert elsewhere.name.startswith("gridsvc-index-cache")
    assert index_cache.directory_for("sqlite:///:memory:") == elsewhere
