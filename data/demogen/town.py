"""data/demo: the town 示范镇 on its own, as ~4,000 tests read it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .frame import ROOT, SEED, WORK_EPSG
from .history import HistorySpec, make_reports
from .layers import build_layers
from .organisation import organisation_tables, teams_table
from .responsibility import responsibility_table
from .shifan import shifan
from .storage import town_frames, write_geopackage
from .territory import TownSpec, build_territory, group_territory
from .workdays import calendar_days, holidays_table

OUT = ROOT / "data" / "demo"


def build_town(spec: TownSpec, rng: np.random.Generator, shared=None) -> tuple[dict, dict, dict]:
    """Territory, layers and stored frames of one town (the rng draws in a fixed order)."""
    t = build_territory(spec, rng, shared)
    g = group_territory(t, spec)
    L = build_layers(t, g, spec)
    return t, L, town_frames(t, L, spec)


def write_csv(tables: dict[str, pd.DataFrame], out: Path) -> None:
    """Every table as UTF-8 CSV with \\n line ends (byte-identical from run to run)."""
    for name, df in tables.items():
        df.to_csv(out / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")


def write_town(out: Path = OUT) -> None:
    """Generate data/demo (or ``out``): 示范镇 with 24,000 reports, and print a summary."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    spec = shifan()
    t, L, frames = build_town(spec, rng)
    write_geopackage(frames, out / "shifan.gpkg")
    tables = {"teams": teams_table(L, t["roads"], rng), **organisation_tables()}
    tables["responsibility_list"] = responsibility_table(tables["departments"], tables["groups"])
    tables["holidays"] = holidays_table()
    reports, kind = make_reports(t, L, frames, calendar_days(), rng, HistorySpec())
    tables["reports"] = reports
    write_csv(tables, out)

    assert 300 <= len(frames["streets"]) <= 600, len(frames["streets"])
    assert len(frames["grids"]) == spec.n_grids and len(frames["units"]) == spec.n_units
    assert len(tables["teams"]) == 6 and len(reports) >= 20_000
    assert all(2 <= len(gs.split(";")) <= 3 for gs in tables["teams"]["grids"])
    summary(out, L, frames, tables, kind)


def summary(out: Path, L: dict, frames: dict, tables: dict, kind: np.ndarray) -> None:
    """What was written, in numbers (data/README.md quotes them)."""
    reports = tables["reports"]
    seg = len(frames["streets"])
    cell_a = np.array([c.area for c in L["cells"]])
    print("示范镇 Shifan demo town written to", out)
    print(f"  jurisdiction area      {L['town'].area / 1e6:.3f} km² (EPSG:{WORK_EPSG})")
    for name, polys in (
        ("units", L["unit_polys"]),
        ("grids", L["grid_polys"]),
        ("committees", L["comm_polys"]),
    ):
        a = np.array([p.area for p in polys]) / 1e6
        print(
            f"  {name:<11} {len(polys):>5}  area km² min {a.min():.3f} median {np.median(a):.3f} max {a.max():.3f}"
        )
    print(
        f"  cells       {len(L['cells']):>5}  area m² min {cell_a.min():,.0f} median {np.median(cell_a):,.0f} "
        f"max {cell_a.max():,.0f}"
    )
    rc = frames["streets"]["road_class"].value_counts()
    print(
        f"  street segments {seg} ({', '.join(f'{k} {v}' for k, v in rc.items())}), "
        f"{frames['streets']['name'].nunique()} named roads, "
        f"{frames['streets'].to_crs(WORK_EPSG).length.sum() / 1000:.1f} km"
    )
    print(
        f"  teams {len(tables['teams'])}, departments {len(tables['departments'])}, groups {len(tables['groups'])}, "
        f"matters {len(tables['responsibility_list'])}, holiday rows {len(tables['holidays'])}, "
        f"pois {len(frames['pois'])}"
    )
    st = reports["status"].value_counts()
    print(
        f"  reports {len(reports)} ({', '.join(f'{k} {v}' for k, v in st.items())}; "
        f"crs wgs84 {int((reports['crs'] == 'wgs84').sum())}; on grid edges {int((kind == 'edge').sum())}, "
        f"outside {int((kind == 'outside').sum())}, lon/lat swapped {int((kind == 'swapped').sum())}; "
        f"reopened {int(reports['reopened'].sum())})"
    )
    size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    print(f"  {out.name} size {size:.1f} MB")
