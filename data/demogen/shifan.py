"""示范镇 (Shifan), the demo town: its outline and main roads, the first town of 示范区."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import Polygon

from .roads import MajorRoad, make_major_roads
from .territory import TownSpec

CODE = "310106113"
TOWN_AREA_M2 = 8.0e6


def make_boundary() -> Polygon:
    """An irregular outline of 8 km²: straight west and south edges, a meandering north."""
    th = np.linspace(0.0, 2 * np.pi, 360, endpoint=False)
    r = (
        1.0
        + 0.055 * np.cos(2 * th + 1.1)
        + 0.045 * np.cos(3 * th + 0.4)
        + 0.03 * np.cos(5 * th + 2.0)
        + 0.018 * np.cos(7 * th + 0.3)
        # the north edge follows the meandering 走马塘 river
        + np.clip(np.sin(th), 0, None) ** 2
        * (0.012 * np.sin(19 * th) + 0.008 * np.sin(31 * th + 1.0))
    )
    pts = np.c_[1850 * r * np.cos(th), 1400 * r * np.sin(th)]
    poly = Polygon(pts)
    # the west edge runs along an outside county road, the south edge along a railway
    cut = Polygon([(-1560, -3000), (3000, -3000), (3000, 3000), (-1490, 3000)])
    cut = cut.intersection(Polygon([(-3000, -1180), (3000, -1080), (3000, 3000), (-3000, 3000)]))
    poly = poly.intersection(cut)
    k = math.sqrt(TOWN_AREA_M2 / poly.area)
    poly = shapely.affinity.scale(poly, k, k, origin=(0, 0))
    poly = shapely.set_precision(poly, 0.01)
    return shapely.simplify(poly, 0.5)


# name, pinyin stem of the name, class, control points (local metres), smooth?
MAJOR_ROADS: list[MajorRoad] = [
    (
        "共和新路",
        "Gonghe",
        "arterial",
        [(-470, -2600), (-500, -900), (-445, 80), (-470, 1000), (-420, 2600)],
        False,
    ),
    (
        "平型关路",
        "Pingxingguan",
        "arterial",
        [(800, -2600), (735, -600), (800, 450), (770, 2600)],
        False,
    ),
    ("汶水路", "Wenshui", "arterial", [(-2600, 590), (-900, 640), (350, 575), (2600, 690)], False),
    ("广中西路", "Guangzhong", "arterial", [(-2600, -600), (0, -690), (2600, -790)], False),
    (
        "沪太路",
        "Hutai",
        "arterial",
        [(-2600, 2300), (-1100, 950), (200, -330), (1500, -2600)],
        False,
    ),
    ("共康路", "Gongkang", "secondary", [(-1120, -2600), (-1160, -100), (-1090, 2600)], True),
    ("阳曲路", "Yangqu", "secondary", [(150, -2600), (190, -700), (130, 600), (170, 2600)], True),
    ("三泉路", "Sanquan", "secondary", [(1390, -2600), (1350, -200), (1420, 2600)], True),
    (
        "场中路",
        "Changzhong",
        "secondary",
        [(-2600, -60), (-700, -20), (200, 60), (1200, -60), (2600, -40)],
        True,
    ),
    (
        "临汾路",
        "Linfen",
        "secondary",
        [(-2600, 1140), (-300, 1230), (700, 1120), (1500, 1260), (2600, 1180)],
        True,
    ),
    (
        "岭南路",
        "Lingnan",
        "secondary",
        [(-600, -1000), (400, -1070), (1400, -1040), (2600, -1100)],
        True,
    ),
    (
        "彭江路",
        "Pengjiang",
        "secondary",
        [(-2600, 1750), (-1300, 1700), (-700, 1800), (300, 1720), (2600, 1780)],
        True,
    ),
]
# partial roads: (name, from road, to road)
PARTIAL = {
    "阳曲路": ("广中西路", "临汾路"),
    "岭南路": ("共和新路", None),
}


def shifan() -> TownSpec:
    """The town as the tests know it (data/demo): 3 units, 14 grids, 22 committees."""
    boundary = make_boundary()
    return TownSpec(
        code=CODE,
        name="示范镇",
        name_en="Shifan",
        boundary=boundary,
        major_roads=make_major_roads(boundary, MAJOR_ROADS, PARTIAL),
    )
