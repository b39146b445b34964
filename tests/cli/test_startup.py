"""``gridsvc --help`` loads none of the heavy libraries (timing lives in benchmarks/)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("geopandas", "shapely", "pyproj", "pandas", "fastapi", "sqlalchemy", "folium", "esda")


def _imported(*args: str) -> set[str]:
    """Top-level modules ``python -X importtime -m gridsvc ARGS`` imports."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "gridsvc", *args],
        capture_output=True,
        text=True,
        timeout=60,
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
