"""What validation reports (:class:`Problem`) and the measures its checks share.

A layer is prepared once (:func:`prepare_level`: usable polygons, an STRtree, the
Gauss-Krüger zone areas are measured in); the checks in
:mod:`gridsvc.core.coverage_checks` and :mod:`gridsvc.core.nesting_checks` turn
measured pieces (:class:`Finding`) into problems with :func:`report_findings`,
which gathers noise-sized pieces into one non-blocking problem.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from gridsvc.core.crs import CGCS2000, transformer
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.messages import Msg

NOISE_M2 = 0.01
"""Overlaps, gaps and overhangs smaller than this (m²) are reported but do not block."""


SLIVER_M2 = 10.0
"""Default: gaps and overlaps under this (m²) are slivers, which ``close_slivers`` can close."""

# About 1 mm in degrees: how near an edge or gap must be to a feature to name it.


NEAR_DEG = 1e-8


POLYGON_TYPES = ("Polygon", "MultiPolygon")


LINE_TYPES = ("LineString", "MultiLineString")


NOUNS = {
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
    be drawn on a map; ``location`` is a point on it. ``message`` is English;
    ``text``, where the check gave one, says it in the reader's language
    (:meth:`message_in`): planners read Chinese.
    """

    kind: ProblemKind
    message: str
    codes: tuple[str, ...] = ()
    location: tuple[float, float] | None = None
    area_m2: float | None = None
    geometry: BaseGeometry | None = field(default=None, repr=False, compare=False)
    blocking: bool = True
    text: Msg | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, kind: ProblemKind, text: Msg, **fields: Any) -> Problem:
        """A problem said by catalogue key: English ``message``, any language from ``text``."""
        return cls(kind, text.text("en"), text=text, **fields)

    def message_in(self, lang: str) -> str:
        """The message in ``lang`` (``message`` itself where the check gave no key)."""
        return self.text.text(lang) if self.text is not None else self.message

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """JSON-ready data in ``lang``; the geometry as a GeoJSON mapping."""
        return {
            "kind": str(self.kind),
            "message": self.message_in(lang),
            "codes": list(self.codes),
            "location": list(self.location) if self.location else None,
            "area_m2": None if self.area_m2 is None else round(self.area_m2, 4),
            "geometry": None if self.geometry is None else shapely.geometry.mapping(self.geometry),
            "blocking": self.blocking,
        }


@dataclass(frozen=True)
class Level:
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
        return feature_label(self.codes[i], i)

    def named(self, indices: Sequence[int]) -> list[str]:
        """The labels of ``indices``, for a message's ``{names:list}``."""
        return [self.label(i) for i in indices]


@dataclass(frozen=True)
class Finding:
    """A measured piece (overlap, gap, overhang) before it becomes a Problem."""

    codes: tuple[str, ...]
    shape: BaseGeometry
    area_m2: float
    text: Msg


def codes_of(values: pd.Series) -> list[str]:
    """Codes as stripped text; a missing code is ''."""
    return ["" if pd.isna(v) else str(v).strip() for v in values]


def feature_label(code: str, i: int) -> str:
    """How messages name feature ``i``: its code, or its 1-based position when it has none."""
    return code or f"#{i + 1}"


def prepare_level(layer: Layer, epsg: int | None = None) -> Level | None:
    """The level's polygonal shapes and measuring zone; None if it has no usable geometry."""
    shapes = np.array([usable(g) for g in layer.frame.geometry], dtype=object)
    if all(s is None for s in shapes):
        return None
    return Level(
        kind=layer.kind,
        codes=codes_of(layer.frame["code"]),
        parent_codes=codes_of(layer.frame["parent_code"]),
        shapes=shapes,
        tree=shapely.STRtree(shapes),
        epsg=epsg or layer.work_epsg(),
    )


def usable(geom: BaseGeometry | None) -> BaseGeometry | None:
    """A polygonal geometry to compare with its neighbours, repaired if invalid."""
    if geom is None or geom.is_empty or geom.geom_type not in POLYGON_TYPES:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    return None if geom.is_empty else geom


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The areal part of an overlay result (which may carry touching lines and points)."""
    if geom.geom_type in POLYGON_TYPES:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in POLYGON_TYPES]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def projected(geoms: Sequence[BaseGeometry] | Geoms, epsg: int) -> Geoms:
    to_metres = transformer(CGCS2000, f"EPSG:{epsg}")

    def move(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack(to_metres.transform(xy[:, 0], xy[:, 1]))

    return shapely.transform(np.asarray(geoms, dtype=object), move)


def areas_m2(geoms: Sequence[BaseGeometry], epsg: int) -> NDArray[np.float64]:
    """Areas in m², measured in the Gauss-Krüger zone ``epsg``."""
    if not geoms:
        return np.zeros(0)
    return shapely.area(projected(geoms, epsg))


def point_on(geom: BaseGeometry | None) -> tuple[float, float] | None:
    """A point on the geometry, (lon, lat) rounded to about 1 cm."""
    if geom is None or geom.is_empty:
        return None
    point = shapely.point_on_surface(geom)
    return (round(point.x, 7), round(point.y, 7))


def area_text(area: float) -> str:
    """Areas as planners read them: whole m² when large, significant digits when tiny."""
    return f"{area:,.0f} m²" if area >= 10 else f"{area:.3g} m²"


def touching(level: Level, geom: BaseGeometry, exclude: Sequence[int] = ()) -> list[int]:
    """Features of the level touching ``geom`` (within about 1 mm), in code order."""
    hits = level.tree.query(geom, predicate="dwithin", distance=NEAR_DEG)
    return sorted((int(i) for i in hits if i not in exclude), key=level.label)


def some_codes(codes: Sequence[str], shown: int = 5) -> Msg | str:
    """A readable list of codes: the first few and how many more."""
    if len(codes) > shown:
        return Msg("problem.codes_more", codes=list(codes[:shown]), more=len(codes) - shown)
    return ", ".join(codes)


def report_findings(
    kind: ProblemKind, findings: list[Finding], noise_text: Callable[[int], Msg]
) -> list[Problem]:
    """Problems from measured pieces: one blocking problem for each real piece,
    one non-blocking problem gathering all noise-sized ones."""
    problems = [
        Problem.of(
            kind,
            f.text,
            codes=f.codes,
            location=point_on(f.shape),
            area_m2=f.area_m2,
            geometry=f.shape,
        )
        for f in findings
        if f.area_m2 >= NOISE_M2
    ]
    noise = [f for f in findings if 0 < f.area_m2 < NOISE_M2]
    if noise:
        total = sum(f.area_m2 for f in noise)
        codes = tuple(sorted({c for f in noise for c in f.codes}))
        shape = shapely.union_all([f.shape for f in noise])
        text = Msg(
            "problem.noise",
            what=noise_text(len(noise)),
            noise=NOISE_M2,
            total=area_text(total),
            codes=some_codes(codes),
        )
        problems.append(
            Problem.of(
                kind,
                text,
                codes=codes,
                location=point_on(shape),
                area_m2=total,
                geometry=shape,
                blocking=False,
            )
        )
    return problems
