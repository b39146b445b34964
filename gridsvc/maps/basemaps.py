"""Basemaps: none, OpenStreetMap, Tianditu (天地图), AMap (GCJ-02), or an intranet tile server.

Our layers are CGCS2000, which is WGS-84 to within centimetres: they line up
with OpenStreetMap and Tianditu's web-mercator tiles (``_w``) as they are.
AMap's tiles are drawn in GCJ-02, offset by up to ~500 m, so on an AMap
basemap every overlay coordinate is shifted to GCJ-02 first (see
:func:`shift_for`); a map therefore has one frame and never mixes AMap with
the others. Offline (no request may leave the machine) only "none" and the
intranet tile server are allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import folium
import numpy as np

from gridsvc.core.crs import wgs84_to_gcj02
from gridsvc.core.errors import InvalidInput
from gridsvc.core.messages import Msg
from gridsvc.maps.labels import text

Shift = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class Basemap(StrEnum):
    NONE = "none"
    OSM = "osm"
    TIANDITU = "tianditu"
    AMAP = "amap"
    INTRANET = "intranet"


_OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_TIANDITU = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)
_AMAP = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"
_OSM_ATTR = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'


@dataclass(frozen=True)
class TileOptions:
    """What the deployment allows: the Tianditu key, an intranet tile URL, offline mode."""

    tianditu_key: str = ""
    intranet_url: str = ""
    intranet_attribution: str = ""
    offline: bool = True  # the safe default: nothing leaves the machine


def parse_basemap(name: str, options: TileOptions) -> Basemap:
    """The basemap asked for, refused with a reason when this deployment cannot show it."""
    try:
        basemap = Basemap(name)
    except ValueError:
        allowed = [b.value for b in Basemap]
        raise InvalidInput(Msg("basemap.unknown", name=name, allowed=allowed)) from None
    if options.offline and basemap not in (Basemap.NONE, Basemap.INTRANET):
        raise InvalidInput(Msg("basemap.offline", basemap=basemap.value))
    if basemap is Basemap.TIANDITU and not options.tianditu_key:
        raise InvalidInput(Msg("basemap.tianditu_key"))
    if basemap is Basemap.INTRANET and not options.intranet_url:
        raise InvalidInput(Msg("basemap.no_intranet"))
    return basemap


def shift_for(basemap: Basemap) -> Shift | None:
    """The coordinate shift overlays need on this basemap (GCJ-02 for AMap), or None."""
    return wgs84_to_gcj02 if basemap is Basemap.AMAP else None


def base_map(
    bounds: Sequence[float], basemap: Basemap, options: TileOptions, lang: str
) -> folium.Map:
    """A canvas-drawn map fitted to ``bounds`` (minx, miny, maxx, maxy in CGCS2000) with its basemaps.

    The bounds are shifted like the overlays, so an AMap map opens on the town.
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    lons, lats = np.array([minx, maxx]), np.array([miny, maxy])
    shift = shift_for(basemap)
    if shift is not None:
        lons, lats = shift(lons, lats)
    m = folium.Map(tiles=None, prefer_canvas=True, control_scale=True, zoom_snap=0.25)
    m.fit_bounds(
        [[float(lats[0]), float(lons[0])], [float(lats[1]), float(lons[1])]], padding=(12, 12)
    )
    add_basemaps(m, basemap, options, lang)
    return m


def add_basemaps(m: folium.Map, chosen: Basemap, options: TileOptions, lang: str) -> None:
    """Add the chosen basemap (shown) and the others of the same frame as alternatives."""
    frame = [chosen] if chosen is Basemap.AMAP else _same_frame(chosen, options)
    for basemap in frame:
        _add(m, basemap, options, lang, show=basemap is chosen)


def _same_frame(chosen: Basemap, options: TileOptions) -> list[Basemap]:
    """The chosen one first, then every other CGCS2000-aligned basemap this deployment allows."""
    candidates = [Basemap.NONE, Basemap.INTRANET, Basemap.TIANDITU, Basemap.OSM]
    allowed = [chosen]
    for basemap in candidates:
        if basemap is chosen:
            continue
        try:
            parse_basemap(basemap.value, options)
        except InvalidInput:
            continue
        allowed.append(basemap)
    return allowed


def _add(m: folium.Map, basemap: Basemap, options: TileOptions, lang: str, show: bool) -> None:
    name = text({"none": "basemap_none"}.get(basemap.value, basemap.value), lang)
    if basemap is Basemap.NONE:
        # an empty base layer, so "no basemap" is a choice in the layer control
        folium.FeatureGroup(name=name, overlay=False, show=show).add_to(m)
    elif basemap is Basemap.OSM:
        folium.TileLayer(_OSM, name=name, attr=_OSM_ATTR, max_zoom=19, show=show).add_to(m)
    elif basemap is Basemap.TIANDITU:
        for layer, key in (("vec", "tianditu"), ("cva", "tianditu_labels")):
            folium.TileLayer(
                _TIANDITU.format(layer=layer, key=options.tianditu_key),
                name=text(key, lang),
                attr="&copy; 天地图 Tianditu",
                subdomains="01234567",
                max_zoom=18,
                overlay=layer == "cva",
                show=show,
            ).add_to(m)
    elif basemap is Basemap.AMAP:
        folium.TileLayer(
            _AMAP, name=name, attr="&copy; 高德地图 AMap", subdomains="1234", max_zoom=18, show=show
        ).add_to(m)
    else:
        folium.TileLayer(
            options.intranet_url,
            name=name,
            attr=options.intranet_attribution or name,
            show=show,
        ).add_to(m)
