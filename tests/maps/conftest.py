"""Fixtures for the map tests: a map with every plugin gridsvc uses (the browser is in tests/conftest.py)."""

from __future__ import annotations

import copy

import branca.colormap
import folium
import folium.plugins
import pytest

GRID = {
    "type": "Feature",
    "id": "0",
    "properties": {"name": "第一网格"},
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [
                [121.440, 31.325],
                [121.460, 31.325],
                [121.460, 31.340],
                [121.440, 31.340],
                [121.440, 31.325],
            ]
        ],
    },
}


GRIDS = {"type": "FeatureCollection", "features": [GRID]}


@pytest.fixture
def grids() -> dict:
    """One grid, 第一网格, as a FeatureCollection (a fresh copy: folium may annotate it)."""
    return copy.deepcopy(GRIDS)


@pytest.fixture
def every_plugin_map() -> folium.Map:
    """A tile-less map with every folium element and plugin gridsvc's maps use."""
    m = folium.Map(location=[31.333, 121.450], zoom_start=14, tiles=None)
    tooltip = folium.GeoJsonTooltip(["name"], labels=False)
    folium.GeoJson(copy.deepcopy(GRIDS), tooltip=tooltip).add_to(m)
    folium.Marker([31.333, 121.450], icon=folium.Icon()).add_to(m)  # glyphicon
    rotated = folium.Icon(prefix="fa", icon="house", angle=30)  # font-awesome, rotate css
    folium.Marker([31.330, 121.445], icon=rotated).add_to(m)
    folium.plugins.HeatMap([[31.333, 121.450, 1.0], [31.331, 121.452, 0.5]]).add_to(m)
    folium.plugins.Fullscreen().add_to(m)
    folium.plugins.MousePosition().add_to(m)
    folium.plugins.TimestampedGeoJson(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [121.45, 31.33]},
                    "properties": {"times": ["2024-01-01", "2024-01-02"]},
                }
            ],
        }
    ).add_to(m)
    folium.plugins.TimeSliderChoropleth(
        copy.deepcopy(GRIDS),
        styledict={"0": {"1704067200": {"color": "#d62728", "opacity": 1}}},
    ).add_to(m)
    cases = folium.FeatureGroup("案件").add_to(m)
    patrols = folium.FeatureGroup("巡查").add_to(m)
    folium.plugins.GroupedLayerControl({"图层": [cases, patrols]}, exclusive_groups=False).add_to(m)
    branca.colormap.LinearColormap(
        ["#2ca02c", "#d62728"], vmin=0, vmax=10, caption="案件数"
    ).add_to(m)
    branca.colormap.StepColormap(["#2ca02c", "#ff7f0e", "#d62728"], vmin=0, vmax=3).add_to(m)
    return m
