"""The ``gridsvc`` command line: validate layers, match points, run the service.

Errors a user can cause end in one line on stderr and exit code 2, never a
traceback; a layer with blocking problems ends in exit code 1 after listing
them all.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from gridsvc.config import Settings
from gridsvc.core.crs import InputCRS, parse_crs
from gridsvc.core.errors import GridsvcError, InvalidInput, InvalidLayer
from gridsvc.core.evaluation import TownWeights
from gridsvc.core.layers import PARENT_KIND, Layer, LayerKind
from gridsvc.core.repair import parse_repairs
from gridsvc.core.validation import validate_layer
from gridsvc.core.workflow import Role
from gridsvc.intake_writer import log_to_stderr
from gridsvc.layerio import read_layer
from gridsvc.maps.basemaps import TileOptions
from gridsvc.pointfiles import PointTable, read_points, write_points
from gridsvc.services import match_table
from gridsvc.services.evaluation import EvaluationQuery, EvaluationService, file_writer
from gridsvc.services.keys import create_key, demo_keys
from gridsvc.services.layers import export as export_layer
from gridsvc.services.layers import history as layer_history
from gridsvc.services.maps import Look, MapFilter, MapService, write
from gridsvc.services.planning import Planning, Upload, read_upload
from gridsvc.services.responsibility import ResponsibilityLists, read_list_csv
from gridsvc.services.setup import load_demo, read_matters
from gridsvc.store.engine import make_engine, upgrade
from gridsvc.town import Town, load_town, load_town_file

app = typer.Typer(help="gridsvc: 网格化管理 grid-management service.", no_args_is_help=True)
db_app = typer.Typer(help="the database: migrations", no_args_is_help=True)
demo_app = typer.Typer(help="the demo town 示范镇", no_args_is_help=True)
keys_app = typer.Typer(help="API keys per role", no_args_is_help=True)
layers_app = typer.Typer(help="layer versions: history and export", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(keys_app, name="keys")
app.add_typer(layers_app, name="layers")
report_app = typer.Typer(help="reports: evaluation (考核)", no_args_is_help=True)
app.add_typer(report_app, name="report")
list_app = typer.Typer(help="the responsibility list 属地管理清单: versions", no_args_is_help=True)
app.add_typer(list_app, name="list")
map_app = typer.Typer(help="maps (folium): coverage, hotspots, redraw impact", no_args_is_help=True)
app.add_typer(map_app, name="map")
console = Console(stderr=True, soft_wrap=True)  # an error stays one line in a log
out = Console()

EXIT_USAGE = 2
EXIT_PROBLEMS = 1
PROGRESS_FROM = 200_000  # inputs at least this large show a progress bar

F = TypeVar("F", bound=Callable[..., Any])


def friendly(func: F) -> F:
    """Turn gridsvc errors (and missing files) into one line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InvalidLayer as exc:
            _print_problems(exc.problems)
            console.print(f"[red]error:[/red] {exc.message}", highlight=False)
            raise typer.Exit(EXIT_PROBLEMS if exc.problems else EXIT_USAGE) from None
        except GridsvcError as exc:
            console.print(f"[red]error:[/red] {exc.message}", highlight=False)
            raise typer.Exit(EXIT_USAGE) from None
        except OSError as exc:
            console.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(EXIT_USAGE) from None

    return wrapper  # type: ignore[return-value]


def _print_problems(problems: list[Any]) -> None:
    if not problems:
        return
    table = Table("kind", "codes", "where (lon, lat)", "m²", "blocks", "message", show_lines=False)
    for p in problems:
        where = f"{p.location[0]:.6f}, {p.location[1]:.6f}" if p.location else ""
        area = f"{p.area_m2:,.2f}" if p.area_m2 is not None else ""
        table.add_row(
            str(p.kind), ", ".join(p.codes), where, area, "yes" if p.blocking else "no", p.message
        )
    console.print(table)


Opt = typer.Option

# Options that every command reading a layer file takes, declared once.
LayerNameOpt = Annotated[str | None, Opt("--layer", help="layer name inside a GeoPackage")]
CodeFieldOpt = Annotated[str, Opt("--code-field", help="field holding the feature code")]
NameFieldOpt = Annotated[str, Opt("--name-field", help="field holding the feature name")]
ParentFieldOpt = Annotated[str, Opt("--parent-field", help="field holding the parent's code")]
EncodingOpt = Annotated[str | None, Opt("--encoding", help="attribute encoding, e.g. GBK")]
FileCrsOpt = Annotated[str | None, Opt("--crs", help="CRS when the file declares none")]


@app.command()
@friendly
def validate(
    file: Annotated[
        Path,
        typer.Argument(help="layer file: GeoJSON, GeoPackage, Shapefile (.shp/.zip), FlatGeobuf"),
    ],
    kind: Annotated[LayerKind, Opt(help="which level the file holds")] = LayerKind.GRIDS,
    parent: Annotated[Path | None, Opt(help="the parent level's file, to check nesting")] = None,
    layer: LayerNameOpt = None,
    code_field: CodeFieldOpt = "code",
    name_field: NameFieldOpt = "name",
    parent_field: ParentFieldOpt = "parent_code",
    encoding: EncodingOpt = None,
    crs: FileCrsOpt = None,
) -> None:
    """Check a layer file: geometry, codes, gaps and overlaps, nesting in its parent."""
    fields = {"code_field": code_field, "name_field": name_field, "parent_field": parent_field}
    found = read_layer(file, kind, layer=layer, encoding=encoding, crs=crs, **fields)
    parent_layer = _parent_layer(parent, kind)
    problems = validate_layer(found, parent_layer, Settings().sliver_m2)
    _print_problems(problems)
    blocking = sum(p.blocking for p in problems)
    out.print(
        f"{file}: {len(found)} {kind} feature(s), {len(problems)} problem(s), {blocking} blocking"
    )
    if blocking:
        raise typer.Exit(EXIT_PROBLEMS)


def _parent_layer(parent: Path | None, kind: LayerKind) -> Layer | None:
    if parent is None:
        return None
    if kind not in PARENT_KIND:
        raise InvalidLayer(f"a {kind} layer has no parent level")
    parent_kind = PARENT_KIND[kind]
    is_gpkg = parent.suffix.lower() == ".gpkg"
    return read_layer(parent, parent_kind, layer=parent_kind.value if is_gpkg else None)


@app.command()
@friendly
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
    radius: Annotated[float | None, Opt(help="nearest-street radius in metres")] = None,
) -> None:
    """Match every point of a file to its grid, unit, committee, street and team."""
    settings = Settings()
    files = {
        LayerKind.GRIDS: grids,
        LayerKind.UNITS: units,
        LayerKind.COMMITTEES: committees,
        LayerKind.JURISDICTION: jurisdiction,
        LayerKind.STREETS: streets,
    }
    town = _town(
        settings, {k: v for k, v in files.items() if v is not None}, code_field, name_field
    )
    points = read_points(input, lon_col, lat_col)
    in_crs = _input_crs(crs, crs_col, points)
    started = time.perf_counter()
    matcher = town.matcher(radius or settings.street_radius_m, settings.cell_m)
    with _progress(len(points.x)) as advance:
        result = match_table(matcher, points, in_crs, advance)
    lon, lat = result.pop("lon_cgcs2000").to_numpy(), result.pop("lat_cgcs2000").to_numpy()
    write_points(result, lon, lat, out_path)
    _summary(result["status"], time.perf_counter() - started, out_path)


def _input_crs(crs: str | None, crs_col: str | None, points: PointTable) -> InputCRS | str:
    """One CRS (--crs, else the file's), or a column of per-row CRS names."""
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


def _town(settings: Settings, files: dict[LayerKind, Path], code: str, name: str) -> Town:
    if not files:
        return load_town_file(settings.town_file)
    if LayerKind.GRIDS not in files:
        raise InvalidLayer("--grids is required when other layer files are given")
    return load_town(files, code_field=code, name_field=name)


class _progress:
    """A rich progress bar for large inputs; a no-op for small ones."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar: Progress | None = None

    def __enter__(self) -> Callable[[int], None]:
        if self.total < PROGRESS_FROM:
            return lambda n: None
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
    counts = status.value_counts()
    table = Table("status", "points", title=f"wrote {path}")
    for name in ("matched", "outside", "invalid"):
        table.add_row(name, f"{int(counts.get(name, 0)):,}")
    out.print(table)
    rate = len(status) / seconds if seconds > 0 else float("inf")
    out.print(f"{len(status):,} points in {seconds:.2f} s ({rate:,.0f} points/s)")


@app.command()
@friendly
def serve(
    host: Annotated[str | None, Opt(help="address to listen on")] = None,
    port: Annotated[int | None, Opt(help="port to listen on")] = None,
    workers: Annotated[
        int,
        Opt(
            min=1,
            max=64,
            help="server processes: on a 2-core machine 2 answer the most matches per second, "
            "1 answers reports at 500/s with the shorter tail (one intake writer process "
            "writes the reports of all of them)",
        ),
    ] = 1,
    access_log: Annotated[bool, Opt(help="log every request (uvicorn's access log)")] = True,
) -> None:
    """Run the HTTP service (OpenAPI at /docs) and its intake writer process."""
    import os

    import uvicorn

    from gridsvc.api.app import create_app
    from gridsvc.services.intake_process import writer_process

    settings = Settings()
    settings = settings.model_copy(
        update={k: v for k, v in {"host": host, "port": port}.items() if v}
    )
    log_to_stderr()
    upgrade(settings.database_url)  # before the writer and the workers open the database
    with writer_process() as intake_socket:
        settings = settings.model_copy(update={"intake_socket": intake_socket})
        server = {"log_level": "info", "access_log": access_log}
        if workers > 1:  # each process builds its own app from the environment
            os.environ.update(
                GRIDSVC_HOST=settings.host,
                GRIDSVC_PORT=str(settings.port),
                GRIDSVC_INTAKE_SOCKET=str(intake_socket),
            )
            _serve_banner(settings)
            uvicorn.run(
                "gridsvc.api.app:create_app",
                factory=True,
                host=settings.host,
                port=settings.port,
                workers=workers,
                **server,
            )
            return
        application = create_app(settings)
        _serve_banner(settings)
        uvicorn.run(application, host=settings.host, port=settings.port, **server)


def _serve_banner(settings: Settings) -> None:
    out.print(f"gridsvc 网格化管理服务: http://{settings.host}:{settings.port}/  (API docs: /docs)")
    out.print(f"  try: http://{settings.host}:{settings.port}/api/v1/match?lon=121.45&lat=31.33")
    out.print(
        f"  QGIS: add an OGC API - Features connection to http://{settings.host}:{settings.port}/ogc"
    )
    out.print("  cases need a key: .venv/bin/gridsvc keys create --role dispatcher --name <who>")


@layers_app.command("history")
@friendly
def layers_history(kind: Annotated[LayerKind, typer.Argument(help="which layer")]) -> None:
    """Every version of a layer, newest first."""
    settings = Settings()
    rows = layer_history(make_engine(settings.database_url), kind)
    table = Table("id", "label", "status", "features", "created", "published", "retired")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["label"],
            r["status"],
            str(r["features"]),
            str(r["created_at"]),
            str(r["published_at"] or ""),
            str(r["retired_at"] or ""),
        )
    out.print(table)


@layers_app.command("export")
@friendly
def layers_export(
    kind: Annotated[LayerKind, typer.Argument(help="which layer")],
    out_path: Annotated[Path, Opt("--out", "-o", help="the GeoPackage to write")],
    version: Annotated[int | None, Opt(help="a version id (default: the active one)")] = None,
) -> None:
    """Write a layer version to a GeoPackage for QGIS."""
    settings = Settings()
    written = export_layer(make_engine(settings.database_url), kind, version, out_path)
    out.print(f"wrote {written}")


def _planning(settings: Settings) -> Planning:
    return Planning(make_engine(settings.database_url), settings.sliver_m2)


@layers_app.command("upload")
@friendly
def layers_upload(
    kind: Annotated[LayerKind, typer.Argument(help="which layer")],
    file: Annotated[
        Path, typer.Argument(help="GeoJSON, GeoPackage, zipped Shapefile or FlatGeobuf")
    ],
    label: Annotated[str, Opt(help="what the redraw is")] = "",
    repair: Annotated[
        str | None, Opt(help="repairs to apply: make_valid, snap, close_slivers")
    ] = None,
    layer: LayerNameOpt = None,
    code_field: CodeFieldOpt = "code",
    name_field: NameFieldOpt = "name",
    parent_field: ParentFieldOpt = "parent_code",
    encoding: EncodingOpt = None,
    crs: FileCrsOpt = None,
) -> None:
    """Store a redrawn layer as a draft and show its validation."""
    settings = Settings()
    upload = Upload(
        file.name, file.read_bytes(), layer, code_field, name_field, parent_field, encoding, crs
    )
    repairs = parse_repairs(repair)
    found = read_upload(kind, upload, settings.max_layer_bytes)
    draft = _planning(settings).add_draft(found, label or file.name, repairs)
    for r in draft["repairs"]:
        out.print(f"repaired {r['code']}: {r['repair']} ({r['detail']})")
    _print_problems([_Problem(p) for p in draft["validation"]["problems"]])
    out.print(
        f"draft {draft['id']}: {draft['features']} feature(s), {draft['validation']['blocking']} blocking problem(s)"
    )


class _Problem:
    """A validation problem as the report gives it, for the problem table."""

    def __init__(self, d: dict[str, Any]) -> None:
        self.kind, self.codes, self.message = d["kind"], tuple(d["codes"]), d["message"]
        self.location, self.area_m2, self.blocking = (
            d.get("location"),
            d.get("area_m2"),
            d["blocking"],
        )


@layers_app.command("validate")
@friendly
def layers_validate(
    kind: Annotated[LayerKind, typer.Argument()], draft: Annotated[int, typer.Argument()]
) -> None:
    """A draft's validation report; exit code 1 when something blocks publication."""
    report = _planning(Settings()).validation(kind, draft)
    _print_problems([_Problem(p) for p in report["problems"]])
    out.print(f"draft {draft}: {len(report['problems'])} problem(s), {report['blocking']} blocking")
    if report["blocking"]:
        raise typer.Exit(EXIT_PROBLEMS)


@layers_app.command("impact")
@friendly
def layers_impact(
    kind: Annotated[LayerKind, typer.Argument()], draft: Annotated[int, typer.Argument()]
) -> None:
    """What publishing a draft would change: features and cases that move."""
    impact = _planning(Settings()).impact(kind, draft)
    features = impact["features"]
    out.print(
        f"added {features['added']}, removed {features['removed']}, changed {len(features['changed'])}"
    )
    table = Table(
        "case", "status", "from grid", "to grid", "from team", "to team", title="cases that move"
    )
    for m in impact["moved_cases"]:
        table.add_row(
            m["number"],
            m["status"],
            str(m["from"]["grid_code"]),
            str(m["to"]["grid_code"]),
            str(m["from"]["team"]),
            str(m["to"]["team"]),
        )
    out.print(table)
    out.print(f"{len(impact['moved_cases'])} of {impact['cases_checked']} cases move")


@layers_app.command("publish")
@friendly
def layers_publish(
    kind: Annotated[LayerKind, typer.Argument()],
    draft: Annotated[int, typer.Argument()],
    active: Annotated[int | None, Opt(help="the active version id you previewed against")] = None,
) -> None:
    """Publish a draft; open cases it moves are reassigned."""
    result = _planning(Settings()).publish(kind, draft, draft, active)
    out.print(
        f"published version {result['published']}, retired {result['retired']}, reassigned {result['reassigned']} case(s)"
    )


@layers_app.command("rollback")
@friendly
def layers_rollback(
    kind: Annotated[LayerKind, typer.Argument()],
    active: Annotated[int | None, Opt(help="the active version id you mean to replace")] = None,
) -> None:
    """Make the previous version active again (as a new version)."""
    result = _planning(Settings()).rollback(kind, active)
    out.print(
        f"restored version {result['restored']} as version {result['published']}; reassigned {result['reassigned']}"
    )


@db_app.command("upgrade")
@friendly
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema (idempotent)."""
    settings = Settings()
    upgrade(settings.database_url)
    out.print(f"database at {settings.database_url} is up to date")


@demo_app.command("load")
@friendly
def demo_load(
    history: Annotated[
        bool, Opt(help="also import the year of historical reports as cases")
    ] = True,
) -> None:
    """Put the demo town (layers, teams, departments, lists, history) into the database, once."""
    settings = Settings()
    upgrade(settings.database_url)
    load_demo(make_engine(settings.database_url), settings.demo_dir, history=history, say=out.print)


@demo_app.command("keys")
@friendly
def demo_keys_command(
    url: Annotated[str, Opt(help="where the service answers")] = "http://127.0.0.1:8000",
) -> None:
    """One fresh key per role for trying the demo (the previous demo keys are revoked);
    paste a key at the URL's sign-in, or into the page the role opens."""
    settings = Settings()
    upgrade(settings.database_url)
    made = demo_keys(make_engine(settings.database_url))
    out.print(f"打开 open {url}/ 并粘贴密钥登录 (paste a key to sign in):")
    for role, key, page in made:
        out.print(f"  {role.value:<10} {url}{page:<11} {key}")


@keys_app.command("create")
@friendly
def keys_create(
    role: Annotated[Role, Opt(help="patrol, dispatcher, handler, planner, leader or admin")],
    name: Annotated[str, Opt(help="who holds the key, e.g. a patrol's id")],
    department: Annotated[str | None, Opt(help="handler keys: the department code")] = None,
) -> None:
    """Create an API key; it is printed once and only its hash is stored."""
    settings = Settings()
    upgrade(settings.database_url)
    key = create_key(make_engine(settings.database_url), role, name, department)
    out.print(key)


@report_app.command("evaluation")
@friendly
def report_evaluation(
    first_day: Annotated[str, Opt("--from", help="first day, YYYY-MM-DD")],
    last_day: Annotated[str, Opt("--to", help="last day (included), YYYY-MM-DD")],
    out_path: Annotated[Path, Opt("--out", "-o", help="the file to write: .csv or .xlsx")],
    by: Annotated[str, Opt(help="grid, team, department, group, category or unit")] = "grid",
    lang: Annotated[str | None, Opt(help="names and headers: zh or en")] = None,
    min_cases: Annotated[int | None, Opt(help="due cases a group needs to be ranked")] = None,
    line_score: Annotated[
        list[str] | None, Opt(help="CODE=SCORE: a department's line assessment (by department)")
    ] = None,
) -> None:
    """The evaluation (考核) of a period per grid, team, department, group, category or unit."""
    settings = Settings()
    query = EvaluationQuery.parse(
        first_day, last_day, by, min_cases, lang or settings.lang, line_score or ()
    )
    write = file_writer(out_path)
    upgrade(settings.database_url)  # an older database gets the index the report reads by
    weights = TownWeights(settings.evaluation_county_weight, settings.evaluation_stationed_weight)
    service = EvaluationService.from_database(make_engine(settings.database_url), weights)
    report = service.evaluate(query)
    out_path.write_bytes(write(report))
    total = report.total_row()
    ranked = sum(1 for row in report.rows() if row["rank"] is not None)
    out.print(
        f"wrote {out_path}: {len(report.rows())} {by} row(s), {ranked} ranked "
        f"(at least {query.min_cases} due cases); {total['due']} case(s) due, "
        f"on-time closure rate {_percent(total['on_time_rate'])}"
    )


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


if __name__ == "__main__":
    app()


# ---- maps ----------------------------------------------------------------------------------

LangOpt = Annotated[str | None, Opt("--lang", help="zh (default) or en")]
BasemapOpt = Annotated[str, Opt(help="none, osm, tianditu, amap (GCJ-02) or intranet")]
MapOutOpt = Annotated[
    Path, Opt("--out", "-o", help="the HTML file to write (static/ goes beside it)")
]


def _map_service(settings: Settings) -> MapService:
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:  # the list only: the service reads the layers it draws
        return MapService(engine, read_matters(conn))


def _look(settings: Settings, lang: str | None, basemap: str, period: str = "month") -> Look:
    tiles = TileOptions(
        settings.tianditu_key, settings.tile_url, settings.tile_attribution, settings.maps_offline
    )
    return Look(lang or settings.lang, basemap, tiles, period)


def _written(path: Path, settings: Settings, url_path: str) -> None:
    url = f"http://{settings.host}:{settings.port}{url_path}?api_key=<leader key>"
    out.print(f"wrote {path}  (served at {url})", soft_wrap=True)


@map_app.command("coverage")
@friendly
def map_coverage(
    out_path: MapOutOpt = Path("maps/coverage.html"),
    lang: LangOpt = None,
    basemap: BasemapOpt = "none",
) -> None:
    """Grids by responsible team, units, committees and streets, with Chinese labels."""
    settings = Settings()
    service = _map_service(settings)
    with console.status("building the coverage map…"):
        written = write(service.coverage(_look(settings, lang, basemap)), out_path)
    _written(written, settings, "/maps/coverage")


@map_app.command("hotspots")
@friendly
def map_hotspots(
    out_path: MapOutOpt = Path("maps/hotspots.html"),
    lang: LangOpt = None,
    basemap: BasemapOpt = "none",
    category: Annotated[str | None, Opt(help="a category code")] = None,
    field: Annotated[str | None, Opt(help="a field of the responsibility list")] = None,
    status: Annotated[str | None, Opt(help="a status, or 'open'")] = None,
    unit: Annotated[str | None, Opt(help="a basic management unit code")] = None,
    team: Annotated[str | None, Opt(help="a team code")] = None,
    date_from: Annotated[str | None, Opt("--from", help="first day (2026-05-01) or time")] = None,
    date_to: Annotated[str | None, Opt("--to", help="last day (inclusive) or time")] = None,
    period: Annotated[str, Opt(help="time view by month or week")] = "month",
) -> None:
    """Case counts, rate per km², Gi* hot and cold spots, heat and the time view."""
    settings = Settings()
    service = _map_service(settings)
    wanted = MapFilter.parse(
        category, field, status, unit, team, date_from, date_to, names=("--from", "--to")
    )
    with console.status("reading the cases and building the hotspot map (Gi*, heat, periods)…"):
        written = write(service.hotspots(wanted, _look(settings, lang, basemap, period)), out_path)
    _written(written, settings, "/maps/hotspots")


@map_app.command("impact")
@friendly
def map_impact(
    kind: Annotated[LayerKind, typer.Argument(help="which layer")],
    draft: Annotated[int, typer.Argument(help="the draft's version id")],
    out_path: MapOutOpt = Path("maps/impact.html"),
    lang: LangOpt = None,
    basemap: BasemapOpt = "none",
) -> None:
    """Current against redrawn boundaries, with the cases the draft would move."""
    settings = Settings()
    service = _map_service(settings)
    with console.status("re-matching the cases under the draft and building the map…"):
        page = service.impact(_planning(settings), kind, draft, _look(settings, lang, basemap))
        written = write(page, out_path)
    _written(written, settings, f"/maps/impact/{kind.value}/{draft}")


# ---- the responsibility list -------------------------------------------------------------


def _lists(settings: Settings) -> ResponsibilityLists:
    return ResponsibilityLists(make_engine(settings.database_url))


@list_app.command("history")
@friendly
def list_history() -> None:
    """Every version of the responsibility list, newest first."""
    table = Table("id", "label", "status", "matters", "created", "published", "retired")
    for r in _lists(Settings()).history():
        table.add_row(
            str(r["id"]), r["label"], r["status"], str(r["matters"]), str(r["created_at"]),
            str(r["published_at"] or ""), str(r["retired_at"] or ""),
        )  # fmt: skip
    out.print(table)


@list_app.command("upload")
@friendly
def list_upload(
    file: Annotated[Path, typer.Argument(help="the list as CSV (UTF-8 or GBK)")],
    label: Annotated[str, Opt(help="what changed")] = "",
) -> None:
    """Store a new responsibility list as a draft and show what it changes."""
    draft = _lists(Settings()).add_draft(read_list_csv(file.read_bytes()), label or file.name)
    out.print(
        f"draft {draft['id']}: {draft['matters']} matters (published list: {draft['active']})"
    )
    out.print(
        f"  added {', '.join(draft['added']) or '-'}; removed {', '.join(draft['removed']) or '-'}"
    )
    for change in draft["changed"]:
        out.print(f"  changed {change['code']}: {', '.join(change['fields'])}")


@list_app.command("publish")
@friendly
def list_publish(
    draft: Annotated[int, typer.Argument(help="the draft's version id")],
    active: Annotated[int | None, Opt(help="the published version you compared against")] = None,
) -> None:
    """Publish a draft list (running services pick it up within GRIDSVC_VERSION_POLL_S)."""
    result = _lists(Settings()).publish(draft, draft, active)
    out.print(f"published list version {result['published']} (retired {result['retired']})")
