"""The compact area encoding: what Leaflet decodes must be the polygons we meant.

The decoder below is written from Google's published encoded-polyline
algorithm, independently of the encoder in gridsvc.maps.areas.
"""

from __future__ import annotations

import json
import re

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridsvc.maps.areas import class_string, encode_polygons, script_json, simplified


def decode(text: str) -> list[tuple[float, float]]:
    """(lat, lng) pairs of an encoded polyline."""
    values, current, shift, i = [], 0, 0, 0
    for char in text:
        chunk = ord(char) - 63
        current |= (chunk & 0x1F) << shift
        shift += 5
        if chunk < 0x20:
            values.append(~(current >> 1) if current & 1 else current >> 1)
            current, shift = 0, 0
        i += 1
    lat = lng = 0
    out = []
    for k in range(0, len(values), 2):
        lat += values[k]
        lng += values[k + 1]
        out.append((lat / 1e5, lng / 1e5))
    return out


def ring_lonlat(ring: shapely.LinearRing) -> list[tuple[float, float]]:
    coords = np.asarray(ring.coords)[:-1]
    return [(round(lat, 5), round(lon, 5)) for lon, lat in coords]


coordinate = st.tuples(st.floats(73.0, 135.0), st.floats(4.0, 53.0))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(coordinate, min_size=3, max_size=12), min_size=1, max_size=5))
def test_every_ring_decodes_to_its_vertices_at_1e5_degrees(rings: list[list[tuple]]) -> None:
    polygons = [shapely.Polygon(r) for r in rings]
    encoded = encode_polygons(np.array(polygons, dtype=object))
    assert len(encoded) == len(polygons)
    for polygon, feature in zip(polygons, encoded, strict=True):
        (only,) = feature  # a Polygon is one part
        decoded = decode(only[0])
        expected = ring_lonlat(polygon.exterior)
        assert len(decoded) == len(expected)
        assert np.allclose(decoded, expected, atol=1.01e-5)


def test_holes_and_multipolygons_keep_their_structure() -> None:
    outer = shapely.box(121.0, 31.0, 121.01, 31.01)
    hole = shapely.box(121.002, 31.002, 121.004, 31.004)
    with_hole = shapely.Polygon(outer.exterior, [hole.exterior])
    multi = shapely.MultiPolygon([shapely.box(121.1, 31.1, 121.11, 31.11), outer])
    encoded = encode_polygons(np.array([with_hole, multi], dtype=object))
    assert [len(part) for part in encoded[0]] == [2]  # one polygon: outer ring + hole
    assert [len(part) for part in encoded[1]] == [1, 1]  # two polygons
    assert np.allclose(decode(encoded[0][0][1]), ring_lonlat(with_hole.interiors[0]), atol=1.01e-5)


def test_coverage_simplification_keeps_neighbours_touching() -> None:
    rng = np.random.default_rng(1)
    zigzag = [(121.0 + i * 0.0001, 31.0 + rng.uniform(-2e-5, 2e-5)) for i in range(101)]
    south = shapely.Polygon([(121.0, 30.99), (121.01, 30.99), *zigzag[::-1]])
    north = shapely.Polygon([*zigzag, (121.01, 31.01), (121.0, 31.01)])
    out = simplified(np.array([south, north], dtype=object), 2e-4, coverage=True)
    assert shapely.get_num_coordinates(out).sum() < 60  # the zigzag went
    assert out[0].intersection(out[1]).length > 0.009  # still one shared edge
    assert out[0].intersection(out[1]).area == 0.0  # and no overlap


def test_class_strings_have_one_character_per_area() -> None:
    assert class_string(np.array([0, 3, -1, 6, 10])) == "03-6a"


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_script_json_survives_script_tags_and_templates(name: str) -> None:
    dumped = script_json({"name": name, "f": ["{%", "{{x}}", "{#", "</script>"]})
    assert "</" not in dumped
    assert not re.search(r"\{[{%#]", dumped)
    assert json.loads(dumped) == {"name": name, "f": ["{%", "{{x}}", "{#", "</script>"]}
