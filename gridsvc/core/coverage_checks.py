"""Checks of one level's features against each other: overlaps, holes, unmatched edges.

A point in an overlap has two owners and a hole has none; both block. Edges
that meet without sharing vertices do not block (matching is unaffected), but
coverage operations need them snapped.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gridsvc.core.layers import LayerKind
from gridsvc.core.messages import Msg
from gridsvc.core.problems import (
    NEAR_DEG,
    NOUNS,
    Finding,
    Level,
    Problem,
    ProblemKind,
    area_text,
    areas_m2,
    point_on,
    polygonal,
    projected,
    report_findings,
    touching,
)


def overlapping_pairs(level: Level) -> list[tuple[int, int]]:
    """Positions (i < j) of features whose interiors share area."""
    left, right = level.tree.query(level.shapes, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    inner = shapely.relate_pattern(level.shapes[left], level.shapes[right], "2********")
    return [(int(a), int(b)) for a, b in zip(left[inner], right[inner], strict=True)]


def overlap_problems(level: Level, pairs: list[tuple[int, int]]) -> list[Problem]:
    """Each overlapping pair with its shared area: a point there has two owners."""
    shapes = level.shapes
    shared = [polygonal(shapely.intersection(shapes[a], shapes[b])) for a, b in pairs]
    noun = NOUNS[level.kind]
    findings = []
    for (a, b), shape, area in zip(pairs, shared, areas_m2(shared, level.epsg), strict=True):
        first, second = sorted((level.label(a), level.label(b)))
        text = Msg(
            "problem.overlap",
            noun=noun,
            first=first,
            second=second,
            area=area_text(area),
            where=point_on(shape),
        )
        codes = tuple(sorted(c for c in (level.codes[a], level.codes[b]) if c))
        findings.append(Finding(codes, shape, float(area), text))
    return report_findings(
        ProblemKind.OVERLAP, findings, lambda n: Msg("problem.overlap_noise", count=n, noun=noun)
    )


def _unmatched_edges(
    level: Level, pairs: list[tuple[int, int]]
) -> dict[tuple[int, ...], list[BaseGeometry]]:
    """Invalid coverage edges grouped by the features they run between.

    ``coverage_invalid_edges`` also flags every edge of an overlapping pair
    that runs along the other one; the overlap explains those, so a piece of
    edge near a feature it overlaps is left out.
    """
    present = np.flatnonzero(shapely.is_geometry(level.shapes))
    shapes = level.shapes[present]
    groups: dict[tuple[int, ...], list[BaseGeometry]] = defaultdict(list)
    if shapely.coverage_is_valid(shapes):
        return groups
    overlapping = set(pairs)
    for i, edges in zip(present.tolist(), shapely.coverage_invalid_edges(shapes), strict=True):
        pieces = [] if edges is None or edges.is_empty else shapely.get_parts(edges)
        for piece in pieces:
            others = _alongside(level, piece, i)
            if not any((min(i, j), max(i, j)) in overlapping for j in others):
                groups[tuple(sorted({i, *others}))].append(piece)
    return groups


def _alongside(level: Level, piece: BaseGeometry, owner: int) -> list[int]:
    """Features other than ``owner`` that a piece of edge runs along (not just touches)."""
    reach = touching(level, piece, exclude=[owner])
    runs = shapely.length(
        shapely.intersection(piece, shapely.buffer(level.shapes[reach], NEAR_DEG))
    )
    return [j for j, run in zip(reach, runs, strict=True) if run > 10 * NEAR_DEG]


def unmatched_edge_problems(level: Level, pairs: list[tuple[int, int]]) -> list[Problem]:
    """Shared boundaries drawn without shared vertices (T-junctions): not blocking."""
    noun = NOUNS[level.kind]
    problems = []
    for key, pieces in _unmatched_edges(level, pairs).items():
        shape = shapely.line_merge(shapely.union_all(pieces))
        metres = float(shapely.length(projected([shape], level.epsg))[0])
        problems.append(
            Problem.of(
                ProblemKind.UNMATCHED_EDGE,
                Msg("problem.unmatched_edge", noun=noun, names=level.named(key), metres=metres),
                codes=tuple(level.codes[i] for i in key if level.codes[i]),
                location=point_on(shapely.line_interpolate_point(shape, 0.5, normalized=True)),
                geometry=shape,
                blocking=False,
            )
        )
    return problems


def hole_problems(level: Level) -> list[Problem]:
    """Without the parent, a gap is a hole enclosed by the level that no feature covers."""
    if level.kind == LayerKind.JURISDICTION:
        return []
    union = polygonal(shapely.union_all([s for s in level.shapes if s is not None]))
    holes = [shapely.Polygon(ring) for part in shapely.get_parts(union) for ring in part.interiors]
    noun = NOUNS[level.kind]
    findings = []
    for hole, area in zip(holes, areas_m2(holes, level.epsg), strict=True):
        around = touching(level, hole)
        text = Msg(
            "problem.hole",
            area=area_text(area),
            where=point_on(hole),
            noun=noun,
            names=level.named(around),
        )
        findings.append(Finding(tuple(level.codes[i] for i in around), hole, float(area), text))
    return report_findings(
        ProblemKind.GAP, findings, lambda n: Msg("problem.hole_noise", count=n, noun=noun)
    )
