"""The coverage map: who is responsible where.

Jurisdiction outline, basic management units, grids coloured by their
responsible team (legend), committees, cells, streets coloured by team;
Chinese grid names on the map and tooltips with code, name, team, area,
street length and open cases. Each level can be switched on and off.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import folium
import numpy as np

from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.measures import area_km2, street_km
from gridsvc.maps.areas import (
    LABEL_LIMIT,
    AreaData,
    AreaLabels,
    AreaView,
    display_tolerance,
    outline_layer,
    title_element,
)
from gridsvc.maps.basemaps import Basemap, TileOptions, base_map, shift_for
from gridsvc.maps.labels import text

#: Qualitative colours for teams (ColorBrewer Set3 and Paired, 24 distinct).
TEAM_PALETTE = (
    "#8dd3c7", "#fdb462", "#bebada", "#fb8072", "#80b1d3", "#b3de69", "#fccde5", "#d9d9d9",
    "#bc80bd", "#ccebc5", "#ffed6f", "#a6cee3", "#1f78b4", "#b2df8a", "#33a02c", "#fb9a99",
    "#e31a1c", "#fdbf6f", "#ff7f00", "#cab2d6", "#6a3d9a", "#ffff99", "#b15928", "#ffffb3",
)  # fmt: skip


@dataclass(frozen=True)
class CoverageOptions:
    lang: str = "zh"
    basemap: Basemap = Basemap.NONE
    tiles: TileOptions = field(default_factory=TileOptions)
    team_names: dict[str, str] = field(default_factory=dict)
    open_cases: dict[str, int] = field(default_factory=dict)  # by grid code


def coverage_map(layers: dict[LayerKind, Layer], options: CoverageOptions) -> folium.Map:
    """The coverage map of a town's published layers (grids required, the others when present)."""
    lang = options.lang
    grids = layers[LayerKind.GRIDS]
    m = base_map(grids.frame.total_bounds, options.basemap, options.tiles, lang)
    colours = team_colours(_teams(grids) | _teams(layers.get(LayerKind.STREETS)))
    _grids(m, grids, layers.get(LayerKind.STREETS), colours, options)
    for kind, key, colour in (
        (LayerKind.COMMITTEES, "committees", "#636363"),
        (LayerKind.CELLS, "cells", "#969696"),
    ):
        if kind in layers:
            _outline(m, layers[kind], text(key, lang), colour, 0.6, options, show=False)
    if LayerKind.STREETS in layers:
        _streets(m, layers[LayerKind.STREETS], colours, options)
    for kind, key, colour, weight in (  # drawn last, so the grids' fill does not hide them
        (LayerKind.UNITS, "units", "#54278f", 3.0),
        (LayerKind.TOWNS, "towns", "#b30000", 4.0),
        (LayerKind.JURISDICTION, "jurisdiction", "#000000", 3.5),
    ):
        if kind in layers:
            _outline(m, layers[kind], text(key, lang), colour, weight, options)
    m.get_root().html.add_child(title_element(text("coverage_title", lang)))
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _tolerance(layer: Layer) -> float:
    return display_tolerance(layer.frame.total_bounds, 6000.0)


def _outline(
    m: folium.Map,
    layer: Layer,
    name: str,
    colour: str,
    weight: float,
    options: CoverageOptions,
    show: bool = True,
) -> None:
    tolerance = _tolerance(layer)
    shift = shift_for(options.basemap)
    outline_layer(
        m, layer.frame, name, colour, weight, options.lang, shift=shift, tolerance_deg=tolerance,
        show=show,
    )  # fmt: skip


def darker(colour: str, factor: float = 0.65) -> str:
    """The same hue, darker: streets stand out on the grid fill of their own team."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{int(c * factor):02x}" for c in rgb)


def _teams(layer: Layer | None) -> set[str]:
    if layer is None or "team" not in layer.frame:
        return set()
    return {t for t in layer.frame["team"].dropna().astype(str) if t}


def team_colours(teams: set[str]) -> dict[str, str]:
    """A colour per team, stable: teams sorted by code take the palette in turn."""
    return {team: TEAM_PALETTE[i % len(TEAM_PALETTE)] for i, team in enumerate(sorted(teams))}


def _grids(
    m: folium.Map,
    grids: Layer,
    streets: Layer | None,
    colours: dict[str, str],
    options: CoverageOptions,
) -> None:
    lang = options.lang
    frame = grids.frame
    codes = frame["code"].astype(str).tolist()
    teams = frame["team"].fillna("").astype(str).tolist() if "team" in frame else [""] * len(codes)
    palette = list(colours.values())
    index = {team: i for i, team in enumerate(colours)}
    classes = np.array([index.get(t, -1) for t in teams])
    area = area_km2(grids)
    km = street_km(grids, streets)
    data = AreaData(
        frame.geometry,
        {
            "code": codes,
            "name": _names(frame, lang),
            "team": [options.team_names.get(t, t) or "–" for t in teams],
            "km2": [round(area[c], 3) for c in codes],
            "street_km": [round(km.get(c, 0.0), 2) for c in codes],
            "open": [options.open_cases.get(c, 0) for c in codes],
        },
        tolerance_deg=_tolerance(grids),
        shift=shift_for(options.basemap),
        label_points=len(codes) <= LABEL_LIMIT,
    )
    m.add_child(data)
    tip = [
        (text("name", lang), "name"),
        (text("code", lang), "code"),
        (text("team", lang), "team"),
        (text("area_km2", lang), "km2"),
        (text("street_km", lang), "street_km"),
        (text("open_cases", lang), "open"),
    ]
    legend = [(colours[t], options.team_names.get(t, t)) for t in colours if t in set(teams)]
    AreaView(
        data,
        text("grids", lang),
        classes,
        palette,
        legend,
        tip,
        fill=0.55,
        stroke="#333333",
        weight=1.2,
    ).add_to(m)
    if len(codes) <= LABEL_LIMIT:
        AreaLabels(data, text("grid_labels", lang), "name").add_to(m)


def _names(frame: object, lang: str) -> list[str]:
    """Names in the asked language: ``name_en`` for English when the layer has it."""
    column = "name_en" if lang == "en" and "name_en" in frame else "name"  # type: ignore[operator]
    return frame[column].fillna("").astype(str).tolist()  # type: ignore[index]


def _streets(
    m: folium.Map, streets: Layer, colours: dict[str, str], options: CoverageOptions
) -> None:
    """Street segments coloured by their responsible team, as GeoJSON lines."""
    frame = streets.frame[["code", "name", "geometry"]].copy()
    frame["team"] = streets.frame["team"].fillna("").astype(str) if "team" in streets.frame else ""
    frame["team_name"] = [options.team_names.get(t, t) or "–" for t in frame["team"]]
    shift = shift_for(options.basemap)
    if shift is not None:
        from gridsvc.maps.areas import shifted

        frame = frame.set_geometry(shifted(frame.geometry.to_numpy(), shift), crs=frame.crs)
    lang = options.lang
    folium.GeoJson(
        frame.to_json(drop_id=True),
        name=text("streets", lang),
        style_function=lambda f: {
            "color": darker(colours.get(f["properties"]["team"], "#999999")),
            "weight": 3,
            "opacity": 0.9,
        },
        tooltip=folium.GeoJsonTooltip(
            ["name", "code", "team_name"],
            aliases=[text("name", lang), text("code", lang), text("team", lang)],
        ),
        show=True,
    ).add_to(m)
