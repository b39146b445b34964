"""Writes planner_city_4549.gpkg: a grid layer as a planner's GIS hands it over.

Layer ``city`` (not ``grids``), fields ``gb`` (the code, an integer) and
``name``, no ``parent_code``, in CGCS2000 / 3-degree Gauss-Krüger CM 120E
(EPSG:4549, metres), with an island group 60 km off the main block, and a
second layer ``roads`` of street lines. Run: python tests/data/make_planner_layers.py
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

HERE = Path(__file__).parent
OUT = HERE / "planner_city_4549.gpkg"
X0, Y0 = 545_000.0, 3_465_000.0  # near Shanghai's Baoshan in EPSG:4549
SIDE = 1_000.0


def main() -> None:
    cells = []
    for i in range(3):
        for j in range(3):
            x, y = X0 + i * SIDE, Y0 + j * SIDE
            cells.append(shapely.box(x, y, x + SIDE, y + SIDE))
    islands = [shapely.box(X0 + 60_000 + k * 400, Y0 + 5_000, X0 + 60_300 + k * 400, Y0 + 5_300)
               for k in range(2)]  # fmt: skip
    shapes = cells + islands
    grids = gpd.GeoDataFrame(
        {
            "gb": [310113_001_000 + n for n in range(len(shapes))],
            "name": [f"第{n + 1}网格" for n in range(len(shapes))],
        },
        geometry=shapes,
        crs="EPSG:4549",
    )
    roads = gpd.GeoDataFrame(
        {"name": ["示范路", "海岛路"]},
        geometry=[
            shapely.LineString([(X0, Y0 + 1_500), (X0 + 3 * SIDE, Y0 + 1_500)]),
            shapely.LineString([(X0 + 60_000, Y0 + 5_150), (X0 + 60_700, Y0 + 5_150)]),
        ],
        crs="EPSG:4549",
    )
    OUT.unlink(missing_ok=True)
    grids.to_file(OUT, layer="city", engine="pyogrio")
    roads.to_file(OUT, layer="roads", engine="pyogrio")


if __name__ == "__main__":
    main()
