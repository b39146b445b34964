"""A small district for the tenancy tests: the demo town cut into two towns.

示范区 (310106) is the demo jurisdiction; 甲镇 (T1) is unit U1, 乙镇 (T2) units U2
and U3, so every grid lies in one town. The units name their town as parent.
The demo directory is copied with this GeoPackage in place of the demo's, and
``load_demo`` loads it like any town's (the service has one loader).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely

from gridsvc.config import DEMO_DIR, Settings

DISTRICT = "310106"
T1, T2 = "310106113T1", "310106113T2"
TOWN_OF_UNIT = {"310106113U1": T1, "310106113U2": T2, "310106113U3": T2}


def district_settings(root: Path, database_url: str) -> Settings:
    """Settings of a test service on the district (the rate limit out of the tests' way)."""
    return Settings(
        database_url=database_url,
        demo_dir=district_dir(root),
        attachments_dir=root / "attachments",
        rate_per_minute=1_000_000,
    )


def district_dir(root: Path) -> Path:
    """A demo directory whose territory is a district of two towns (no history)."""
    out = root / "district"
    out.mkdir()
    for f in DEMO_DIR.iterdir():
        if f.suffix == ".csv" and f.name != "reports.csv":
            shutil.copy(f, out / f.name)
    (out / "reports.csv").write_text(
        (DEMO_DIR / "reports.csv").read_text(encoding="utf-8-sig").splitlines()[0] + "\n",
        encoding="utf-8",
    )
    source, target = DEMO_DIR / "shifan.gpkg", out / "shifan.gpkg"
    for name, _kind in pyogrio.list_layers(source):
        layer = gpd.read_file(source, layer=name)
        if name == "jurisdiction":
            layer["code"], layer["name"] = DISTRICT, "示范区"
            _write(layer, target, name)
            _write(_towns(gpd.read_file(source, layer="units")), target, "towns")
            continue
        if name == "units":
            layer["parent_code"] = layer["code"].map(TOWN_OF_UNIT)
        _write(layer, target, name)
    return out


def _towns(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    units = units.assign(town=units["code"].map(TOWN_OF_UNIT))
    shapes = [shapely.union_all(units[units["town"] == t].geometry.to_numpy()) for t in (T1, T2)]
    return gpd.GeoDataFrame(
        {"code": [T1, T2], "name": ["甲镇", "乙镇"], "parent_code": [DISTRICT, DISTRICT]},
        geometry=shapes,
        crs=units.crs,
    )


def _write(frame: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    frame.to_file(path, layer=layer, driver="GPKG")


def point_in(unit: str) -> tuple[float, float]:
    """A point well inside a unit of the demo (CGCS2000), as its representative point."""
    units = gpd.read_file(DEMO_DIR / "shifan.gpkg", layer="units")
    shape = units[units["code"] == unit].geometry.iloc[0]
    p = shape.representative_point()
    return float(p.x), float(p.y)
