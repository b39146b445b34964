"""``python -m demogen.compare A B``: are two generated demo directories the same?

CSV files must be equal byte for byte. A GeoPackage whose bytes differ (SQLite pages
and GPKG metadata carry timestamps) must have the same layers, in the same order,
with equal attributes and equal geometries (WKB) feature by feature.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import pyogrio


def differences(a: Path, b: Path) -> list[str]:
    """What differs between two demo directories (empty: the same data)."""
    names = sorted({f.name for f in a.iterdir()} | {f.name for f in b.iterdir()})
    found: list[str] = []
    for name in names:
        fa, fb = a / name, b / name
        if not (fa.exists() and fb.exists()):
            found.append(f"{name}: only in one")
        elif fa.read_bytes() == fb.read_bytes():
            continue
        elif fa.suffix != ".gpkg":
            found.append(f"{name}: bytes differ")
        else:
            found.extend(f"{name}: {d}" for d in gpkg_differences(fa, fb))
    return found


def gpkg_differences(a: Path, b: Path) -> list[str]:
    """Layers, attributes and geometries (as WKB) that differ between two GeoPackages."""
    la, lb = (
        [str(n) for n, _ in pyogrio.list_layers(a)],
        [str(n) for n, _ in pyogrio.list_layers(b)],
    )
    if la != lb:
        return [f"layers {la} != {lb}"]
    found = []
    for layer in la:
        fa, fb = gpd.read_file(a, layer=layer), gpd.read_file(b, layer=layer)
        same = (
            fa.crs == fb.crs
            and list(fa.columns) == list(fb.columns)
            and fa.drop(columns="geometry").equals(fb.drop(columns="geometry"))
            and list(fa.geometry.to_wkb()) == list(fb.geometry.to_wkb())
        )
        if not same:
            found.append(f"layer {layer} differs")
    return found


if __name__ == "__main__":
    diffs = differences(Path(sys.argv[1]), Path(sys.argv[2]))
    print("\n".join(diffs) or "same: CSV bytes equal, GeoPackage features equal")
    sys.exit(1 if diffs else 0)
