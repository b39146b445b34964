"""Repairs a planner may ask for on an uploaded layer, each one listed.

Nothing is ever repaired unasked: validation refuses invalid input with the
full list of problems. When the planner asks, these repairs run in a fixed
order and every feature they touch is reported, so the draft's history says
exactly what gridsvc changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from gridsvc.core.crs import CGCS2000, transformer
from gridsvc.core.errors import InvalidInput
from gridsvc.core.layers import Layer
from gridsvc.core.messages import Msg
from gridsvc.core.validation import SLIVER_M2

REPAIRS = ("make_valid", "snap", "close_slivers")
SNAP_DEGREES = 1e-7  # about 1 cm: digitising noise between two drawings of one edge


@dataclass(frozen=True)
class Repair:
    """One repair applied to one feature."""

    repair: str
    code: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"repair": self.repair, "code": self.code, "detail": self.detail}


def parse_repairs(value: str | None) -> tuple[str, ...]:
    """``make_valid,snap`` → the repairs asked for, refusing unknown names."""
    names = tuple(n.strip() for n in (value or "").split(",") if n.strip())
    unknown = [n for n in names if n not in REPAIRS]
    if unknown:
        raise InvalidInput(Msg("repair.unknown", unknown=unknown, offered=list(REPAIRS)))
    return names


def apply_repairs(
    layer: Layer,
    names: tuple[str, ...],
    parent: Layer | None = None,
    sliver_m2: float = SLIVER_M2,
) -> tuple[Layer, list[Repair]]:
    """The repaired layer and the list of what changed, in the order the repairs ran.

    ``close_slivers`` closes gaps (within the level, or against ``parent``)
    and overlaps smaller than ``sliver_m2``; larger ones stay for the planner.
    """
    frame = layer.frame.copy()
    done: list[Repair] = []
    geoms = frame.geometry.to_numpy()
    codes = frame["code"].astype(str).to_numpy()
    if "make_valid" in names:
        bad = np.flatnonzero(~shapely.is_valid(geoms))
        reasons = shapely.is_valid_reason(geoms[bad])
        geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
        done += [Repair("make_valid", codes[i], str(r)) for i, r in zip(bad, reasons, strict=True)]
    if "snap" in names:
        snapped = shapely.set_precision(geoms, SNAP_DEGREES)
        # set_precision may restart or reorient rings and round on-grid vertices by a float ulp:
        # a feature counts as repaired only when its shape moved by more than that
        moved = np.flatnonzero(shapely.hausdorff_distance(snapped, geoms) > SNAP_DEGREES * 1e-3)
        geoms = snapped
        done += [
            Repair("snap", codes[i], f"vertices snapped to a {SNAP_DEGREES}° grid") for i in moved
        ]
    if "close_slivers" in names:
        geoms, closed = close_slivers(geoms, codes, layer.work_epsg(), parent, sliver_m2)
        done += closed
    frame["geometry"] = geoms
    return Layer(layer.kind, frame.set_geometry("geometry")), done


def close_slivers(
    geoms: np.ndarray, codes: np.ndarray, epsg: int, parent: Layer | None, sliver_m2: float
) -> tuple[np.ndarray, list[Repair]]:
    """Give each small overlap to the lower code and each small gap to its longest neighbour.

    The lower code keeps an overlap because matching resolves ties to the
    lowest code too: nothing a patrol reported moves. A gap joins the
    neighbour it shares the longest border with, as a planner would draw it.
    Areas are measured in the Gauss-Krüger zone ``epsg``; the geometry is
    edited in place in its own CRS.
    """
    geoms = np.array(geoms, dtype=object)
    to_metres = transformer(CGCS2000, f"EPSG:{epsg}")

    def area_m2(geom: object) -> float:
        return float(shapely.area(shapely.transform(geom, lambda xy: np.column_stack(
            to_metres.transform(xy[:, 0], xy[:, 1])))))  # fmt: skip

    done: list[Repair] = []
    left, right = shapely.STRtree(geoms).query(geoms, predicate="overlaps")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        piece = _polygonal(shapely.intersection(geoms[i], geoms[j]))
        area = area_m2(piece)
        if 0 < area < sliver_m2:
            keep, lose = (i, j) if codes[i] <= codes[j] else (j, i)
            geoms[lose] = _polygonal(shapely.difference(geoms[lose], piece))
            done.append(
                Repair(
                    "close_slivers",
                    str(codes[lose]),
                    f"overlap of {area:.2f} m² with {codes[keep]} left to {codes[keep]}",
                )
            )
    for gap in _gaps(geoms, parent):
        area = area_m2(gap)
        if not 0 < area < sliver_m2:
            continue
        near = shapely.STRtree(geoms).query(gap, predicate="intersects")
        if near.size == 0:
            continue
        shared = shapely.length(shapely.intersection(shapely.boundary(geoms[near]), gap))
        k = int(near[int(np.argmax(shared))])
        geoms[k] = _polygonal(shapely.union(geoms[k], gap))
        x, y = shapely.get_coordinates(shapely.point_on_surface(gap))[0]
        done.append(
            Repair(
                "close_slivers", str(codes[k]), f"gap of {area:.2f} m² at ({x:.6f}, {y:.6f}) joined"
            )
        )
    return geoms, done


def _gaps(geoms: np.ndarray, parent: Layer | None) -> list[object]:
    """Pieces no feature covers: inside the parent level when given, else holes of the union."""
    union = shapely.union_all(geoms)
    if parent is not None:
        uncovered = shapely.difference(shapely.union_all(parent.frame.geometry.to_numpy()), union)
        return [p for p in shapely.get_parts(uncovered) if shapely.get_type_id(p) == 3]
    return [
        shapely.Polygon(r)
        for part in shapely.get_parts(union)
        for r in getattr(part, "interiors", [])
    ]


def _polygonal(geom: object) -> object:
    """Only the polygon parts of an overlay result (slivers' edges leave lines and points)."""
    parts = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) in (3, 6)]
    return shapely.union_all(parts) if parts else shapely.Polygon()
