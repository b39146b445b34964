"""``gridsvc match``: every point of a file to its grid, unit, committee, street and team."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gridsvc.cli.context import Opt, console, friendly, out, settings
from gridsvc.core.kinds import LayerKind

if TYPE_CHECKING:
    from rich.progress import Progress

    from gridsvc.config import Settings
    from gridsvc.core.crs import InputCRS
    from gridsvc.pointfiles import PointTable
    from gridsvc.town import Town

PROGRESS_FROM = 200_000  # inputs at least this large show a progress bar


@friendly(flags={"crs": "--layer-crs"})
def match(
    input: Annotated[Path, typer.Argument(help="points: CSV, GeoJSON, GeoPackage or Parquet")],
    out_path: Annotated[Path, Opt("--out", "-o", help="result: .csv, .geojson, .gpkg or .parquet")],
    grids: Annotated[
        Path | None, Opt(help="grid layer file (default: the configured town)")
    ] = None,
    units: Annotated[Path | None, Opt(help="basic management unit layer file")] = None,
    committees: Annotated[Path | None, Opt(help="residents' committee layer file")] = None,
    jurisdiction: Annotated[
        Path | None, Opt(help="jurisdiction file (default: union of the grids)")
    ] = None,
    streets: Annotated[Path | None, Opt(help="street segment layer file")] = None,
    crs: Annotated[
        str | None, Opt(help="input CRS: wgs84, cgcs2000, gcj02, bd09 or EPSG:N")
    ] = None,
    crs_col: Annotated[
        str | None, Opt(help="column naming each row's CRS (default: a 'crs' column)")
    ] = None,
    lon_col: Annotated[str | None, Opt(help="CSV column holding longitude / x")] = None,
    lat_col: Annotated[str | None, Opt(help="CSV column holding latitude / y")] = None,
    code_field: Annotated[str, Opt(help="code field in the layer files")] = "code",
    name_field: Annotated[str, Opt(help="name field in the layer files")] = "name",
    layer: Annotated[
        list[str] | None,
        Opt(
            help="layer of a GeoPackage with several: NAME for the grids file, "
            "KIND=NAME for another (streets=roads); repeatable"
        ),
    ] = None,
    layer_crs: Annotated[
        str | None, Opt(help="CRS of the layer files that declare none (e.g. EPSG:4549)")
    ] = None,
    radius: Annotated[float | None, Opt(help="nearest-street radius in metres")] = None,
) -> None:
    """Match every point of a file to its grid, unit, committee, street and team."""
    from gridsvc.pointfiles import read_points, write_points
    from gridsvc.services import match_table

    config = settings()
    files = {
        LayerKind.GRIDS: grids,
        LayerKind.UNITS: units,
        LayerKind.COMMITTEES: committees,
        LayerKind.JURISDICTION: jurisdiction,
        LayerKind.STREETS: streets,
    }
    given = {k: v for k, v in files.items() if v is not None}
    town = _town(config, given, _layer_names(layer or []), code_field, name_field, layer_crs)
    points = read_points(input, lon_col, lat_col)
    in_crs = _input_crs(crs, crs_col, points)
    started = time.perf_counter()
    matcher = town.matcher(radius or config.street_radius_m, config.cell_m)
    with _progress(len(points.x)) as advance:
        result = match_table(matcher, points, in_crs, advance)
    lon, lat = result.pop("lon_cgcs2000").to_numpy(), result.pop("lat_cgcs2000").to_numpy()
    write_points(result, lon, lat, out_path)
    _summary(result["status"], time.perf_counter() - started, out_path)


def _input_crs(crs: str | None, crs_col: str | None, points: PointTable) -> InputCRS | str:
    """One CRS (--crs, else the file's), or a column of per-row CRS names."""
    from gridsvc.core.crs import parse_crs
    from gridsvc.core.errors import InvalidInput

    if crs and crs_col:
        raise InvalidInput("give --crs or --crs-col, not both")
    if crs:
        return parse_crs(crs)
    if crs_col or (points.crs is None and "crs" in points.rows.columns):
        column = crs_col or "crs"
        if column not in points.rows.columns:
            raise InvalidInput(f"no column {column!r}; columns are {list(points.rows.columns)}")
        return column
    return points.crs or parse_crs("wgs84")


def _layer_names(given: list[str]) -> dict[LayerKind, str]:
    """``--layer`` values: ``NAME`` (the grids file's) or ``KIND=NAME``."""
    from gridsvc.core.errors import InvalidInput

    names: dict[LayerKind, str] = {}
    for value in given:
        kind, sep, name = value.rpartition("=")
        try:
            level = LayerKind(kind) if sep else LayerKind.GRIDS
        except ValueError:
            levels = ", ".join(k.value for k in LayerKind)
            raise InvalidInput(f"--layer {value!r}: {kind!r} is not a level ({levels})") from None
        names[level] = name
    return names


def _town(
    config: Settings,
    files: dict[LayerKind, Path],
    layer_names: dict[LayerKind, str],
    code: str,
    name: str,
    layer_crs: str | None,
) -> Town:
    from gridsvc.core.errors import InvalidLayer
    from gridsvc.town import load_town, load_town_file

    if not files:
        return load_town_file(config.town_file)
    if LayerKind.GRIDS not in files:
        raise InvalidLayer("--grids is required when other layer files are given")
    return load_town(files, layer_names, code_field=code, name_field=name, crs=layer_crs)


class _progress:
    """A rich progress bar for large inputs; a no-op for small ones."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar: Progress | None = None

    def __enter__(self) -> Callable[[int], None]:
        if self.total < PROGRESS_FROM:
            return lambda n: None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("matching"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        self.bar.start()
        task = self.bar.add_task("match", total=self.total)
        return lambda n: self.bar.advance(task, n) if self.bar else None

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.stop()


def _summary(status: Any, seconds: float, path: Path) -> None:
    from rich.table import Table

    counts = status.value_counts()
    table = Table("status", "points", title=f"wrote {path}")
    for name in ("matched", "outside", "invalid"):
        table.add_row(name, f"{int(counts.get(name, 0)):,}")
    out.print(table)
    rate = len(status) / seconds if seconds > 0 else float("inf")
    out.print(f"{len(status):,} points in {seconds:.2f} s ({rate:,.0f} points/s)")
