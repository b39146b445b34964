"""The redraw impact map: current against redrawn boundaries, and the cases that move.

A planner checks a redraw by eye before publishing it: the old grids in
grey, the draft's in blue, every moved case as a dot coloured by whether
it is open, with its old and new grid in the tooltip. At most
``max_points`` dots are drawn (the count says how many of how many).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
import numpy as np

from gridsvc.core.layers import Layer
from gridsvc.maps.areas import Panel, outline_layer, title_element
from gridsvc.maps.basemaps import Basemap, TileOptions, base_map, shift_for
from gridsvc.maps.labels import text

OPEN_COLOUR, CLOSED_COLOUR = "#d7301f", "#737373"


@dataclass(frozen=True)
class ImpactOptions:
    lang: str = "zh"
    basemap: Basemap = Basemap.NONE
    tiles: TileOptions = field(default_factory=TileOptions)
    max_points: int = 5_000
    subtitle: str = ""


def impact_map(
    active: Layer | None, draft: Layer, moved: Sequence[dict[str, Any]], options: ImpactOptions
) -> folium.Map:
    """Old and new boundaries with the moved cases (dicts with lon, lat, number, open, from, to)."""
    lang = options.lang
    shift = shift_for(options.basemap)
    bounds = draft.frame.total_bounds
    if active is not None:
        old = active.frame.total_bounds
        bounds = np.r_[np.minimum(old[:2], bounds[:2]), np.maximum(old[2:], bounds[2:])]
    m = base_map(bounds, options.basemap, options.tiles, lang)
    if active is not None:
        old = text("old_grids", lang)
        outline_layer(m, active.frame, old, "#7f7f7f", 3.0, lang, shift=shift, legend=True)
    new = text("new_grids", lang)
    outline_layer(m, draft.frame, new, "#1f4e9c", 1.6, lang, shift=shift, legend=True, labels=True)
    shown = _moved_points(m, moved, options)
    note = text("shown_of", lang, shown=f"{shown:,}", total=f"{len(moved):,}")
    Panel(f"<b>{text('moved_cases', lang)}</b>: {note}", "bottomleft").add_to(m)
    subtitle = options.subtitle
    m.get_root().html.add_child(title_element(text("impact_title", lang), subtitle))
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _moved_points(m: folium.Map, moved: Sequence[dict[str, Any]], options: ImpactOptions) -> int:
    """The moved cases as small circles, open ones first; returns how many were drawn."""
    lang = options.lang
    ordered = sorted(moved, key=lambda c: not c.get("open", False))[: options.max_points]
    if not ordered:
        return 0
    lon = np.array([c["lon"] for c in ordered], dtype=np.float64)
    lat = np.array([c["lat"] for c in ordered], dtype=np.float64)
    shift = shift_for(options.basemap)
    if shift is not None:
        lon, lat = shift(lon, lat)
    group = folium.FeatureGroup(name=text("moved_cases", lang), show=True)
    for case, x, y in zip(ordered, lon.tolist(), lat.tolist(), strict=True):
        colour = OPEN_COLOUR if case.get("open") else CLOSED_COLOUR
        tip = (
            f"{case.get('number', '')}<br>{text('from_grid', lang)}: {case['from'].get('grid_code')}"
            f"<br>{text('to_grid', lang)}: {case['to'].get('grid_code')}"
        )
        folium.CircleMarker(
            [round(y, 6), round(x, 6)],
            radius=4,
            color=colour,
            weight=1,
            fill=True,
            fill_opacity=0.8,
            tooltip=tip,
        ).add_to(group)
    group.add_to(m)
    return len(ordered)
