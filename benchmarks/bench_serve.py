"""How long ``gridsvc serve`` takes to answer its first match on a 20,000-grid town, and its memory.

Run with ``python benchmarks/bench_serve.py [--grids N] [--runs R] [--workers 1,2]``.
The synthetic city (``synthetic_city.py``: 20,000 Voronoi grids, 50,000 street
segments) is written as a demo-format directory (jurisdiction = the grids' union,
one unit, the grids, the streets; the demo town's tables) and loaded into a
fresh SQLite database with ``gridsvc demo load --no-history``, as a town would be.
Then, per run, ``gridsvc serve --workers W`` starts on a free port and the
benchmark counts the seconds until ``GET /api/v1/match`` first answers 200, and
reads the memory of the server's whole process tree (the workers, uvicorn's
supervisor and the intake writer) at that moment from ``/proc``: RSS summed (what
the issue measured; pages shared after a fork count once per process) and PSS
(shared pages split between their processes: what the machine really gives), and
the CPU seconds the tree has used by then (the machine's load moves the wall time,
hardly the CPU).
Each worker count starts once cold (the index cache beside the database removed:
the server builds the matcher and writes its file) and ``--runs`` times warm (the
matcher's indexes mapped from that file, as at every restart after the first).
Targets (issue 21): < 3 s and < 400 MB with 1 worker, < 4 s and < 600 MB with 2.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import httpx
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadgen import free_port  # noqa: E402
from servers import cpu_seconds  # noqa: E402
from synthetic_city import build_city  # noqa: E402

from gridsvc.config import DEMO_DIR  # noqa: E402

BIN = Path(sys.executable).parent
TOWN = "310106113"
#: (seconds, MB of RSS) per worker count, issue 21's targets
TARGETS = {1: (3.0, 400.0), 2: (4.0, 600.0)}
TABLES = ("departments.csv", "groups.csv", "holidays.csv", "responsibility_list.csv")


def write_town(folder: Path, grids: int, streets: int) -> tuple[float, float]:
    """The synthetic city as a demo directory; returns a point inside one of its grids."""
    city = build_city(grids=grids, streets=streets, points=1)
    frame = city.grids.assign(parent_code=f"{TOWN}U1", name_en="")
    frame["code"] = TOWN + frame["code"]
    outline = shapely.coverage_union_all(frame.geometry.values)
    crs = frame.crs
    gpkg = folder / "shifan.gpkg"
    jur = {"code": [TOWN], "name": ["合成市"], "name_en": ["Synthetic"], "parent_code": ["310106"]}
    gpd.GeoDataFrame(jur, geometry=[outline], crs=crs).to_file(gpkg, layer="jurisdiction")
    unit = {"code": [f"{TOWN}U1"], "name": ["单元"], "name_en": ["Unit"], "parent_code": [TOWN]}
    gpd.GeoDataFrame(unit, geometry=[outline], crs=crs).to_file(gpkg, layer="units")
    frame.to_file(gpkg, layer="grids")
    lines = city.streets.assign(code=TOWN + city.streets["code"], parent_code="", team="")
    lines.to_file(gpkg, layer="streets")
    for name in TABLES:
        shutil.copy(DEMO_DIR / name, folder / name)
    teams = sorted(set(frame["team"]))
    with open(folder / "teams.csv", "w", encoding="utf-8") as f:
        f.write("code,name,name_en,grids,staffing\n")
        f.writelines(f"{t},工作站{t},Workstation {t},,\n" for t in teams)
    (folder / "reports.csv").write_text("")
    point = frame.geometry.iloc[len(frame) // 2].representative_point()
    return point.x, point.y


def tree_memory(session: int) -> tuple[float, float]:
    """(RSS summed, PSS summed) in MB of every live process in the server's session."""
    rss = pss = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) != session:
                continue
            for line in Path(f"/proc/{name}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return rss / 1024, pss / 1024


def one_start(
    env: dict[str, str], workers: int, point: tuple[float, float], log: Path
) -> tuple[float, float, float, float, float]:
    """Start ``gridsvc serve``: (seconds to the first 200 match, seconds until every worker
    is up, RSS MB, PSS MB and CPU seconds of the process tree then)."""
    port = free_port()
    cmd = [str(BIN / "gridsvc"), "serve", "--no-access-log", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--workers", str(workers)]
    url = f"http://127.0.0.1:{port}/api/v1/match?lon={point[0]}&lat={point[1]}"
    offset = log.stat().st_size if log.exists() else 0
    start = time.monotonic()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd, env=env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        while time.monotonic() - start < 180:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    first = time.monotonic() - start
                    while not _all_workers_up(log, offset, workers):
                        time.sleep(0.02)
                    seconds = time.monotonic() - start
                    cpu = cpu_seconds(lambda _p, _pp, session: session == proc.pid, proc.pid)
                    return (first, seconds, *tree_memory(proc.pid), cpu)
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise SystemExit(f"the server ended:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        raise SystemExit(f"no answer within 180 s:\n{log.read_text()[-3000:]}")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _all_workers_up(log: Path, offset: int, workers: int) -> bool:
    """Whether every worker has logged uvicorn's "Application startup complete." (its app,
    matcher included, is built), counting only this run's part of the log."""
    with open(log, "rb") as f:
        f.seek(offset)
        return f.read().count(b"Application startup complete") >= workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=20_000)
    parser.add_argument("--streets", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp_name:
        tmp = Path(tmp_name)
        demo = tmp / "demo"
        demo.mkdir()
        began = time.perf_counter()
        point = write_town(demo, args.grids, args.streets)
        print(f"town written in {time.perf_counter() - began:.1f} s: {args.grids:,} grids")
        env = os.environ | {
            "GRIDSVC_DEMO_DIR": str(demo),
            "GRIDSVC_DATABASE_URL": f"sqlite:///{tmp / 'serve.db'}",
        }
        began = time.perf_counter()
        subprocess.run(
            [str(BIN / "gridsvc"), "demo", "load", "--no-history"],
            env=env,
            check=True,
            capture_output=True,
        )
        print(f"demo load in {time.perf_counter() - began:.1f} s")
        print(
            f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}"
        )
        for workers in (int(w) for w in args.workers.split(",")):
            shutil.rmtree(tmp / "index-cache", ignore_errors=True)
            cold = one_start(env, workers, point, tmp / "server.log")
            runs = [one_start(env, workers, point, tmp / "server.log") for _ in range(args.runs)]
            target_s, target_mb = TARGETS.get(workers, (float("nan"), float("nan")))
            print(f"serve --workers {workers}, cold (the index built and written):")
            print(
                f"  first match 200 {cold[0]:8.2f} s, every worker up {cold[1]:8.2f} s, "
                f"RSS {cold[2]:6.0f} MB, PSS {cold[3]:6.0f} MB, CPU {cold[4]:6.2f} s"
            )
            print(f"serve --workers {workers}, warm, {args.runs} runs (min / median / max):")
            print(f"  first match 200   {_spread([r[0] for r in runs], 's', 2)}")
            print(
                f"  every worker up   {_spread([r[1] for r in runs], 's', 2)}   target < {target_s} s"
            )
            print(
                f"  RSS, summed       {_spread([r[2] for r in runs], 'MB', 0)}   target < {target_mb:.0f} MB"
            )
            print(f"  PSS, summed       {_spread([r[3] for r in runs], 'MB', 0)}")
            print(f"  CPU, whole tree   {_spread([r[4] for r in runs], 's', 2)}   (load-proof)")
        print(
            f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}"
        )


def _spread(values: list[float], unit: str, digits: int) -> str:
    """min / median / max of the runs."""
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{low:8.{digits}f} / {mid:8.{digits}f} / {high:8.{digits}f} {unit}"


if __name__ == "__main__":
    main()
