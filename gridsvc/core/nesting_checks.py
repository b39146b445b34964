"""Checks of a level against the level above: parents named, children inside, no gaps.

A child must name a parent that exists, lie inside it, and the children of a
parent must cover it: otherwise some ground has no team that answers for it.
"""

from __future__ import annotations

from collections import defaultdict

import shapely
from shapely.geometry.base import BaseGeometry

from gridsvc.core.layers import Layer
from gridsvc.core.messages import Msg
from gridsvc.core.problems import (
    NOISE_M2,
    NOUNS,
    Finding,
    Level,
    Problem,
    ProblemKind,
    area_text,
    areas_m2,
    codes_of,
    feature_label,
    point_on,
    polygonal,
    report_findings,
    touching,
)


def _shapes_by_code(level: Level) -> dict[str, BaseGeometry]:
    """Each code's geometry (duplicated codes are united; they are reported apart)."""
    grouped: dict[str, list[BaseGeometry]] = defaultdict(list)
    for code, shape in zip(level.codes, level.shapes, strict=True):
        if code and shape is not None:
            grouped[code].append(shape)
    return {code: shapely.union_all(shapes) for code, shapes in grouped.items()}


def unknown_parent_problems(layer: Layer, parent: Layer) -> list[Problem]:
    """A child must name a parent that exists, or no one knows who answers for it."""
    known = set(codes_of(parent.frame["code"]))
    noun, parent_noun = NOUNS[layer.kind], NOUNS[parent.kind]
    problems = []
    codes = codes_of(layer.frame["code"])
    for i, (code, parent_code) in enumerate(
        zip(codes, codes_of(layer.frame["parent_code"]), strict=True)
    ):
        if parent_code in known:
            continue
        label = feature_label(code, i)
        text = (
            Msg("problem.no_parent", noun=noun, label=label, parent=parent_noun)
            if not parent_code
            else Msg(
                "problem.unknown_parent",
                noun=noun,
                label=label,
                parent=parent_noun,
                parent_code=parent_code,
                parent_kind=str(parent.kind),
            )
        )
        problems.append(
            Problem.of(
                ProblemKind.UNKNOWN_PARENT,
                text,
                codes=tuple(c for c in (code, parent_code) if c),
                location=point_on(layer.frame.geometry.iloc[i]),
            )
        )
    return problems


def overhang_problems(level: Level, parents: Level) -> list[Problem]:
    """Children reaching outside their own parent (crosses-parent) or lying wholly
    outside it (outside-parent): the parent's team would not answer for that ground."""
    parent_shapes = _shapes_by_code(parents)
    pairs = [
        (i, parent_shapes[p])
        for i, p in enumerate(level.parent_codes)
        if p in parent_shapes and level.shapes[i] is not None
    ]
    if not pairs:
        return []
    index = [i for i, _ in pairs]
    outside = [polygonal(g) for g in shapely.difference(level.shapes[index], [p for _, p in pairs])]
    out_areas = areas_m2(outside, level.epsg)
    whole = areas_m2(list(level.shapes[index]), level.epsg)
    noun, parent_noun = NOUNS[level.kind], NOUNS[parents.kind]
    problems, findings = [], []
    for i, shape, out, area in zip(index, outside, out_areas, whole, strict=True):
        label, parent_code = level.label(i), level.parent_codes[i]
        codes = tuple(c for c in (level.codes[i], parent_code) if c)
        if area - out < NOISE_M2:
            problems.append(_outside_problem(level, parents, i, float(area)))
        elif out > 0:
            text = Msg(
                "problem.crosses_parent",
                noun=noun,
                label=label,
                area=area_text(out),
                parent=parent_noun,
                parent_code=parent_code,
                where=point_on(shape),
            )
            findings.append(Finding(codes, shape, float(out), text))
    crossing = report_findings(
        ProblemKind.CROSSES_PARENT,
        findings,
        lambda n: Msg("problem.crosses_noise", count=n, noun=noun, parent=parent_noun),
    )
    return problems + crossing


def _outside_problem(level: Level, parents: Level, i: int, area: float) -> Problem:
    """A child entirely outside its parent; say which parent it does lie in, if any."""
    shape = level.shapes[i]
    actual = [
        parents.label(j)
        for j in touching(parents, shape)
        if shapely.relate_pattern(parents.shapes[j], shape, "2********")
    ]
    noun, parent_noun = NOUNS[level.kind], NOUNS[parents.kind]
    said = {
        "noun": noun,
        "label": level.label(i),
        "area": area_text(area),
        "parent": parent_noun,
        "parent_code": level.parent_codes[i],
    }
    text = (
        Msg("problem.outside_parent_in", names=actual, **said)
        if actual
        else Msg("problem.outside_parent", **said)
    )
    return Problem.of(
        ProblemKind.OUTSIDE_PARENT,
        text,
        codes=tuple(c for c in (level.codes[i], level.parent_codes[i]) if c),
        location=point_on(shape),
        area_m2=area,
        geometry=shape,
    )


def parent_gap_problems(level: Level, parents: Level) -> list[Problem]:
    """The parts of each parent its own children leave uncovered."""
    children: dict[str, list[BaseGeometry]] = defaultdict(list)
    for parent_code, shape in zip(level.parent_codes, level.shapes, strict=True):
        if shape is not None:
            children[parent_code].append(shape)
    noun, parent_noun = NOUNS[level.kind], NOUNS[parents.kind]
    pieces: list[tuple[str, BaseGeometry]] = []
    for code, shape in _shapes_by_code(parents).items():
        uncovered = polygonal(shapely.difference(shape, shapely.union_all(children[code])))
        pieces += [(code, part) for part in shapely.get_parts(uncovered)]
    findings = []
    for (code, part), area in zip(
        pieces, areas_m2([p for _, p in pieces], level.epsg), strict=True
    ):
        around = [i for i in touching(level, part) if level.parent_codes[i] == code]
        said = {
            "area": area_text(area),
            "parent": parent_noun,
            "code": code,
            "where": point_on(part),
            "noun": noun,
        }
        text = (
            Msg("problem.parent_gap_by", names=level.named(around), **said)
            if around
            else Msg("problem.parent_gap", **said)
        )
        codes = (code, *(level.codes[i] for i in around if level.codes[i]))
        findings.append(Finding(codes, part, float(area), text))
    return report_findings(
        ProblemKind.GAP,
        findings,
        lambda n: Msg("problem.parent_gap_noise", count=n, noun=noun, parent=parent_noun),
    )
