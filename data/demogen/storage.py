"""Storing a territory: a town's layers as GeoDataFrames in EPSG:4490, checked once more
(read back in the working CRS they still tile exactly), written to one GeoPackage."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import Point

from .frame import COUNTY_CODE, STORAGE_EPSG, WORK_EPSG, to_storage
from .geometry import check_coverage
from .roads import pinyin_of_stem
from .territory import TownSpec

TOWN_LEVELS = ("jurisdiction", "units", "grids", "committees", "cells")
DISTRICT_LEVELS = ("jurisdiction", "towns", "units", "grids", "committees", "cells")
CN_NUM = "一二三四五六七八九十"


def cn_number(n: int) -> str:
    """1 → 一, 14 → 十四, 23 → 二十三: the grids' names count in Chinese."""
    if n <= 10:
        return CN_NUM[n - 1]
    if n < 20:
        return "十" + CN_NUM[n - 11]
    return CN_NUM[n // 10 - 1] + "十" + (CN_NUM[n % 10 - 1] if n % 10 else "")


def town_frames(t: dict, L: dict, spec: TownSpec) -> dict[str, gpd.GeoDataFrame]:
    """The town's layers in EPSG:4490 (its jurisdiction row is its town row in a district)."""
    roads, segs = t["roads"], t["segments"]
    crs = f"EPSG:{STORAGE_EPSG}"
    frames: dict[str, gpd.GeoDataFrame] = {}
    frames["jurisdiction"] = gpd.GeoDataFrame(
        {
            "code": [spec.code],
            "name": [spec.name],
            "name_en": [spec.name_en],
            "parent_code": [COUNTY_CODE],
        },
        geometry=to_storage([L["town"]]),
        crs=crs,
    )
    frames["units"] = gpd.GeoDataFrame(
        {
            "code": L["unit_code"],
            "name": [f"{n}基本管理单元" for n in L["unit_names"]],
            "name_en": [
                f"{pinyin_of_stem(n, roads)} Basic Management Unit" for n in L["unit_names"]
            ],
            "parent_code": [spec.code] * spec.n_units,
        },
        geometry=to_storage(L["unit_polys"]),
        crs=crs,
    )
    frames["grids"] = gpd.GeoDataFrame(
        {
            "code": L["grid_code"],
            "name": [f"第{cn_number(i + 1)}责任网格" for i in range(len(L["grid_code"]))],
            "name_en": [f"Responsibility Grid {i + 1}" for i in range(len(L["grid_code"]))],
            "parent_code": [L["unit_code"][u] for u in L["grid_unit"]],
            "team": [L["team_code"][L["grid_team"][gi]] for gi in range(len(L["grid_code"]))],
        },
        geometry=to_storage(L["grid_polys"]),
        crs=crs,
    )
    frames["committees"] = gpd.GeoDataFrame(
        {
            "code": L["comm_code"],
            "name": [f"{n}居委" for n in L["comm_names"]],
            "name_en": [
                f"{pinyin_of_stem(n, roads)} Residents' Committee" for n in L["comm_names"]
            ],
            "parent_code": [L["grid_code"][g] for g in L["comm_grid"]],
        },
        geometry=to_storage(L["comm_polys"]),
        crs=crs,
    )
    o = L["cell_order"]
    frames["cells"] = gpd.GeoDataFrame(
        {
            "code": [L["cell_code"][i] for i in o],
            "name": [L["cell_name"][i] for i in o],
            "parent_code": [L["comm_code"][L["cell_comm"][i]] for i in o],
        },
        geometry=to_storage([L["cells"][i] for i in o]),
        crs=crs,
    )
    so = L["seg_order"]
    frames["streets"] = gpd.GeoDataFrame(
        {
            "code": [f"{spec.code}S{k + 1:04d}" for k in range(len(so))],
            "name": [roads[segs[i]["road"]]["name"] for i in so],
            "road_class": [roads[segs[i]["road"]]["class"] for i in so],
            "parent_code": [L["grid_code"][L["seg_grid"][i]] for i in so],
            "team": [L["team_code"][L["grid_team"][L["seg_grid"][i]]] for i in so],
        },
        geometry=to_storage([segs[i]["geom"] for i in so]),
        crs=crs,
    )
    frames["pois"] = gpd.GeoDataFrame(
        {
            "code": [f"{spec.code}P{k + 1:02d}" for k in range(len(L["pois"]))],
            "name": [p["name"] for p in L["pois"]],
            "name_en": [p["name_en"] for p in L["pois"]],
            "kind": [p["kind"] for p in L["pois"]],
            "parent_code": [L["grid_code"][g] for g in L["poi_grid"]],
        },
        geometry=to_storage([Point(p["xy"]) for p in L["pois"]]),
        crs=crs,
    )
    return frames


def write_geopackage(
    frames: dict[str, gpd.GeoDataFrame], path: Path, levels: tuple[str, ...] = TOWN_LEVELS
) -> None:
    """Check that every level tiles its parent as stored, then write the layers in order."""
    # the stored layers, read back into the working CRS, still tile exactly
    for child, parent in zip(levels[1:], levels[:-1], strict=True):
        c, p = frames[child], frames[parent]
        assert shapely.coverage_is_valid(c.geometry.values), (
            f"{child} not a valid coverage in EPSG:4490"
        )
        assert c.is_valid.all()
        cw, pw = c.to_crs(WORK_EPSG), p.to_crs(WORK_EPSG)
        idx = {code: k for k, code in enumerate(p["code"])}
        check_coverage(
            list(cw.geometry),
            list(pw.geometry),
            [idx[x] for x in c["parent_code"]],
            f"{child} (stored)",
        )
    assert (frames["streets"].geom_type == "LineString").all()
    for name, f in frames.items():
        assert f["code"].is_unique, name

    if path.exists():
        path.unlink()
    for name in (*levels, "streets", "pois"):
        frames[name].to_file(path, layer=name, driver="GPKG", engine="pyogrio")
