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

from gridsvc.core.errors import InvalidInput
from gridsvc.core.layers import Layer

REPAIRS = ("make_valid", "snap")
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
        raise InvalidInput(f"unknown repair(s) {', '.join(unknown)}; offered: {', '.join(REPAIRS)}")
    return names


def apply_repairs(layer: Layer, names: tuple[str, ...]) -> tuple[Layer, list[Repair]]:
    """The repaired layer and the list of what changed, in the order the repairs ran."""
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
    frame["geometry"] = geoms
    return Layer(layer.kind, frame.set_geometry("geometry")), done
