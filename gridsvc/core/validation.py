"""Checks on a layer that a planner can act on before it is published.

Planners redraw boundaries in desktop GIS. Before a layer goes live every
problem is listed with the codes involved, where it is (lon, lat) and how big
it is (m², measured in the layer's Gauss-Krüger zone), so they can fix the
file and load it again. Nothing is repaired here: :func:`check_layer` refuses
invalid input with the full list.

Blocking rule: every problem found is reported. Overlaps, gaps and parts
outside the parent smaller than :data:`NOISE_M2` (0.01 m², the size of the
numerical noise between two digitisations of one boundary) do not block and
are gathered into one problem per kind, so noise cannot bury real errors.
Edges that meet a neighbour without sharing its vertices (``unmatched-edge``,
found with ``shapely.coverage_invalid_edges``) do not block either: matching a
point is unaffected, but coverage operations need the edges snapped.
Everything else blocks.

Geometric comparisons use each polygon as repaired by ``make_valid``, so an
invalid feature (already reported) neither hides nor invents its neighbours'
problems; the repair is never returned.

This module holds the entry points and the checks of single features (codes,
geometry); :mod:`gridsvc.core.coverage_checks` checks a level's features against
each other, :mod:`gridsvc.core.nesting_checks` against the level above, and
:mod:`gridsvc.core.problems` holds what they report and measure with.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace

import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gridsvc.core.coverage_checks import (
    hole_problems,
    overlap_problems,
    overlapping_pairs,
    unmatched_edge_problems,
)
from gridsvc.core.errors import InvalidInput, InvalidLayer
from gridsvc.core.kinds import allowed_parents
from gridsvc.core.layers import POLYGON_KINDS, Layer
from gridsvc.core.messages import Msg
from gridsvc.core.nesting_checks import (
    overhang_problems,
    parent_gap_problems,
    unknown_parent_problems,
)
from gridsvc.core.problems import (
    LINE_TYPES,
    NOISE_M2,
    NOUNS,
    POLYGON_TYPES,
    SLIVER_M2,
    Problem,
    ProblemKind,
    codes_of,
    feature_label,
    point_on,
    prepare_level,
)

__all__ = [
    "NOISE_M2",
    "SLIVER_M2",
    "Problem",
    "ProblemKind",
    "check_layer",
    "code_problems",
    "geometry_type_problems",
    "validate_layer",
]


def check_layer(layer: Layer, parent: Layer | None = None) -> list[Problem]:
    """Validate and refuse: raise :class:`InvalidLayer` listing every problem if any blocks.

    Returns the non-blocking problems (noise-sized slivers, unmatched edges)
    when the layer may be used.
    """
    problems = validate_layer(layer, parent)
    blocking = [p for p in problems if p.blocking]
    if not blocking:
        return problems
    counts = pd.Series([str(p.kind) for p in blocking]).value_counts()
    summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    raise InvalidLayer(
        Msg(
            "validation.blocking",
            kind=layer.kind,
            blocking=len(blocking),
            summary=summary,
            first=blocking[0].text or blocking[0].message,
        ),
        problems=problems,
    )


def validate_layer(
    layer: Layer, parent: Layer | None = None, sliver_m2: float = SLIVER_M2
) -> list[Problem]:
    """Every problem in ``layer``, and against ``parent`` (the level above) when given.

    Polygon levels are checked for overlaps and gaps (holes in the level, or
    the parts of each parent its children leave uncovered when the parent is
    given); streets only for codes and geometry. A ``parent`` of any other
    kind than the level above (``kinds.allowed_parents``) is refused with InvalidInput.
    Blocking gaps and overlaps under ``sliver_m2`` are reported as slivers:
    they still block, and the ``close_slivers`` repair closes them.
    """
    if sliver_m2 < 0:
        raise InvalidInput(Msg("validation.sliver", sliver_m2=sliver_m2))
    return _mark_slivers(_problems(layer, parent), sliver_m2)


def _mark_slivers(problems: list[Problem], sliver_m2: float) -> list[Problem]:
    """Gaps and overlaps under the sliver area, renamed so a planner sees the one-click fix."""
    out = []
    for p in problems:
        small = p.area_m2 is not None and p.area_m2 < sliver_m2
        if p.blocking and small and p.kind in (ProblemKind.GAP, ProblemKind.OVERLAP):
            inner = p.text if p.text is not None else p.message
            text = Msg("problem.sliver", kind=str(p.kind), inner=inner)
            p = replace(p, kind=ProblemKind.SLIVER, message=text.text("en"), text=text)
        out.append(p)
    return out


def _problems(layer: Layer, parent: Layer | None) -> list[Problem]:
    _check_parent_kind(layer, parent)
    if layer.frame.crs is None:
        text = Msg("problem.missing_crs", kind=str(layer.kind))
        return [Problem.of(ProblemKind.MISSING_CRS, text)]
    problems = code_problems(layer) + _geometry_problems(layer)
    if layer.kind not in POLYGON_KINDS:
        return problems
    level = prepare_level(layer)
    if level is None:
        return problems
    pairs = overlapping_pairs(level)
    problems += overlap_problems(level, pairs) + unmatched_edge_problems(level, pairs)
    if parent is None:
        return problems + hole_problems(level)
    parents = prepare_level(parent, epsg=level.epsg)
    problems += unknown_parent_problems(layer, parent)
    if parents is not None:
        problems += overhang_problems(level, parents) + parent_gap_problems(level, parents)
    return problems


def geometry_type_problems(layer: Layer) -> list[Problem]:
    """Features whose geometry is of the wrong type for the level (points among grids)."""
    allowed = POLYGON_TYPES if layer.kind in POLYGON_KINDS else LINE_TYPES
    noun = NOUNS[layer.kind]
    problems = []
    for i, (code, geom) in enumerate(
        zip(codes_of(layer.frame["code"]), layer.frame.geometry, strict=True)
    ):
        if geom is None or geom.is_empty or geom.geom_type in allowed:
            continue
        problems.append(
            Problem.of(
                ProblemKind.WRONG_GEOMETRY_TYPE,
                Msg(
                    "problem.wrong_type",
                    noun=noun,
                    label=feature_label(code, i),
                    got=geom.geom_type,
                    kind=str(layer.kind),
                    allowed=list(allowed),
                ),
                codes=(code,) if code else (),
                location=point_on(geom),
            )
        )
    return problems


def _check_parent_kind(layer: Layer, parent: Layer | None) -> None:
    """Children name their direct parent by code, so only that level can be their parent."""
    if parent is None:
        return
    expected = allowed_parents(layer.kind)
    if parent.kind not in expected:
        kinds = [str(k) for k in expected]
        if not kinds:
            raise InvalidInput(Msg("validation.no_parent", kind=layer.kind, parent=parent.kind))
        raise InvalidInput(
            Msg("validation.parent_kind", kind=layer.kind, expected=kinds, parent=parent.kind)
        )


def code_problems(layer: Layer) -> list[Problem]:
    """Codes identify features across versions and cases: each must exist and be unique."""
    codes = codes_of(layer.frame["code"])
    noun = NOUNS[layer.kind]
    problems = []
    for i, (code, name, geom) in enumerate(
        zip(codes, layer.frame["name"], layer.frame.geometry, strict=True)
    ):
        if not code:
            label = feature_label(code, i)
            text = (
                Msg("problem.missing_code_named", noun=noun, label=label, name=name)
                if isinstance(name, str) and name.strip()
                else Msg("problem.missing_code", noun=noun, label=label)
            )
            problems.append(Problem.of(ProblemKind.MISSING_CODE, text, location=point_on(geom)))
    positions: dict[str, list[str]] = defaultdict(list)
    for i, code in enumerate(codes):
        if code:
            positions[code].append(f"#{i + 1}")
    for code, rows in positions.items():
        if len(rows) > 1:
            text = Msg(
                "problem.duplicate_code",
                code=code,
                count=len(rows),
                kind=str(layer.kind),
                rows=rows,
            )
            problems.append(Problem.of(ProblemKind.DUPLICATE_CODE, text, codes=(code,)))
    return problems


def _geometry_problems(layer: Layer) -> list[Problem]:
    """Missing, empty, wrongly typed and invalid geometries."""
    codes = codes_of(layer.frame["code"])
    noun = NOUNS[layer.kind]
    problems = []
    for i, geom in enumerate(layer.frame.geometry):
        label = feature_label(codes[i], i)
        if geom is None or geom.is_empty:
            problems.append(
                Problem.of(
                    ProblemKind.EMPTY_GEOMETRY,
                    Msg("problem.no_geometry", noun=noun, label=label),
                    codes=(codes[i],) if codes[i] else (),
                )
            )
        elif not geom.is_valid:
            problems.append(_invalid_problem(noun, label, codes[i], geom))
    return problems + geometry_type_problems(layer)


def _invalid_problem(noun: str, label: str, code: str, geom: BaseGeometry) -> Problem:
    """GEOS says why and where a geometry is invalid; pass both on."""
    reason = shapely.is_valid_reason(geom)
    found = re.search(r"\[(\S+) (\S+)\]", reason)
    where = None
    if found:
        where = (round(float(found.group(1)), 7), round(float(found.group(2)), 7))
    said = {"noun": noun, "label": label, "type": geom.geom_type}
    said["reason"] = reason[: found.start()] if found else reason
    text = (
        Msg("problem.invalid_at", x=where[0], y=where[1], **said)
        if where
        else Msg("problem.invalid", **said)
    )
    return Problem.of(
        ProblemKind.INVALID_GEOMETRY,
        text,
        codes=(code,) if code else (),
        location=where,
        geometry=shapely.Point(where) if where else None,
    )
