"""A town's redraw spliced into the district's layer: that town's features replaced, no other.

A town's planner uploads only its town's features (grids, units, committees,
cells, streets); the layer it becomes is the district's active layer with the
features lying in that town taken out and the upload put in. A feature lies
in the town its interior point lies in (``matching.containing``, as every case
takes its grid's town), so the towns being disjoint, two towns' splices never
touch each other's features, and one made on an older layer can be made again
on a newer one without losing the other town's work.

What a town may not upload is a *stray*: a feature reaching out of its town by
more than a sliver (an area for polygons, :data:`LINE_TOLERANCE_M` for lines
and points), or one whose code the active layer has in another town.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from gridsvc.core.layers import BASE_COLUMNS, Layer
from gridsvc.core.matching import containing
from gridsvc.core.messages import Msg

#: how far (metres) a street or point may stray over its town's boundary (digitising)
LINE_TOLERANCE_M = 1.0
OUTSIDE_TOWN = "outside-town"
OTHER_TOWN = "other-town"


@dataclass(frozen=True)
class Stray:
    """A feature of a town's upload that is not that town's to redraw."""

    kind: str  # OUTSIDE_TOWN or OTHER_TOWN
    code: str
    text: Msg  # what is wrong, in any language
    towns: tuple[str, ...] = ()  # the other town(s) it lies in or belongs to
    area_m2: float | None = None  # how much of a polygon lies outside the town

    @property
    def message(self) -> str:
        """The message in English (logs, and the API's default before languages)."""
        return self.text.text("en")

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """JSON-ready, in the shape of a validation problem (``codes``, ``blocking``)."""
        return {
            "kind": self.kind,
            "message": self.text.text(lang),
            "codes": [self.code],
            "towns": list(self.towns),
            "area_m2": None if self.area_m2 is None else round(self.area_m2, 1),
            "blocking": True,
        }


def town_of(layer: Layer, towns: Layer) -> NDArray[np.object_]:
    """Each feature's town code (None where its interior lies in no town)."""
    index = containing(layer, towns)
    codes = towns.frame["code"].astype(str).to_numpy(dtype=object)
    out = np.full(len(layer), None, dtype=object)
    hit = index >= 0
    out[hit] = codes[index[hit]]
    return out


def in_town(layer: Layer, town: str, towns: Layer) -> NDArray[np.bool_]:
    """Which features of ``layer`` lie in ``town``."""
    return np.asarray(town_of(layer, towns) == town, dtype=bool)


def part_of(layer: Layer, town: str, towns: Layer) -> Layer:
    """The features of ``layer`` that lie in ``town``."""
    return Layer(layer.kind, layer.frame[in_town(layer, town, towns)].reset_index(drop=True))


def strays(
    part: Layer, town: str, towns: Layer, active: Layer | None, sliver_m2: float
) -> list[Stray]:
    """The features of a town's upload that it may not splice in, each with why.

    Outside: the part of a polygon outside the town is larger than ``sliver_m2``
    (a line or point strays by more than :data:`LINE_TOLERANCE_M`). Another town's:
    the active layer has the code, lying in another town (a code moves between towns
    only by the district's redraw).
    """
    if len(part) == 0:
        return []
    epsg = towns.work_epsg()
    town_codes = towns.frame["code"].astype(str).to_numpy(dtype=object)
    town_shapes = towns.projected(epsg).geometry.to_numpy()
    [mine] = np.flatnonzero(town_codes == town)
    shapes = part.projected(epsg).geometry.to_numpy()
    codes = part.frame["code"].astype(str).to_numpy(dtype=object)
    polygonal = np.isin(shapely.get_type_id(shapes), (3, 6))  # Polygon, MultiPolygon
    present = ~(shapely.is_missing(shapes) | shapely.is_empty(shapes))
    reach = np.where(polygonal, 0.0, LINE_TOLERANCE_M)
    outside = np.full(len(part), None, dtype=object)
    outside[present] = shapely.difference(
        shapes[present], shapely.buffer(town_shapes[mine], reach[present])
    )
    found: list[Stray] = []
    for i in np.flatnonzero(present):
        left = outside[i]
        area = float(shapely.area(left)) if polygonal[i] else None
        if (area is not None and area <= sliver_m2) or (area is None and shapely.is_empty(left)):
            continue
        where = tuple(
            str(town_codes[j])
            for j in np.flatnonzero(shapely.intersects(town_shapes, left))
            if town_codes[j] != town
        )
        spread = f" ({area:,.0f} m²)" if area is not None else ""
        found.append(
            Stray(
                OUTSIDE_TOWN,
                str(codes[i]),
                Msg(
                    "splice.outside",
                    code=str(codes[i]),
                    town=town,
                    spread=spread,
                    where=Msg("splice.in", towns=list(where)) if where else "",
                ),
                where,
                area,
            )
        )
    if active is not None:
        theirs = dict(zip(active.frame["code"].astype(str), town_of(active, towns), strict=True))
        for code in codes:
            other = theirs.get(str(code))
            if other is not None and other != town:
                found.append(
                    Stray(
                        OTHER_TOWN,
                        str(code),
                        Msg("splice.other_town", code=str(code), other=str(other)),
                        (str(other),),
                    )
                )
    return found


def splice(active: Layer, part: Layer, town: str, towns: Layer) -> Layer:
    """The active layer with the features lying in ``town`` replaced by ``part``.

    Attributes one side lacks are None on the other (never NaN: they are stored as JSON).
    """
    kept = active.frame[~in_town(active, town, towns)]
    incoming = (
        part.frame.to_crs(active.frame.crs) if part.frame.crs != active.frame.crs else part.frame
    )
    frame = pd.concat([kept, incoming], ignore_index=True)
    geometry = frame.geometry.name
    for name in frame.columns:
        if name != geometry and name not in BASE_COLUMNS:
            column = frame[name].astype(object)
            frame[name] = column.where(column.notna(), None)
    return Layer(active.kind, frame)


def features_equal(a: Layer, b: Layer) -> bool:
    """Whether two layers hold the same features (code, name, parent, attributes, shape),
    in any order: a town untouched between two versions has equal parts in both."""
    return _keyed(a) == _keyed(b)


def _keyed(layer: Layer) -> dict[str, tuple[Any, ...]]:
    frame = layer.frame
    geometry = frame.geometry.name
    extra = sorted(c for c in frame.columns if c not in (*BASE_COLUMNS, geometry))
    wkb = shapely.to_wkb(frame.geometry.to_numpy(), hex=True)
    columns = {c: frame[c].to_numpy(dtype=object) for c in ("code", "name", "parent_code", *extra)}
    out = {}
    for i, code in enumerate(columns["code"]):
        attrs = tuple((k, v) for k in extra if (v := _plain(columns[k][i])) is not None)
        parent = columns["parent_code"][i]
        out[str(code)] = (str(columns["name"][i]), str(parent or ""), attrs, wkb[i])
    return out


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value if isinstance(value, (str, int, float, bool)) else str(value)
