"""The data of ``bench_district.py``: a synthetic city's territory as a deployment's
directory, and a year of cases with their histories written in bulk.

The territory (``synthetic_city.build_territory``) is written as a town directory
like the demo's (a GeoPackage of jurisdiction, towns, units and grids, and the
demo district's departments, groups, responsibility list and holidays, teams of
its own), and ``services.setup.load_demo`` loads it: the service's own validation
and publication, as for any district. Cases are generated in chunks (memory stays
bounded whatever ``--cases``) and written with COPY on PostgreSQL and one
``executemany`` per chunk on SQLite, in the columns the service writes.
"""

from __future__ import annotations

import csv
import json
import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, text
from synthetic_city import Territory

from gridsvc.config import ROOT
from gridsvc.core.duplicates import cell_of
from gridsvc.core.routing import ResponsibilityList
from gridsvc.core.workflow import Status, colour_for
from gridsvc.services.case_rows import routed
from gridsvc.services.setup import active_version_ids, load_demo, read_csv
from gridsvc.store import schema as s

DISTRICT_DIR = ROOT / "data" / "demo-district"
#: the year of cases: 2025-12-01 to 2026-12-01, local time (UTC+8); "now" is its end
YEAR_START = np.datetime64("2025-11-30T16:00:00", "us")
YEAR_END = np.datetime64("2026-11-30T16:00:00", "us")
NOW = datetime(2026, 11, 30, 16, tzinfo=UTC)
HOUR_US = 3_600_000_000

CASE_COLUMNS = tuple(c.name for c in s.cases.columns)
EVENT_COLUMNS = tuple(c.name for c in s.case_events.columns)
#: the life of a case: action, status reached, role (a closure is verify then close)
STEPS = (
    ("dispatch", Status.DISPATCHED, "dispatcher"),
    ("accept", Status.ACCEPTED, "handler"),
    ("handle", Status.HANDLED, "handler"),
    ("verify", Status.VERIFIED, "dispatcher"),
    ("close", Status.CLOSED, "dispatcher"),
)
_POINT = struct.Struct("<BIdd")


def territory_dir(root: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    """A deployment's directory for ``load_demo``: the layers, the demo district's tables,
    teams of the synthetic grids, and no history (the cases are written in bulk)."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("departments.csv", "groups.csv", "responsibility_list.csv", "holidays.csv"):
        shutil.copy(DISTRICT_DIR / name, root / name)
    header = (DISTRICT_DIR / "reports.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    (root / "reports.csv").write_text(header + "\n", encoding="utf-8")
    grids = layers["grids"]
    with open(root / "teams.csv", "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["code", "name", "name_en", "grids", "staffing"])
        for team, codes in grids.groupby("team")["code"]:
            out.writerow([team, f"{team}工作站", f"Workstation {team}", ";".join(codes), ""])
    gpkg = root / "shifan.gpkg"
    for kind in ("jurisdiction", "towns", "units", "grids"):
        layers[kind].to_file(gpkg, layer=kind, driver="GPKG")
    return root


def load_territory(engine: Engine, folder: Path) -> dict[str, int]:
    """Publish the directory's layers and tables through the service; the versions cases
    record (layer kinds and the responsibility list)."""
    load_demo(engine, folder, history=False, say=lambda _: None)
    with engine.connect() as conn:
        return active_version_ids(conn)


@dataclass(frozen=True)
class Chunk:
    """A block of generated cases as columns, and their events as rows."""

    district: np.ndarray  # district index of each case
    cases: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]
    case_event_counts: np.ndarray  # events per case, in order (to split events by case)


class CaseMaker:
    """A year of cases over the territory, deterministic per seed, in chunks.

    Cases fall in grids with lognormal weights (hot and quiet grids), at
    uniformly random times of the year, with a category of the responsibility
    list; each goes through dispatch, accept, handle, verify and close with
    random delays (the handling's around its limit, so some are late), stopping
    at the benchmark's "now": the last weeks' cases are still open. 5 % of the
    closed cases were reworked once (the stored count).
    """

    def __init__(self, territory: Territory, versions: dict[str, int], seed: int = 23) -> None:
        self.rng = np.random.default_rng(seed)
        grids = territory.grids
        self.geoms = grids.geometry.to_numpy()
        self.bounds = shapely.bounds(self.geoms)
        self.weights = self.rng.lognormal(0.0, 1.0, len(grids))
        self.weights /= self.weights.sum()
        self.grid_code = grids["code"].to_numpy(dtype=object)
        self.team = grids["team"].to_numpy(dtype=object)
        self.town_code = territory.towns["code"].to_numpy(dtype=object)[grids["town"].to_numpy()]
        self.unit_code = self.town_code + "U1"
        self.district = grids["district"].to_numpy()
        matters = ResponsibilityList.from_records(
            read_csv(DISTRICT_DIR / "responsibility_list.csv")
        )
        self.matters = list(matters)
        self.handle_h = np.array([m.limits.handle_h for m in self.matters])
        self.routes = [routed(m, "TEAM") for m in self.matters]
        self.cooperating = [json.dumps(r["cooperating"]) for r in self.routes]
        self.codes = [m.code for m in self.matters]
        self.colours = {k: colour_for(k).value for k in (1, 2, 3)}
        self.versions = json.dumps(versions)
        self.next_case, self.next_event = 1, 1

    def chunks(self, n: int, size: int = 100_000) -> Iterator[Chunk]:
        for start in range(0, n, size):
            yield self._chunk(min(size, n - start))

    def _points(self, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A uniform point inside each case's grid (rejection in the grid's box)."""
        x, y = np.empty(len(grid)), np.empty(len(grid))
        todo = np.arange(len(grid))
        while len(todo):
            b = self.bounds[grid[todo]]
            tx = self.rng.uniform(b[:, 0], b[:, 2])
            ty = self.rng.uniform(b[:, 1], b[:, 3])
            inside = shapely.contains_xy(self.geoms[grid[todo]], tx, ty)
            x[todo[inside]], y[todo[inside]] = tx[inside], ty[inside]
            todo = todo[~inside]
        return x, y

    def _chunk(self, n: int) -> Chunk:
        rng = self.rng
        grid = rng.choice(len(self.geoms), n, p=self.weights)
        lon, lat = self._points(grid)
        created = YEAR_START + rng.integers(
            0, int((YEAR_END - YEAR_START) / np.timedelta64(1, "us")), n
        ).astype("timedelta64[us]")
        created.sort()  # ids follow report time, as intake's do
        matter = rng.integers(0, len(self.matters), n)
        delays = np.column_stack(
            [
                rng.exponential(0.4, n),
                rng.exponential(1.0, n),
                self.handle_h[matter] * rng.lognormal(-0.4, 0.6, n),
                rng.exponential(6.0, n),
                rng.exponential(0.2, n),
            ]
        )
        times = created[:, None] + np.cumsum(delays * HOUR_US, axis=1).astype("timedelta64[us]")
        reached = (times < YEAR_END).sum(axis=1)  # steps done by "now" (they are in order)
        severity = rng.choice([1, 2, 3], n, p=[0.7, 0.25, 0.05])
        reopen = ((reached == len(STEPS)) & (rng.random(n) < 0.05)).astype(int)
        stamps = _stamps(np.column_stack([created, times]))
        ids = np.arange(self.next_case, self.next_case + n)
        self.next_case += n
        statuses = [Status.REPORTED.value, *(st.value for _, st, _ in STEPS)]
        steps = [(a, st.value, role) for a, st, role in STEPS]
        sev, lons, lats = severity.tolist(), lon.tolist(), lat.tolist()
        cases, events = [], []
        event_id = self.next_event
        for i in range(n):
            g, m, k = grid[i], matter[i], reached[i]
            r = self.routes[m]
            cid = int(ids[i])
            x, y, level = lons[i], lats[i], sev[i]
            team = self.team[g]
            last = stamps[i][k]
            cases.append(
                (
                    cid, f"2026-{cid:08d}", statuses[k], last, 1, self.codes[m], "", level,
                    self.colours[level], "patrol", "bench", "", None, stamps[i][0], last,
                    x, y, x, y, "cgcs2000", _POINT.pack(1, 1, x, y),
                    self.town_code[g], self.grid_code[g], self.unit_code[g], None, None, None, team,
                    r["level"], r["department"], self.cooperating[m], r["group_code"],
                    team if r["assignee"] == "TEAM" else r["assignee"], None,
                    int(reopen[i]), self.versions, cell_of(x, y),
                )
            )  # fmt: skip
            events.append(
                (
                    event_id,
                    cid,
                    1,
                    "report",
                    None,
                    "reported",
                    "bench",
                    "patrol",
                    stamps[i][0],
                    "",
                    "{}",
                )
            )
            event_id += 1
            for step in range(k):
                action, status, role = steps[step]
                events.append((event_id, cid, step + 2, action, statuses[step], status, "bench", role, stamps[i][step + 1], "", "{}"))  # fmt: skip
                event_id += 1
        self.next_event = event_id
        return Chunk(self.district[grid], cases, events, reached + 1)


def _stamps(moments: np.ndarray) -> list[list[str]]:
    """UTC times as text both backends take: ``2026-01-02 03:04:05.678901`` (SQLAlchemy's
    SQLite format; PostgreSQL reads it with the session in UTC)."""
    text_ = np.datetime_as_string(moments, unit="us")
    return np.char.replace(text_, "T", " ").tolist()


def subset(chunk: Chunk, district: int) -> Chunk:
    """The cases (and their events) of one district."""
    keep = chunk.district == district
    ends = np.cumsum(chunk.case_event_counts)
    starts = ends - chunk.case_event_counts
    events = [e for i in np.flatnonzero(keep) for e in chunk.events[starts[i] : ends[i]]]
    cases = [c for c, k in zip(chunk.cases, keep, strict=True) if k]
    return Chunk(chunk.district[keep], cases, events, chunk.case_event_counts[keep])


def write_chunk(engine: Engine, chunk: Chunk) -> None:
    """Bulk-write a chunk in one transaction: COPY on PostgreSQL, executemany on SQLite."""
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            with raw.cursor() as cur:
                cur.execute("SET TIME ZONE 'UTC'")
                for table, columns, rows in (
                    ("cases", CASE_COLUMNS, chunk.cases),
                    ("case_events", EVENT_COLUMNS, chunk.events),
                ):
                    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
        else:
            cur = raw.cursor()
            for table, columns, rows in (
                ("cases", CASE_COLUMNS, chunk.cases),
                ("case_events", EVENT_COLUMNS, chunk.events),
            ):
                marks = ", ".join("?" * len(columns))
                cur.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                )
            cur.close()
        raw.commit()
    finally:
        raw.close()


def finish(engine: Engine) -> None:
    """After the bulk load: sequences past the ids written (PostgreSQL), fresh statistics."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("cases", "case_events"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                )
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("ANALYZE"))


def case_frame(engine: Engine) -> pd.DataFrame:
    """Every case's point and town, as stored (for the smoke test's checks)."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, lon, lat, town_code, grid_code FROM cases")).all()
    return pd.DataFrame(rows, columns=["id", "lon", "lat", "town_code", "grid_code"])
