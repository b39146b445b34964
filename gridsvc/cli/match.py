"""``gridsvc match``: every point of a file to its grid, unit, committee, street and team."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gridsvc.cli.context import Opt, console, friendly, out, settings
from gridsvc.cli.texts import current_lang, t
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
    input: Annotated[Path, typer.Argument(help=t("match_input"))],
    out_path: Annotated[Path, Opt("--out", "-o", help=t("match_out"))],
    grids: Annotated[Path | None, Opt(help=t("match_grids"))] = None,
    units: Annotated[Path | None, Opt(help=t("match_units"))] = None,
    committees: Annotated[Path | None, Opt(help=t("match_committees"))] = None,
    jurisdiction: Annotated[Path | None, Opt(help=t("match_jurisdiction"))] = None,
    streets: Annotated[Path | None, Opt(help=t("match_streets"))] = None,
    crs: Annotated[str | None, Opt(help=t("match_crs"))] = None,
    crs_col: Annotated[str | None, Opt(help=t("match_crs_col"))] = None,
    lon_col: Annotated[str | None, Opt(help=t("match_lon_col"))] = None,
    lat_col: Annotated[str | None, Opt(help=t("match_lat_col"))] = None,
    code_field: Annotated[str, Opt(help=t("match_code_field"))] = "code",
    name_field: Annotated[str, Opt(help=t("match_name_field"))] = "name",
    layer: Annotated[list[str] | None, Opt(help=t("match_layer"))] = None,
    layer_crs: Annotated[str | None, Opt(help=t("match_layer_crs"))] = None,
    radius: Annotated[float | None, Opt(help=t("match_radius"))] = None,
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
        result = match_table(matcher, points, in_crs, advance, current_lang())
    lon, lat = result.pop("lon_cgcs2000").to_numpy(), result.pop("lat_cgcs2000").to_numpy()
    write_points(result, lon, lat, out_path)
    _summary(result["status"], time.perf_counter() - started, out_path)


def _input_crs(crs: str | None, crs_col: str | None, points: PointTable) -> InputCRS | str:
    """One CRS (--crs, else the file's), or a column of per-row CRS names."""
    from gridsvc.core.crs import parse_crs
    from gridsvc.core.errors import InvalidInput
    from gridsvc.core.messages import Msg

    if crs and crs_col:
        raise InvalidInput(Msg("cli.crs_and_crs_col"))
    if crs:
        return parse_crs(crs)
    if crs_col or (points.crs is None and "crs" in points.rows.columns):
        column = crs_col or "crs"
        if column not in points.rows.columns:
            columns = ", ".join(map(str, points.rows.columns))
            raise InvalidInput(Msg("cli.no_column", column=column, columns=columns))
        return column
    return points.crs or parse_crs("wgs84")


def _layer_names(given: list[str]) -> dict[LayerKind, str]:
    """``--layer`` values: ``NAME`` (the grids file's) or ``KIND=NAME``."""
    from gridsvc.core.errors import InvalidInput
    from gridsvc.core.messages import Msg

    names: dict[LayerKind, str] = {}
    for value in given:
        kind, sep, name = value.rpartition("=")
        try:
            level = LayerKind(kind) if sep else LayerKind.GRIDS
        except ValueError:
            levels = ", ".join(k.value for k in LayerKind)
            raise InvalidInput(
                Msg("cli.not_a_level", value=value, kind=kind, levels=levels)
            ) from None
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
    from gridsvc.core.messages import Msg
    from gridsvc.town import load_town, load_town_file

    if not files:
        return load_town_file(config.town_file)
    if LayerKind.GRIDS not in files:
        raise InvalidLayer(Msg("cli.grids_required"))
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
            TextColumn(t("matching")),
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
    table = Table(t("col_status"), t("col_points"), title=t("wrote", path=path))
    for name, word in (
        ("matched", t("matched")),
        ("outside", t("outside")),
        ("invalid", t("invalid")),
    ):
        table.add_row(word, f"{int(counts.get(name, 0)):,}")
    out.print(table)
    rate = len(status) / seconds if seconds > 0 else float("inf")
    out.print(
        t("match_rate", points=f"{len(status):,}", seconds=f"{seconds:.2f}", rate=f"{rate:,.0f}")
    )
