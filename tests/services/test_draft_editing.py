"""Editing a draft feature by feature: ETags, turns, and problems kept current around edits.

The check that matters: after every edit the problems kept incrementally are
the problems a whole validation of the stored draft finds.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from gridsvc.core.errors import Conflict, InvalidInput, NotFound, PreconditionRequired, StaleVersion
from gridsvc.core.layers import PARENT_KIND, LayerKind
from gridsvc.core.validation import Problem, validate_layer
from gridsvc.services.draft_editing import DraftEditor, FeatureInput
from gridsvc.services.layers import StoredLayers
from gridsvc.services.planning import Planning
from gridsvc.store import draft_features, reference


@pytest.fixture(scope="module")
def planning(engine: Engine) -> Planning:
    return Planning(engine)


@pytest.fixture
def draft(engine: Engine, planning: Planning) -> int:
    """A fresh draft of the active grids, as a planner starts one."""
    with engine.connect() as conn:
        grids = StoredLayers().active(conn)[1][LayerKind.GRIDS]
    return planning.add_draft(grids, "live edit")["id"]


@pytest.fixture
def editor(engine: Engine) -> DraftEditor:
    return DraftEditor(engine)


def stored(engine: Engine, draft: int) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r["code"]: r for r in draft_features.features(conn, draft)}


def as_input(row: dict, geometry: shapely.Geometry | None = None) -> FeatureInput:
    shape = geometry if geometry is not None else shapely.from_wkb(row["geom_wkb"])
    return FeatureInput(row["code"], row["name"], row["parent_code"], row["attrs"], shape)


def neighbours(engine: Engine, draft: int) -> tuple[dict, dict, shapely.Point]:
    """Two grids sharing a boundary, and a point on it."""
    rows = list(stored(engine, draft).values())
    shapes = [shapely.from_wkb(r["geom_wkb"]) for r in rows]
    for i, a in enumerate(shapes):
        for j in range(i + 1, len(shapes)):
            shared = a.boundary.intersection(shapes[j].boundary)
            if shared.length > 0.001:  # degrees: some 100 m of common edge
                return rows[i], rows[j], shared.interpolate(0.5, normalized=True)
    raise AssertionError("the demo grids have no neighbours")


def whole(engine: Engine, draft: int) -> list[Problem]:
    with engine.connect() as conn:
        layer = reference.load_layer(conn, LayerKind.GRIDS, draft)
        parent = StoredLayers().active(conn)[1][PARENT_KIND[LayerKind.GRIDS]]
    return validate_layer(layer, parent)


def same(found: list[Problem], expected: list[Problem]) -> None:
    """The same problems: kind, features, blocking and area to the tenth of a m²."""

    def key(p: Problem) -> tuple:
        area = None if p.area_m2 is None else round(p.area_m2, 1)
        return (p.kind, tuple(sorted(p.codes)), p.blocking, area)

    assert Counter(map(key, found)) == Counter(map(key, expected))


def grown_into(a: dict, b: dict, at: shapely.Point, metres: float) -> shapely.Geometry:
    """Grid ``a`` grown ``metres`` into grid ``b`` around a point of their edge."""
    bite = shapely.from_wkb(b["geom_wkb"]).intersection(at.buffer(metres / 111_000))
    return shapely.from_wkb(a["geom_wkb"]).union(bite)


def test_a_boundary_moved_into_the_neighbour_is_an_overlap_and_moving_it_back_mends_it(
    engine: Engine, editor: DraftEditor, draft: int
) -> None:
    a, b, at = neighbours(engine, draft)
    first = editor.problems(draft)
    moved = editor.replace(
        draft, a["code"], as_input(a, grown_into(a, b, at, 20)), editor.etag(draft, a["code"])
    )
    overlaps = [p for p in moved.problems if p.kind in ("overlap", "sliver")]
    assert [sorted(p.codes) for p in overlaps] == [sorted([a["code"], b["code"]])]
    assert overlaps[0].area_m2 == pytest.approx(3.14159 * 20**2 / 2, rel=0.2)
    same(moved.problems, whole(engine, draft))
    back = editor.replace(draft, a["code"], as_input(a), moved.etag)
    same(back.problems, first)
    same(back.problems, whole(engine, draft))
    assert back.etag == editor.etag(draft, a["code"]) != moved.etag


def test_a_deleted_grid_leaves_a_gap_and_a_new_one_fills_it(
    engine: Engine, editor: DraftEditor, draft: int
) -> None:
    a, _, _ = neighbours(engine, draft)
    gone = editor.delete(draft, a["code"], editor.etag(draft, a["code"]))
    assert gone.etag is None
    gaps = [p for p in gone.problems if p.kind == "gap"]
    assert gaps and max(p.area_m2 for p in gaps) > 1000
    same(gone.problems, whole(engine, draft))
    again = editor.create(draft, as_input({**a, "code": "G-NEW"}))
    assert not [p for p in again.problems if p.kind == "gap"]
    same(again.problems, whole(engine, draft))


def test_a_write_without_if_match_is_refused_and_a_stale_one_loses(
    engine: Engine, editor: DraftEditor, draft: int
) -> None:
    a, b, at = neighbours(engine, draft)
    with pytest.raises(PreconditionRequired):
        editor.replace(draft, a["code"], as_input(a), None)
    read = editor.etag(draft, a["code"])
    editor.update(draft, a["code"], {"name": "改名网格"}, f'"{read}"')
    with pytest.raises(StaleVersion):
        editor.replace(draft, a["code"], as_input(a, grown_into(a, b, at, 20)), read)
    assert stored(engine, draft)[a["code"]]["name"] == "改名网格"


def test_of_two_editors_who_read_one_version_exactly_one_wins(engine: Engine, draft: int) -> None:
    a, b, at = neighbours(engine, draft)
    read = DraftEditor(engine).etag(draft, a["code"])
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def edit(metres: float) -> None:
        start.wait()
        try:
            DraftEditor(engine).replace(
                draft, a["code"], as_input(a, grown_into(a, b, at, metres)), read
            )
            outcomes.append("won")
        except StaleVersion:
            outcomes.append("stale")

    threads = [threading.Thread(target=edit, args=(m,)) for m in (10, 30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["stale", "won"]


def test_an_editor_that_did_not_follow_a_draft_validates_it_whole(
    engine: Engine, draft: int
) -> None:
    """Two workers: what one wrote, the other's problems include."""
    one, two = DraftEditor(engine), DraftEditor(engine)
    a, b, at = neighbours(engine, draft)
    two.problems(draft)  # follows the draft as it was
    one.replace(draft, a["code"], as_input(a, grown_into(a, b, at, 20)), one.etag(draft, a["code"]))
    same(two.problems(draft), whole(engine, draft))
    assert any(p.kind in ("overlap", "sliver") for p in two.problems(draft))


def test_what_cannot_be_written(engine: Engine, editor: DraftEditor, draft: int) -> None:
    a, _, _ = neighbours(engine, draft)
    with pytest.raises(Conflict, match="already has"):
        editor.create(draft, as_input(a))
    with pytest.raises(InvalidInput, match="code"):
        editor.create(draft, as_input({**a, "code": " "}))
    with pytest.raises(InvalidInput, match="id"):
        editor.replace(draft, a["code"], as_input({**a, "code": "OTHER"}), "x")
    with pytest.raises(NotFound):
        editor.delete(draft, "NO-SUCH", "x")
    with pytest.raises(NotFound):
        editor.etag(10_000, a["code"])
    with engine.connect() as conn:
        published = reference.active_versions(conn)[LayerKind.GRIDS]
    with pytest.raises(Conflict, match="only a draft"):
        editor.delete(published, a["code"], "x")


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    moves=st.lists(
        st.tuples(st.integers(0, 10_000), st.floats(-60, 60), st.floats(-60, 60)),
        min_size=1,
        max_size=3,
    )
)
def test_after_any_vertex_moves_the_kept_problems_are_the_whole_validations(
    engine: Engine, planning: Planning, moves: list[tuple[int, float, float]]
) -> None:
    with engine.connect() as conn:
        grids = StoredLayers().active(conn)[1][LayerKind.GRIDS]
    draft = planning.add_draft(grids, "moves")["id"]
    editor = DraftEditor(engine)
    for which, dx, dy in moves:
        rows = list(stored(engine, draft).values())
        row = rows[which % len(rows)]
        shape = shapely.from_wkb(row["geom_wkb"])
        coords = shapely.get_coordinates(shape)
        target = coords[which % len(coords)]
        step = [dx / 96_000, dy / 111_000]  # metres as degrees near 31° N

        def move(xy, target=target, step=step):
            return xy + (abs(xy - target).sum(axis=1) < 1e-12)[:, None] * step

        moved = shapely.transform(shape, move)
        editor.replace(draft, row["code"], as_input(row, moved), editor.etag(draft, row["code"]))
    same(editor.problems(draft), whole(engine, draft))
