"""``gridsvc --help`` loads none of the heavy libraries (timing lives in benchmarks/)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("geopandas", "shapely", "pyproj", "pandas", "fastapi", "sqlalchemy", "folium", "esda")


def _imported(*args: str) -> set[str]:
    """Top-level modules ``python -X importtime -m gridsvc ARGS`` imports."""
    return _imported_by("-m", "gridsvc", *args)


def _imported_by(*command: str) -> set[str]:
    """Top-level modules ``python -X importtime COMMAND`` imports."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *command],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


@pytest.mark.parametrize(
    "args",
    [("--help",), ("layers", "--help"), ("map", "--help"), ("keys", "--help"), ("serve", "--help")],
)
def test_help_imports_no_heavy_library(args: tuple[str, ...]) -> None:
    names = _imported(*args)
    assert "typer" in names  # the walk sees the imports
    assert not names & set(HEAVY), sorted(names & set(HEAVY))


def test_the_intake_writer_process_imports_no_geodata_library() -> None:
    """The SQLite intake writer (a process of its own beside the workers) only writes rows:
    through gridsvc.services' eager match_table it imported geopandas, scipy and the matcher,
    205 MB of the server's tree (issue 21, bench_serve.py)."""
    names = _imported_by("-c", "import gridsvc.intake_writer")
    assert "sqlalchemy" in names  # the walk sees the imports
    assert not names & {"geopandas", "shapely", "pyproj", "pandas", "scipy"}, sorted(names)


def test_the_web_app_imports_no_classifier_library() -> None:
    """Every server worker imports the app: mapclassify (and scikit-learn under it) waits for
    the first map that classes values, it cost each worker about 70 MB at start (issue 21)."""
    names = _imported_by("-c", "import gridsvc.api.app")
    assert "fastapi" in names
    assert not names & {"mapclassify", "sklearn"}, sorted(names & {"mapclassify", "sklearn"})


def test_the_web_app_imports_no_scipy_nor_openpyxl() -> None:
    """Only the cell tree's build labels with scipy.ndimage (a worker that maps its built
    index never builds), only an evaluation's .xlsx download writes with openpyxl: the
    imports were 0.3 s and 0.4 s of CPU at each start."""
    names = _imported_by("-c", "import gridsvc.api.app")
    assert "numpy" in names
    assert not names & {"scipy", "openpyxl"}, sorted(names & {"scipy", "openpyxl"})
