"""The hotspot map: where cases concentrate, what is significant, and how it moves in time.

Views of the grids (and of the cells when given): case counts and rate per
km² in mapclassify classes, Gi* hot and cold spots at 90/95/99 %, a time
view of Gi* by month or week; a heat layer from binned points; the top grids
and categories in a side table. The page stays small whatever the number of
cases: areas are sent once (:mod:`gridsvc.maps.areas`) and the heat layer
has at most ``max_heat_points`` weighted points.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.plugins import HeatMap

from gridsvc.core.crs import gauss_kruger_epsg, transformer
from gridsvc.core.hotspots import (
    CaseCounts,
    area_index,
    classify,
    contiguity,
    counts_by_period,
    gi_star,
    heat_bins,
)
from gridsvc.core.measures import areas_km2
from gridsvc.maps.areas import (
    AreaData,
    AreaView,
    Panel,
    display_tolerance,
    outline_view,
    simplified,
    table_html,
    title_element,
)
from gridsvc.maps.basemaps import Basemap, TileOptions, base_map, shift_for
from gridsvc.maps.labels import text

#: Sequential reds for counts and rates (ColorBrewer YlOrRd, 7 classes).
COUNT_PALETTE = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026")
#: Gi* bins -3..+3 (cold 99 % … hot 99 %), ColorBrewer RdBu reversed, grey in the middle.
GI_PALETTE = ("#2166ac", "#67a9cf", "#d1e5f0", "#eeeeee", "#fddbc7", "#ef8a62", "#b2182b")
GI_KEYS = ("cold99", "cold95", "cold90", "not_significant", "hot90", "hot95", "hot99")
#: Heat from transparent yellow to dark red, so quiet areas stay readable under it.
HEAT_GRADIENT = {0.2: "#ffffb2", 0.45: "#fecc5c", 0.7: "#fd8d3c", 0.85: "#f03b20", 1.0: "#bd0026"}
CASE_COLUMNS = ("lon", "lat", "grid_code", "category", "created_at")


@dataclass(frozen=True)
class HotspotOptions:
    """How to draw the hotspot map; the defaults suit a leader's first look."""

    lang: str = "zh"
    basemap: Basemap = Basemap.NONE
    tiles: TileOptions = field(default_factory=TileOptions)
    period: str = "month"
    max_periods: int = 12
    classes: int = 5
    scheme: str = "natural_breaks"
    heat_bin_m: float = 100.0
    max_heat_points: int = 20_000
    top: int = 10
    subtitle: str = ""
    category_names: dict[str, str] = field(default_factory=dict)
    compact: bool = False  # a small frame (the dashboard): controls and tables start folded


@dataclass(frozen=True)
class GridPrep:
    """What the map needs of the grids whatever the cases: display outlines, km², contiguity.

    About 5 s for a 20,000-grid city (the STRtree contiguity, the areas'
    projection, the coverage simplification); the service keeps one per
    published grid version instead of redoing it for every map.
    """

    display: gpd.GeoSeries
    km2: np.ndarray
    graph: object


def prepare_grids(grids: gpd.GeoDataFrame) -> GridPrep:
    """The grids' :class:`GridPrep`."""
    with ThreadPoolExecutor(1) as pool:
        # GEOS lets go of the GIL: simplify for display on the other core meanwhile
        outlines = pool.submit(simplified, grids.geometry.to_numpy(), _tolerance(grids), True)
        km2 = areas_km2(grids)
        graph = contiguity(grids.geometry)
        display = gpd.GeoSeries(outlines.result(), crs=grids.crs)
    return GridPrep(display, km2, graph)


def hotspot_map(
    grids: gpd.GeoDataFrame,
    cases: pd.DataFrame | CaseCounts,
    options: HotspotOptions,
    cells: gpd.GeoDataFrame | None = None,
    prepared: GridPrep | None = None,
) -> folium.Map:
    """The hotspot map of ``cases``: counted already (:class:`CaseCounts`, what the service
    gets from the database), or a frame of cases (columns lon, lat, grid_code, category,
    created_at; cell_code with cells), counted here alike.

    Grids and cells are CGCS2000 frames with ``code`` and ``name``; case
    coordinates are CGCS2000 too. Everything is shifted to GCJ-02 when the
    basemap is AMap. ``prepared`` is :func:`prepare_grids` of these grids, if kept.
    """
    counts = (
        cases if isinstance(cases, CaseCounts) else CaseCounts.from_points(cases, options.period)
    )
    lang = options.lang
    shift = shift_for(options.basemap)
    m = base_map(grids.total_bounds, options.basemap, options.tiles, lang)
    table = counts.grid_period
    grid_of_row = area_index(table["grid_code"], grids["code"].tolist())
    inside = grid_of_row >= 0
    weights = table["n"].to_numpy(np.float64)
    grid_counts = np.rint(
        np.bincount(grid_of_row[inside], weights=weights[inside], minlength=len(grids))
    ).astype(np.int64)
    prep = prepared if prepared is not None else prepare_grids(grids)
    km2, graph, display = prep.km2, prep.graph, prep.display
    spots = gi_star(grid_counts, graph)
    names = grids["name"].tolist()
    rate = np.divide(grid_counts, km2, out=np.zeros(len(km2)), where=km2 > 0)
    data = AreaData(
        display,
        {
            "code": grids["code"].tolist(),
            "name": names,
            "cases": grid_counts,
            "rate": np.round(rate, 1),
            "z": np.round(spots.z, 2),
            "km2": np.round(km2, 3),
        },
        shift=shift,
    )
    m.add_child(data)
    tip = [
        (text("name", lang), "name"),
        (text("code", lang), "code"),
        (text("cases", lang), "cases"),
        (text("rate_km2", lang), "rate"),
        (text("gi_z", lang), "z"),
        (text("area_km2", lang), "km2"),
    ]
    with_cells = cells is not None and counts.cells is not None
    # Gi* on cells finds what 14 big grids average away; grids stay outlined on top
    _gi_view(m, data, spots.bins, text("gi_grids", lang), tip, lang, show=not with_cells)
    _class_view(m, data, grid_counts, text("cases", lang), tip, options, digits=0)
    _class_view(m, data, rate, text("rate_km2", lang), tip, options, digits=1)
    _time_view(m, data, graph, grid_of_row, counts, tip, options)
    if with_cells:
        _cell_views(m, cells, counts.cells or {}, options, shift)  # type: ignore[arg-type]
    outline_view(m, data, text("grids", lang), "#222222", 1.5, tip)
    heat_m = _heat(m, counts, options, shift)
    _side_table(m, grids, grid_counts, counts, options)
    subtitle = _subtitle(options, int(grid_counts.sum()), heat_m, counts.heat_share)
    m.get_root().html.add_child(title_element(text("hotspots_title", lang), subtitle))
    folium.LayerControl(collapsed=options.compact).add_to(m)
    return m


def _tolerance(frame: gpd.GeoDataFrame) -> float:
    """Display simplification: about 1/4000 of the extent (11 m for a 45 km district)."""
    return display_tolerance(frame.total_bounds, 4000.0)


def _gi_view(
    m: folium.Map,
    data: AreaData,
    bins: np.ndarray,
    name: str,
    tip: list[tuple[str, str]],
    lang: str,
    show: bool,
) -> None:
    legend = [(GI_PALETTE[i], text(key, lang)) for i, key in reversed(list(enumerate(GI_KEYS)))]
    AreaView(data, name, bins + 3, GI_PALETTE, legend, tip, show=show).add_to(m)


def _class_view(
    m: folium.Map,
    data: AreaData,
    values: np.ndarray,
    name: str,
    tip: list[tuple[str, str]],
    options: HotspotOptions,
    digits: int,
) -> None:
    classes = classify(values, min(options.classes, len(COUNT_PALETTE)), options.scheme)
    palette = _spread(COUNT_PALETTE, len(classes.upper_bounds))
    legend = list(zip(palette, classes.labels(digits), strict=False))
    AreaView(data, name, classes.classes, palette, legend, tip, show=False).add_to(m)


def _spread(palette: tuple[str, ...], n: int) -> list[str]:
    """``n`` colours picked evenly from a sequential palette (light to dark)."""
    if n <= 1:
        return [palette[-1]]
    picks = np.round(np.linspace(0, len(palette) - 1, n)).astype(int)
    return [palette[i] for i in picks]


def _time_view(
    m: folium.Map,
    data: AreaData,
    graph: object,
    grid_of_row: np.ndarray,
    counts: CaseCounts,
    tip: list[tuple[str, str]],
    options: HotspotOptions,
) -> None:
    """Gi* bins per period (the last ``max_periods``): how hot spots move."""
    if counts.total == 0:
        return
    labels = counts.grid_period["period"]
    periods = sorted(labels.unique())[-options.max_periods :]
    period_of_row = pd.Index(periods).get_indexer(labels)
    n_areas = data.count
    weights = counts.grid_period["n"].to_numpy(np.int64)
    table = counts_by_period(grid_of_row, period_of_row, n_areas, len(periods), weights)
    per_period = [gi_star(row, graph).bins + 3 for row in table]
    lang = options.lang
    legend = [(GI_PALETTE[i], text(key, lang)) for i, key in reversed(list(enumerate(GI_KEYS)))]
    AreaView(
        data,
        text("time_view", lang),
        per_period,
        GI_PALETTE,
        legend,
        tip[:2],
        periods=periods,
        period_label=text("period", lang),
        show=False,
    ).add_to(m)


def _cell_views(
    m: folium.Map,
    cells: gpd.GeoDataFrame,
    per_cell: dict[str, int],
    options: HotspotOptions,
    shift: object,
) -> None:
    lang = options.lang
    counts = np.array([per_cell.get(str(code), 0) for code in cells["code"]], dtype=np.int64)
    spots = gi_star(counts, contiguity(cells.geometry))
    km2 = areas_km2(cells)
    rate = np.divide(counts, km2, out=np.zeros(len(km2)), where=km2 > 0)
    data = AreaData(
        cells.geometry,
        {
            "code": cells["code"].tolist(),
            "name": cells["name"].tolist(),
            "cases": counts,
            "rate": np.round(rate, 1),
            "z": np.round(spots.z, 2),
        },
        tolerance_deg=_tolerance(cells),
        shift=shift,  # type: ignore[arg-type]
    )
    m.add_child(data)
    tip = [
        (text("name", lang), "name"),
        (text("cases", lang), "cases"),
        (text("rate_km2", lang), "rate"),
        (text("gi_z", lang), "z"),
    ]
    _gi_view(m, data, spots.bins, text("gi_cells", lang), tip, lang, show=True)
    _class_view(m, data, counts, text("cell_cases", lang), tip, options, digits=0)
    _class_view(m, data, rate, text("cell_rate_km2", lang), tip, options, digits=0)


def _heat(
    m: folium.Map, counts: CaseCounts, options: HotspotOptions, shift: object
) -> float | None:
    """A heat layer from binned points, weights scaled to the 99th percentile bin.

    Its points are bins of cases (made here, or by the database first), not
    cases; the bin's size in metres is returned for the subtitle to say so.
    """
    if counts.total == 0 or counts.heat_lon.size == 0:
        return None
    lon, lat = counts.heat_lon, counts.heat_lat
    epsg = gauss_kruger_epsg(float(np.nanmedian(lon)))
    x, y = transformer("EPSG:4490", f"EPSG:{epsg}").transform(lon, lat)
    heat = heat_bins(
        np.asarray(x),
        np.asarray(y),
        options.heat_bin_m,
        options.max_heat_points,
        counts.heat_weight,
    )
    hlon, hlat = transformer(f"EPSG:{epsg}", "EPSG:4490").transform(heat.x, heat.y)
    if shift is not None:
        hlon, hlat = shift(np.asarray(hlon), np.asarray(hlat))  # type: ignore[operator]
    top = max(float(np.percentile(heat.weight, 99)), 1.0)
    weight = np.minimum(heat.weight / top, 1.0)
    points = np.column_stack([np.round(hlat, 5), np.round(hlon, 5), np.round(weight, 3)])
    radius = 12 if len(points) > 2_000 else 20
    HeatMap(
        points.tolist(),
        name=text("heat", options.lang),
        radius=radius,
        blur=radius,
        min_opacity=0.05,
        gradient=HEAT_GRADIENT,
        show=False,
    ).add_to(m)
    return max(heat.bin_m, counts.heat_binned_m)


def _side_table(
    m: folium.Map,
    grids: gpd.GeoDataFrame,
    grid_counts: np.ndarray,
    counts: CaseCounts,
    options: HotspotOptions,
) -> None:
    lang = options.lang
    order = np.argsort(-grid_counts, kind="stable")[: options.top]
    grid_rows = [(grids["name"].iloc[i], int(grid_counts[i])) for i in order if grid_counts[i] > 0]
    by_category = sorted(counts.categories.items(), key=lambda kv: (-kv[1], kv[0]))[: options.top]
    category_rows = [(options.category_names.get(code, code), int(n)) for code, n in by_category]
    folded = options.compact
    html_text = table_html(
        text("top_grids", lang), [text("name", lang), text("cases", lang)], grid_rows, folded
    ) + table_html(
        text("top_categories", lang),
        [text("category", lang), text("cases", lang)],
        category_rows,
        folded,
    )
    if counts.total == 0:
        html_text = f"<b>{text('no_cases', lang)}</b>"
    Panel(html_text, "bottomleft").add_to(m)


def _subtitle(
    options: HotspotOptions, total: int, heat_m: float | None = None, share: float = 1.0
) -> str:
    """The filters, the total and the heat layer's bin (its points are bins, not cases), and
    the share of the cases it was drawn from when a sample."""
    lang = options.lang
    parts = [options.subtitle] if options.subtitle else []
    parts.append(f"{text('total', lang)} {total:,} {text('cases', lang)}")
    if heat_m is not None:
        heat = f"{text('heat', lang)} ≈{heat_m:,.0f} m"
        if share < 1.0:
            heat += " " + text("heat_sample", lang, pct=f"{100 * share:.0f}")
        parts.append(heat)
    return " · ".join(parts)
