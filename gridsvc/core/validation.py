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
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from gridsvc.core.crs import CGCS2000, transformer
from gridsvc.core.errors import InvalidInput, InvalidLayer
from gridsvc.core.kinds import allowed_parents
from gridsvc.core.layers import POLYGON_KINDS, Layer, LayerKind
from gridsvc.core.messages import Msg

NOISE_M2 = 0.01
"""Overlaps, gaps and overhangs smaller than this (m²) are reported but do not block."""

SLIVER_M2 = 10.0
"""Default: gaps and overlaps under this (m²) are slivers, which ``close_slivers`` can close."""

# About 1 mm in degrees: how near an edge or gap must be to a feature to name it.
_NEAR_DEG = 1e-8

_POLYGON_TYPES = ("Polygon", "MultiPolygon")
_LINE_TYPES = ("LineString", "MultiLineString")

_NOUNS = {
    LayerKind.JURISDICTION: "jurisdiction",
    LayerKind.TOWNS: "town",
    LayerKind.UNITS: "unit",
    LayerKind.GRIDS: "grid",
    LayerKind.COMMITTEES: "committee",
    LayerKind.CELLS: "cell",
    LayerKind.STREETS: "street segment",
}

Geoms = NDArray[np.object_]


class ProblemKind(StrEnum):
    """What is wrong; the value is the stable name used in reports and the API."""

    INVALID_GEOMETRY = "invalid-geometry"
    GAP = "gap"
    OVERLAP = "overlap"
    UNMATCHED_EDGE = "unmatched-edge"
    CROSSES_PARENT = "crosses-parent"
    OUTSIDE_PARENT = "outside-parent"
    DUPLICATE_CODE = "duplicate-code"
    MISSING_CODE = "missing-code"
    UNKNOWN_PARENT = "unknown-parent"
    MISSING_CRS = "missing-crs"
    WRONG_GEOMETRY_TYPE = "wrong-geometry-type"
    EMPTY_GEOMETRY = "empty-geometry"
    SLIVER = "sliver"


@dataclass(frozen=True)
class Problem:
    """One thing a planner must (``blocking``) or should fix in a layer.

    ``geometry`` is the offending part in EPSG:4490 (the overlap, the gap, the
    part outside the parent, the point where a ring crosses itself), ready to
    be drawn on a map; ``location`` is a point on it.
    """

    kind: ProblemKind
    message: str
    codes: tuple[str, ...] = ()
    location: tuple[float, float] | None = None
    area_m2: float | None = None
    geometry: BaseGeometry | None = field(default=None, repr=False, compare=False)
    blocking: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data; the geometry as a GeoJSON mapping."""
        return {
            "kind": str(self.kind),
            "message": self.message,
            "codes": list(self.codes),
            "location": list(self.location) if self.location else None,
            "area_m2": None if self.area_m2 is None else round(self.area_m2, 4),
            "geometry": None if self.geometry is None else shapely.geometry.mapping(self.geometry),
            "blocking": self.blocking,
        }


@dataclass(frozen=True)
class _Level:
    """A layer prepared for the geometric checks.

    ``shapes`` holds the polygonal geometry of each feature (repaired by
    ``make_valid`` when invalid) or None when it has none of the right type;
    ``tree`` indexes them by position; ``epsg`` is the zone areas are measured in.
    """

    kind: LayerKind
    codes: list[str]
    parent_codes: list[str]
    shapes: Geoms
    tree: shapely.STRtree
    epsg: int

    def label(self, i: int) -> str:
        return _label(self.codes[i], i)

    def named(self, indices: Sequence[int]) -> str:
        return ", ".join(self.label(i) for i in indices)


@dataclass(frozen=True)
class _Finding:
    """A measured piece (overlap, gap, overhang) before it becomes a Problem."""

    codes: tuple[str, ...]
    shape: BaseGeometry
    area_m2: float
    text: str


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
            first=blocking[0].message,
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
            message = f"sliver {p.kind}: {p.message}; the close_slivers repair closes it"
            p = replace(p, kind=ProblemKind.SLIVER, message=message)
        out.append(p)
    return out


def _problems(layer: Layer, parent: Layer | None) -> list[Problem]:
    _check_parent_kind(layer, parent)
    if layer.frame.crs is None:
        return [Problem(ProblemKind.MISSING_CRS, f"the {layer.kind} layer has no CRS")]
    problems = code_problems(layer) + _geometry_problems(layer)
    if layer.kind not in POLYGON_KINDS:
        return problems
    level = _prepare(layer)
    if level is None:
        return problems
    pairs = _overlapping_pairs(level)
    problems += _overlap_problems(level, pairs) + _unmatched_edge_problems(level, pairs)
    if parent is None:
        return problems + _hole_problems(level)
    parents = _prepare(parent, epsg=level.epsg)
    problems += _unknown_parent_problems(layer, parent)
    if parents is not None:
        problems += _overhang_problems(level, parents) + _parent_gap_problems(level, parents)
    return problems


def geometry_type_problems(layer: Layer) -> list[Problem]:
    """Features whose geometry is of the wrong type for the level (points among grids)."""
    allowed = _POLYGON_TYPES if layer.kind in POLYGON_KINDS else _LINE_TYPES
    noun = _NOUNS[layer.kind]
    problems = []
    for i, (code, geom) in enumerate(
        zip(_codes(layer.frame["code"]), layer.frame.geometry, strict=True)
    ):
        if geom is None or geom.is_empty or geom.geom_type in allowed:
            continue
        problems.append(
            Problem(
                ProblemKind.WRONG_GEOMETRY_TYPE,
                f"{noun} {_label(code, i)} is a {geom.geom_type}; "
                f"a {layer.kind} layer holds {' or '.join(allowed)}",
                codes=(code,) if code else (),
                location=_where(geom),
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


def _codes(values: pd.Series) -> list[str]:
    """Codes as stripped text; a missing code is ''."""
    return ["" if pd.isna(v) else str(v).strip() for v in values]


def _label(code: str, i: int) -> str:
    """How messages name feature ``i``: its code, or its 1-based position when it has none."""
    return code or f"#{i + 1}"


def code_problems(layer: Layer) -> list[Problem]:
    """Codes identify features across versions and cases: each must exist and be unique."""
    codes = _codes(layer.frame["code"])
    noun = _NOUNS[layer.kind]
    problems = []
    for i, (code, name, geom) in enumerate(
        zip(codes, layer.frame["name"], layer.frame.geometry, strict=True)
    ):
        if not code:
            named = f" (named {name!r})" if isinstance(name, str) and name.strip() else ""
            text = f"{noun} {_label(code, i)}{named} has no code"
            problems.append(Problem(ProblemKind.MISSING_CODE, text, location=_where(geom)))
    positions: dict[str, list[str]] = defaultdict(list)
    for i, code in enumerate(codes):
        if code:
            positions[code].append(f"#{i + 1}")
    for code, rows in positions.items():
        if len(rows) > 1:
            text = f"code {code} is used by {len(rows)} {layer.kind} (features {', '.join(rows)})"
            problems.append(Problem(ProblemKind.DUPLICATE_CODE, text, codes=(code,)))
    return problems


def _geometry_problems(layer: Layer) -> list[Problem]:
    """Missing, empty, wrongly typed and invalid geometries."""
    codes = _codes(layer.frame["code"])
    noun = _NOUNS[layer.kind]
    problems = []
    for i, geom in enumerate(layer.frame.geometry):
        label = _label(codes[i], i)
        if geom is None or geom.is_empty:
            problems.append(
                Problem(
                    ProblemKind.EMPTY_GEOMETRY,
                    f"{noun} {label} has no geometry",
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
    text = reason[: found.start()] if found else reason
    at = f" at ({where[0]}, {where[1]})" if where else ""
    return Problem(
        ProblemKind.INVALID_GEOMETRY,
        f"{noun} {label} is not a valid {geom.geom_type}: {text}{at}",
        codes=(code,) if code else (),
        location=where,
        geometry=shapely.Point(where) if where else None,
    )


def _prepare(layer: Layer, epsg: int | None = None) -> _Level | None:
    """The level's polygonal shapes and measuring zone; None if it has no usable geometry."""
    shapes = np.array([_usable(g) for g in layer.frame.geometry], dtype=object)
    if all(s is None for s in shapes):
        return None
    return _Level(
        kind=layer.kind,
        codes=_codes(layer.frame["code"]),
        parent_codes=_codes(layer.frame["parent_code"]),
        shapes=shapes,
        tree=shapely.STRtree(shapes),
        epsg=epsg or layer.work_epsg(),
    )


def _usable(geom: BaseGeometry | None) -> BaseGeometry | None:
    """A polygonal geometry to compare with its neighbours, repaired if invalid."""
    if geom is None or geom.is_empty or geom.geom_type not in _POLYGON_TYPES:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    return None if geom.is_empty else geom


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The areal part of an overlay result (which may carry touching lines and points)."""
    if geom.geom_type in _POLYGON_TYPES:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGON_TYPES]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _projected(geoms: Sequence[BaseGeometry] | Geoms, epsg: int) -> Geoms:
    to_metres = transformer(CGCS2000, f"EPSG:{epsg}")

    def move(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack(to_metres.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(np.asarray(geoms, dtype=object), move)


def _areas_m2(geoms: Sequence[BaseGeometry], epsg: int) -> NDArray[np.float64]:
    """Areas in m², measured in the Gauss-Krüger zone ``epsg``."""
    if not geoms:
        return np.zeros(0)
    return shapely.area(_projected(geoms, epsg))


def _where(geom: BaseGeometry | None) -> tuple[float, float] | None:
    """A point on the geometry, (lon, lat) rounded to about 1 cm."""
    if geom is None or geom.is_empty:
        return None
    point = shapely.point_on_surface(geom)
    return (round(point.x, 7), round(point.y, 7))


def _m2(area: float) -> str:
    """Areas as planners read them: whole m² when large, significant digits when tiny."""
    return f"{area:,.0f} m²" if area >= 10 else f"{area:.3g} m²"


def _near(level: _Level, geom: BaseGeometry, exclude: Sequence[int] = ()) -> list[int]:
    """Features of the level touching ``geom`` (within about 1 mm), in code order."""
    hits = level.tree.query(geom, predicate="dwithin", distance=_NEAR_DEG)
    return sorted((int(i) for i in hits if i not in exclude), key=level.label)


def _some(codes: Sequence[str], shown: int = 5) -> str:
    """A readable list of codes: the first few and how many more."""
    more = f" and {len(codes) - shown} more" if len(codes) > shown else ""
    return ", ".join(codes[:shown]) + more


def _report(
    kind: ProblemKind, findings: list[_Finding], noise_text: Callable[[int], str]
) -> list[Problem]:
    """Problems from measured pieces: one blocking problem for each real piece,
    one non-blocking problem gathering all noise-sized ones."""
    problems = [
        Problem(kind, f.text, f.codes, _where(f.shape), f.area_m2, f.shape)
        for f in findings
        if f.area_m2 >= NOISE_M2
    ]
    noise = [f for f in findings if 0 < f.area_m2 < NOISE_M2]
    if noise:
        total = sum(f.area_m2 for f in noise)
        codes = tuple(sorted({c for f in noise for c in f.codes}))
        shape = shapely.union_all([f.shape for f in noise])
        text = (
            f"{noise_text(len(noise))} smaller than {NOISE_M2} m² each "
            f"(together {_m2(total)}), involving {_some(codes)}; snap the boundaries"
        )
        problems.append(Problem(kind, text, codes, _where(shape), total, shape, blocking=False))
    return problems


def _overlapping_pairs(level: _Level) -> list[tuple[int, int]]:
    """Positions (i < j) of features whose interiors share area."""
    left, right = level.tree.query(level.shapes, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    inner = shapely.relate_pattern(level.shapes[left], level.shapes[right], "2********")
    return [(int(a), int(b)) for a, b in zip(left[inner], right[inner], strict=True)]


def _overlap_problems(level: _Level, pairs: list[tuple[int, int]]) -> list[Problem]:
    """Each overlapping pair with its shared area: a point there has two owners."""
    shapes = level.shapes
    shared = [_polygonal(shapely.intersection(shapes[a], shapes[b])) for a, b in pairs]
    noun = _NOUNS[level.kind]
    findings = []
    for (a, b), shape, area in zip(pairs, shared, _areas_m2(shared, level.epsg), strict=True):
        first, second = sorted((level.label(a), level.label(b)))
        text = f"{noun}s {first} and {second} overlap by {_m2(area)} around {_where(shape)}"
        codes = tuple(sorted(c for c in (level.codes[a], level.codes[b]) if c))
        findings.append(_Finding(codes, shape, float(area), text))
    return _report(ProblemKind.OVERLAP, findings, lambda n: f"{n} overlap(s) between {noun}s")


def _unmatched_edges(
    level: _Level, pairs: list[tuple[int, int]]
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


def _alongside(level: _Level, piece: BaseGeometry, owner: int) -> list[int]:
    """Features other than ``owner`` that a piece of edge runs along (not just touches)."""
    reach = _near(level, piece, exclude=[owner])
    runs = shapely.length(
        shapely.intersection(piece, shapely.buffer(level.shapes[reach], _NEAR_DEG))
    )
    return [j for j, run in zip(reach, runs, strict=True) if run > 10 * _NEAR_DEG]


def _unmatched_edge_problems(level: _Level, pairs: list[tuple[int, int]]) -> list[Problem]:
    """Shared boundaries drawn without shared vertices (T-junctions): not blocking."""
    noun = _NOUNS[level.kind]
    problems = []
    for key, pieces in _unmatched_edges(level, pairs).items():
        shape = shapely.line_merge(shapely.union_all(pieces))
        metres = float(shapely.length(_projected([shape], level.epsg))[0])
        problems.append(
            Problem(
                ProblemKind.UNMATCHED_EDGE,
                f"{noun}s {level.named(key)} meet along {metres:,.1f} m of edges that do not "
                "share vertices; snap them (QGIS: Snap geometries to layer)",
                codes=tuple(level.codes[i] for i in key if level.codes[i]),
                location=_where(shapely.line_interpolate_point(shape, 0.5, normalized=True)),
                geometry=shape,
                blocking=False,
            )
        )
    return problems


def _hole_problems(level: _Level) -> list[Problem]:
    """Without the parent, a gap is a hole enclosed by the level that no feature covers."""
    if level.kind == LayerKind.JURISDICTION:
        return []
    union = _polygonal(shapely.union_all([s for s in level.shapes if s is not None]))
    holes = [shapely.Polygon(ring) for part in shapely.get_parts(union) for ring in part.interiors]
    noun = _NOUNS[level.kind]
    findings = []
    for hole, area in zip(holes, _areas_m2(holes, level.epsg), strict=True):
        around = _near(level, hole)
        text = (
            f"gap of {_m2(area)} at {_where(hole)} enclosed by {noun}s {level.named(around)}; "
            f"no {noun} covers it"
        )
        findings.append(_Finding(tuple(level.codes[i] for i in around), hole, float(area), text))
    return _report(ProblemKind.GAP, findings, lambda n: f"{n} hole(s) between {noun}s")


def _shapes_by_code(level: _Level) -> dict[str, BaseGeometry]:
    """Each code's geometry (duplicated codes are united; they are reported apart)."""
    grouped: dict[str, list[BaseGeometry]] = defaultdict(list)
    for code, shape in zip(level.codes, level.shapes, strict=True):
        if code and shape is not None:
            grouped[code].append(shape)
    return {code: shapely.union_all(shapes) for code, shapes in grouped.items()}


def _unknown_parent_problems(layer: Layer, parent: Layer) -> list[Problem]:
    """A child must name a parent that exists, or no one knows who answers for it."""
    known = set(_codes(parent.frame["code"]))
    noun, parent_noun = _NOUNS[layer.kind], _NOUNS[parent.kind]
    problems = []
    codes = _codes(layer.frame["code"])
    for i, (code, parent_code) in enumerate(
        zip(codes, _codes(layer.frame["parent_code"]), strict=True)
    ):
        if parent_code in known:
            continue
        label = _label(code, i)
        text = (
            f"{noun} {label} has no parent_code; it must name its {parent_noun}"
            if not parent_code
            else f"{noun} {label} names {parent_noun} {parent_code} as its parent, "
            f"which is not in the {parent.kind} layer"
        )
        problems.append(
            Problem(
                ProblemKind.UNKNOWN_PARENT,
                text,
                codes=tuple(c for c in (code, parent_code) if c),
                location=_where(layer.frame.geometry.iloc[i]),
            )
        )
    return problems


def _overhang_problems(level: _Level, parents: _Level) -> list[Problem]:
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
    outside = [
        _polygonal(g) for g in shapely.difference(level.shapes[index], [p for _, p in pairs])
    ]
    out_areas = _areas_m2(outside, level.epsg)
    whole = _areas_m2(list(level.shapes[index]), level.epsg)
    noun, parent_noun = _NOUNS[level.kind], _NOUNS[parents.kind]
    problems, findings = [], []
    for i, shape, out, area in zip(index, outside, out_areas, whole, strict=True):
        label, parent_code = level.label(i), level.parent_codes[i]
        codes = tuple(c for c in (level.codes[i], parent_code) if c)
        if area - out < NOISE_M2:
            problems.append(_outside_problem(level, parents, i, float(area)))
        elif out > 0:
            text = (
                f"{noun} {label} reaches {_m2(out)} outside its {parent_noun} {parent_code} "
                f"around {_where(shape)}"
            )
            findings.append(_Finding(codes, shape, float(out), text))
    crossing = _report(
        ProblemKind.CROSSES_PARENT,
        findings,
        lambda n: f"{n} sliver(s) of {noun}s outside their {parent_noun}",
    )
    return problems + crossing


def _outside_problem(level: _Level, parents: _Level, i: int, area: float) -> Problem:
    """A child entirely outside its parent; say which parent it does lie in, if any."""
    shape = level.shapes[i]
    actual = [
        parents.label(j)
        for j in _near(parents, shape)
        if shapely.relate_pattern(parents.shapes[j], shape, "2********")
    ]
    lies_in = f"; it lies in {', '.join(actual)}" if actual else ""
    noun, parent_noun = _NOUNS[level.kind], _NOUNS[parents.kind]
    return Problem(
        ProblemKind.OUTSIDE_PARENT,
        f"{noun} {level.label(i)} ({_m2(area)}) lies outside its {parent_noun} "
        f"{level.parent_codes[i]}{lies_in}",
        codes=tuple(c for c in (level.codes[i], level.parent_codes[i]) if c),
        location=_where(shape),
        area_m2=area,
        geometry=shape,
    )


def _parent_gap_problems(level: _Level, parents: _Level) -> list[Problem]:
    """The parts of each parent its own children leave uncovered."""
    children: dict[str, list[BaseGeometry]] = defaultdict(list)
    for parent_code, shape in zip(level.parent_codes, level.shapes, strict=True):
        if shape is not None:
            children[parent_code].append(shape)
    noun, parent_noun = _NOUNS[level.kind], _NOUNS[parents.kind]
    pieces: list[tuple[str, BaseGeometry]] = []
    for code, shape in _shapes_by_code(parents).items():
        uncovered = _polygonal(shapely.difference(shape, shapely.union_all(children[code])))
        pieces += [(code, part) for part in shapely.get_parts(uncovered)]
    findings = []
    for (code, part), area in zip(
        pieces, _areas_m2([p for _, p in pieces], level.epsg), strict=True
    ):
        around = [i for i in _near(level, part) if level.parent_codes[i] == code]
        bordering = f"; it borders {noun}s {level.named(around)}" if around else ""
        text = (
            f"gap of {_m2(area)} in {parent_noun} {code} at {_where(part)}, "
            f"covered by none of its {noun}s{bordering}"
        )
        codes = (code, *(level.codes[i] for i in around if level.codes[i]))
        findings.append(_Finding(codes, part, float(area), text))
    return _report(
        ProblemKind.GAP, findings, lambda n: f"{n} gap(s) between {noun}s and their {parent_noun}"
    )
