"""Compact area layers for folium: geometry sent once, styled by many views.

A hotspot map of a 20,000-grid city has the same polygons in four views
(counts, rate per km², Gi*, the time view). Written as folium GeoJson layers
that is four copies of ~7 MB of coordinates; a leader on a slow intranet
would wait minutes. Here the polygons are simplified as a coverage (shared
edges stay shared, so no slivers open between grids), encoded once with the
encoded-polyline algorithm (about 3 bytes a vertex at 1 m precision) and
every view is a per-area class string (one character an area). Leaflet
decodes them on first display and draws them on a canvas.

The elements are ordinary folium Layers, so folium's LayerControl lists
them; each view shows its own legend while it is switched on.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import orjson
import shapely
from branca.element import Element, MacroElement
from folium.template import Template

from gridsvc.maps.basemaps import Shift
from gridsvc.maps.labels import text

PRECISION = 1e5  # encoded-polyline precision: 1e-5 degree, about 1 m
_CLASS_CHARS = np.array(list("0123456789abcdefghijklmnopqrstuvwxyz"))
NO_CLASS = -1
LABEL_LIMIT = 400  # permanent names beyond this many areas would bury the map

_JS = """
window.gridsvc = window.gridsvc || (function () {
  function decode(str) {
    var i = 0, lat = 0, lng = 0, out = [];
    while (i < str.length) {
      var b, shift = 0, result = 0;
      do { b = str.charCodeAt(i++) - 63; result |= (b & 31) << shift; shift += 5; } while (b >= 32);
      lat += (result & 1) ? ~(result >> 1) : (result >> 1);
      shift = 0; result = 0;
      do { b = str.charCodeAt(i++) - 63; result |= (b & 31) << shift; shift += 5; } while (b >= 32);
      lng += (result & 1) ? ~(result >> 1) : (result >> 1);
      out.push([lat / 1e5, lng / 1e5]);
    }
    return out;
  }
  function latlngs(d) {
    if (!d.ll) {
      d.ll = d.f.map(function (polys) {
        return polys.map(function (rings) { return rings.map(decode); });
      });
    }
    return d.ll;
  }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c];
    });
  }
  function tip(d, v, i) {
    var rows = v.tip.map(function (t) {
      var value = d.cols[t[1]][i];
      return "<tr><th>" + esc(t[0]) + "</th><td>" + esc(value === null ? "–" : value) + "</td></tr>";
    });
    return "<table class='gs-tip'>" + rows.join("") + "</table>";
  }
  function style(v, c) {
    if (c === "-" || c === undefined) {
      return {fillOpacity: 0, color: v.stroke, weight: v.weight, opacity: v.line};
    }
    return {fillColor: v.palette[parseInt(c, 36)], fillOpacity: v.fill,
            color: v.stroke, weight: v.weight, opacity: v.line};
  }
  function legend(map, group, v) {
    if (!v.legend || !v.legend.length) { return; }
    var control = L.control({position: "bottomright"});
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "gs-legend");
      var html = "<b>" + esc(v.title) + "</b>";
      v.legend.forEach(function (e) {
        html += "<div><i style='background:" + e[0] + "'></i>" + esc(e[1]) + "</div>";
      });
      div.innerHTML = html;
      return div;
    };
    group.on("add", function () { control.addTo(map); });
    group.on("remove", function () { control.remove(); });
  }
  function slider(map, group, v) {
    if (!v.periods) { return; }
    var control = L.control({position: "topleft"});
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "gs-legend gs-slider");
      div.innerHTML = "<b>" + esc(v.periodLabel) + ": <span class='gs-period'></span></b><br>" +
        "<input type='range' min='0' max='" + (v.periods.length - 1) + "' value='" +
        (v.periods.length - 1) + "' style='width:220px'>";
      var input = div.querySelector("input"), label = div.querySelector(".gs-period");
      function show(k) {
        v.cls = v.byPeriod[k];
        label.textContent = v.periods[k];
        group.eachLayer(function (p) { p.setStyle(style(v, v.cls[p._gi])); });
      }
      input.addEventListener("input", function () { show(+input.value); });
      L.DomEvent.disableClickPropagation(div);
      setTimeout(function () { show(+input.value); }, 0);
      return div;
    };
    group.on("add", function () { control.addTo(map); });
    group.on("remove", function () { control.remove(); });
  }
  function view(map, d, v) {
    var group = L.featureGroup();
    if (v.byPeriod) { v.cls = v.byPeriod[v.byPeriod.length - 1]; }
    group.on("add", function () {
      if (group._built) { return; }
      group._built = true;
      var ll = latlngs(d), renderer = L.canvas({padding: 0.5});
      for (var i = 0; i < ll.length; i++) {
        var c = v.cls[i];
        if (c === "-" && !v.byPeriod && !v.outline) { continue; }
        var poly = L.polygon(ll[i], Object.assign({renderer: renderer}, style(v, c)));
        poly._gi = i;
        if (v.tip.length) {
          poly.bindTooltip(function (layer) { return tip(d, v, layer._gi); }, {sticky: true});
        }
        group.addLayer(poly);
      }
    });
    legend(map, group, v);
    slider(map, group, v);
    return group;
  }
  function labels(d, column) {
    var group = L.featureGroup();
    d.lp.forEach(function (p, i) {
      var icon = L.divIcon({className: "gs-label", html: esc(d.cols[column][i]), iconSize: null});
      group.addLayer(L.marker(p, {icon: icon, interactive: false}));
    });
    return group;
  }
  return {view: view, labels: labels, decode: decode};
})();
"""

_CSS = """
<style>
.gs-legend{background:#fff;padding:6px 8px;font:12px/1.5 "Noto Sans CJK SC","Noto Sans SC","Microsoft YaHei","PingFang SC",sans-serif;border-radius:4px;box-shadow:0 0 6px rgba(0,0,0,.3);max-width:320px}
.gs-legend i{display:inline-block;width:14px;height:12px;margin-right:6px;vertical-align:middle;border:1px solid #888}
.gs-label{font:12px "Noto Sans CJK SC","Noto Sans SC","Microsoft YaHei",sans-serif;color:#222;white-space:nowrap;text-shadow:0 0 3px #fff,0 0 3px #fff;transform:translate(-50%,-50%)}
.gs-tip th{text-align:left;padding-right:8px;font-weight:normal;color:#555}
.gs-panel table{border-collapse:collapse;font-size:12px}.gs-panel td,.gs-panel th{padding:1px 6px;border-bottom:1px solid #eee;text-align:left}
.gs-panel td.n{text-align:right}
.gs-title{font:bold 15px "Noto Sans CJK SC","Noto Sans SC","Microsoft YaHei",sans-serif}
</style>
"""


class AreaData(MacroElement):
    """The polygons of one level, encoded once, with the columns tooltips show.

    ``coverage`` says the polygons tile the area (grids, units): they are then
    simplified together with ``shapely.coverage_simplify`` so neighbours keep
    their common edge. ``shift`` moves coordinates to a basemap's frame.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}"""
        + _CSS
        + """{% endmacro %}
        {% macro script(this, kwargs) %}
        """
        + _JS
        + """
        var {{ this.get_name() }} = {{ this.payload }};
        {% endmacro %}
        """
    )

    def __init__(
        self,
        geometry: gpd.GeoSeries,
        columns: dict[str, Sequence[Any]],
        tolerance_deg: float = 0.0,
        coverage: bool = True,
        shift: Shift | None = None,
        label_points: bool = False,
    ) -> None:
        super().__init__()
        self._name = "AreaData"
        geoms = simplified(np.asarray(geometry.values), tolerance_deg, coverage)
        if shift is not None:
            geoms = shifted(geoms, shift)
        data: dict[str, Any] = {"f": encode_polygons(geoms), "cols": _plain(columns)}
        if label_points:
            points = shapely.point_on_surface(geoms)
            data["lp"] = np.round(shapely.get_coordinates(points)[:, ::-1], 5).tolist()
        self.count = len(geoms)
        self.bounds = shapely.total_bounds(geoms) if len(geoms) else np.zeros(4)
        self.payload = script_json(data)


class AreaView(folium.map.Layer):
    """One way of colouring an :class:`AreaData`: a class per area, a palette, a legend.

    ``classes`` holds one class per area (-1 = none: drawn as outline only
    when ``outline``, else skipped), or for a time view one array per period
    with ``periods`` naming them; the last period is shown first.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = window.gridsvc.view(
            {{ this._parent.get_name() }}, {{ this.data.get_name() }}, {{ this.payload }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        data: AreaData,
        name: str,
        classes: np.ndarray | Sequence[np.ndarray],
        palette: Sequence[str],
        legend: Sequence[tuple[str, str]] = (),
        tooltip: Sequence[tuple[str, str]] = (),
        periods: Sequence[str] | None = None,
        period_label: str = "",
        fill: float = 0.7,
        stroke: str = "#555555",
        weight: float = 0.6,
        line: float = 0.8,
        outline: bool = False,
        show: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "AreaView"
        self.data = data
        view: dict[str, Any] = {
            "title": name,
            "palette": list(palette),
            "legend": [list(e) for e in legend],
            "tip": [list(t) for t in tooltip],
            "fill": fill,
            "stroke": stroke,
            "weight": weight,
            "line": line,
            "outline": outline,
        }
        if periods is None:
            view["cls"] = class_string(np.asarray(classes))
        else:
            view["byPeriod"] = [class_string(np.asarray(c)) for c in classes]
            view["periods"] = list(periods)
            view["periodLabel"] = period_label
        self.payload = script_json(view)


class AreaLabels(folium.map.Layer):
    """Permanent labels (e.g. Chinese grid names) at each area's representative point."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = window.gridsvc.labels(
            {{ this.data.get_name() }}, {{ this.column|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, data: AreaData, name: str, column: str, show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "AreaLabels"
        self.data = data
        self.column = column


class Panel(MacroElement):
    """A fixed box on the map (title, side table), HTML given escaped by the caller."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
          var control = L.control({position: {{ this.position|tojson }}});
          control.onAdd = function () {
            var div = L.DomUtil.create("div", "gs-legend gs-panel");
            div.innerHTML = {{ this.html|tojson }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
          };
          control.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, position: str = "topright") -> None:
        super().__init__()
        self._name = "Panel"
        self.html = html_text
        self.position = position


def outline_view(
    m: folium.Map,
    data: AreaData,
    name: str,
    colour: str,
    weight: float,
    tooltip: Sequence[tuple[str, str]],
    *,
    legend: bool = False,
    show: bool = True,
) -> None:
    """The areas of ``data`` as outlines only, in one colour (a legend entry when asked)."""
    AreaView(
        data,
        name,
        np.full(data.count, NO_CLASS),
        ["#000000"],
        [(colour, name)] if legend else (),
        tooltip,
        stroke=colour,
        weight=weight,
        line=0.9,
        outline=True,
        show=show,
    ).add_to(m)


def display_tolerance(bounds: Sequence[float], divisions: float) -> float:
    """Simplification for display: the larger side of ``bounds`` split in ``divisions``."""
    minx, miny, maxx, maxy = bounds
    return max(maxx - minx, maxy - miny) / divisions


def outline_layer(
    m: folium.Map,
    frame: gpd.GeoDataFrame,
    name: str,
    colour: str,
    weight: float,
    lang: str,
    *,
    shift: Shift | None = None,
    tolerance_deg: float = 0.0,
    legend: bool = False,
    labels: bool = False,
    show: bool = True,
) -> None:
    """A level drawn as outlines only (jurisdiction, units, old/new grids), names in tooltips.

    ``labels`` also puts each name on the map (up to :data:`LABEL_LIMIT` areas).
    """
    labels = labels and len(frame) <= LABEL_LIMIT
    data = AreaData(
        frame.geometry,
        {"code": frame["code"].astype(str).tolist(), "name": frame["name"].astype(str).tolist()},
        tolerance_deg=tolerance_deg,
        shift=shift,
        label_points=labels,
    )
    m.add_child(data)
    tip = [(text("name", lang), "name"), (text("code", lang), "code")]
    outline_view(m, data, name, colour, weight, tip, legend=legend, show=show)
    if labels:
        AreaLabels(data, f"{name} · {text('name', lang)}", "name").add_to(m)


def table_html(
    title: str, header: Sequence[str], rows: Sequence[Sequence[object]], folded: bool = False
) -> str:
    """A small escaped HTML table for a :class:`Panel`; numbers right-aligned."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='n'>{v:,}</td>"
            if isinstance(v, int | np.integer)
            else f"<td>{html.escape(str(v))}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    state = "" if folded else " open"
    return f"<details{state}><summary><b>{html.escape(title)}</b></summary><table><tr>{head}</tr>{body}</table></details>"


def title_element(title: str, subtitle: str = "") -> Element:
    """The map's title in the top centre, in the page's language."""
    sub = (
        f"<div style='font-size:12px;font-weight:normal'>{html.escape(subtitle)}</div>"
        if subtitle
        else ""
    )
    return Element(
        "<div class='gs-legend gs-title' style='position:fixed;top:10px;left:50%;"
        f"transform:translateX(-50%);z-index:1000'>{html.escape(title)}{sub}</div>"
    )


def simplified(geoms: np.ndarray, tolerance_deg: float, coverage: bool) -> np.ndarray:
    """Geometries simplified for display; a coverage keeps its shared edges shared."""
    if tolerance_deg <= 0 or len(geoms) == 0:
        return geoms
    if coverage:
        try:
            return np.asarray(shapely.coverage_simplify(geoms, tolerance_deg))
        except shapely.errors.GEOSException:
            pass  # not a clean coverage (e.g. old and new grids together): simplify one by one
    return np.asarray(shapely.simplify(geoms, tolerance_deg, preserve_topology=True))


def shifted(geoms: np.ndarray, shift: Shift) -> np.ndarray:
    """Every coordinate moved by ``shift`` (lon, lat arrays → lon, lat arrays)."""

    def move(xy: np.ndarray) -> np.ndarray:
        lon, lat = shift(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return np.asarray(shapely.transform(geoms, move))


def encode_polygons(geoms: np.ndarray) -> list[list[list[str]]]:
    """Each (multi)polygon as polygons → rings → encoded-polyline strings (lat, lng order).

    The closing vertex of each ring is dropped: Leaflet closes rings itself.
    """
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    coords, coord_of = shapely.get_coordinates(rings, return_index=True)
    if len(coords) == 0:
        return [[] for _ in geoms]
    last = np.r_[coord_of[1:] != coord_of[:-1], True]
    coords, coord_of = coords[~last], coord_of[~last]
    strings = _encode_rings(coords, coord_of, len(rings))
    features: list[list[list[str]]] = [[] for _ in geoms]
    polygons: list[list[str]] = [[] for _ in parts]
    for ring, part in enumerate(ring_of):
        polygons[part].append(strings[ring])
    for part, feature in enumerate(part_of):
        features[feature].append(polygons[part])
    return features


def _encode_rings(coords: np.ndarray, ring_of: np.ndarray, n_rings: int) -> list[str]:
    """Google's encoded-polyline algorithm, vectorised over all rings at once."""
    q = np.round(coords[:, ::-1] * PRECISION).astype(np.int64)  # lat, lng
    first = np.r_[True, ring_of[1:] != ring_of[:-1]]
    delta = q.copy()
    delta[1:] -= q[:-1]
    delta[first] = q[first]
    values = delta.ravel()
    zigzag = (values << 1) ^ (values >> 63)
    chunks = np.zeros((values.size, 7), dtype=np.uint8)
    valid = np.zeros((values.size, 7), dtype=bool)
    for k in range(7):
        rest = zigzag >> (5 * k)
        more = (zigzag >> (5 * (k + 1))) > 0
        chunks[:, k] = ((rest & 31) | np.where(more, 32, 0)) + 63
        valid[:, k] = (k == 0) | (rest > 0)
    text = chunks[valid].tobytes().decode("ascii")
    per_value = valid.sum(axis=1)
    per_ring = np.bincount(np.repeat(ring_of, 2), weights=per_value, minlength=n_rings)
    ends = np.cumsum(per_ring).astype(np.int64)
    starts = np.r_[0, ends[:-1]]
    return [text[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]


def class_string(classes: np.ndarray) -> str:
    """One character per area: its class in base 36, ``-`` for none."""
    out = np.full(classes.shape, "-", dtype="<U1")
    ok = classes >= 0
    out[ok] = _CLASS_CHARS[classes[ok]]
    return "".join(out.tolist())


def script_json(value: Any) -> str:
    """JSON safe inside a <script> element and through branca's templates.

    ``<`` is escaped so no ``</script>`` can close the element early. branca
    turns every rendered script into a Jinja template again, so ``%``, ``#``
    and a ``{`` before ``{`` (only ever inside strings in JSON) are escaped
    too; encoded polylines are full of them.
    """
    dumped = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    for char, escaped in (("<", "\\u003c"), ("%", "\\u0025"), ("#", "\\u0023")):
        dumped = dumped.replace(char, escaped)
    return re.sub(r"\{(?=\{)", r"\\u007b", dumped)


def _plain(columns: dict[str, Sequence[Any]]) -> dict[str, list[Any]]:
    out = {}
    for key, values in columns.items():
        array = np.asarray(values, dtype=object)
        out[key] = [None if _missing(v) else v for v in array.tolist()]
    return out


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not np.isfinite(value))
