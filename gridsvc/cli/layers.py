"""``gridsvc validate`` and ``gridsvc layers``: check a layer file, manage layer versions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gridsvc.cli.context import (
    EXIT_PROBLEMS,
    CodeFieldOpt,
    EncodingOpt,
    FileCrsOpt,
    LayerNameOpt,
    NameFieldOpt,
    Opt,
    ParentFieldOpt,
    friendly,
    out,
    print_problems,
    settings,
)
from gridsvc.core.kinds import PARENT_KIND, LayerKind

if TYPE_CHECKING:
    from gridsvc.config import Settings
    from gridsvc.core.layers import Layer
    from gridsvc.services.planning import Planning

app = typer.Typer(help="layer versions: history and export", no_args_is_help=True)


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
    from gridsvc.core.validation import validate_layer
    from gridsvc.layerio import read_layer

    fields = {"code_field": code_field, "name_field": name_field, "parent_field": parent_field}
    # a layer checked alone has no parent to name: its parent codes are not asked for
    found = read_layer(
        file,
        kind,
        layer=layer,
        encoding=encoding,
        crs=crs,
        require_parent=parent is not None,
        **fields,
    )
    parent_layer = _parent_layer(parent, kind)
    problems = validate_layer(found, parent_layer, settings().sliver_m2)
    print_problems(problems)
    blocking = sum(p.blocking for p in problems)
    out.print(
        f"{file}: {len(found)} {kind} feature(s), {len(problems)} problem(s), {blocking} blocking"
    )
    if blocking:
        raise typer.Exit(EXIT_PROBLEMS)


def _parent_layer(parent: Path | None, kind: LayerKind) -> Layer | None:
    from gridsvc.core.errors import InvalidLayer
    from gridsvc.layerio import read_layer

    if parent is None:
        return None
    if kind not in PARENT_KIND:
        raise InvalidLayer(f"a {kind} layer has no parent level")
    parent_kind = PARENT_KIND[kind]
    is_gpkg = parent.suffix.lower() == ".gpkg"
    return read_layer(parent, parent_kind, layer=parent_kind.value if is_gpkg else None)


@app.command("history")
@friendly
def layers_history(kind: Annotated[LayerKind, typer.Argument(help="which layer")]) -> None:
    """Every version of a layer, newest first."""
    from rich.table import Table

    from gridsvc.services.layers import history
    from gridsvc.store.engine import make_engine

    rows = history(make_engine(settings().database_url), kind)
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


@app.command("export")
@friendly
def layers_export(
    kind: Annotated[LayerKind, typer.Argument(help="which layer")],
    out_path: Annotated[Path, Opt("--out", "-o", help="the GeoPackage to write")],
    version: Annotated[int | None, Opt(help="a version id (default: the active one)")] = None,
) -> None:
    """Write a layer version to a GeoPackage for QGIS."""
    from gridsvc.services.layers import export
    from gridsvc.store.engine import make_engine

    written = export(make_engine(settings().database_url), kind, version, out_path)
    out.print(f"wrote {written}")


def planning(config: Settings) -> Planning:
    """The planning service over the configured database."""
    from gridsvc.services.planning import Planning
    from gridsvc.store.engine import make_engine

    return Planning(make_engine(config.database_url), config.sliver_m2)


@app.command("upload")
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
    from gridsvc.core.repair import parse_repairs
    from gridsvc.services.planning import Upload, read_upload

    config = settings()
    upload = Upload(
        file.name, file.read_bytes(), layer, code_field, name_field, parent_field, encoding, crs
    )
    repairs = parse_repairs(repair)
    found = read_upload(kind, upload, config.max_layer_bytes)
    draft = planning(config).add_draft(found, label or file.name, repairs)
    for r in draft["repairs"]:
        out.print(f"repaired {r['code']}: {r['repair']} ({r['detail']})")
    print_problems([_Problem(p) for p in draft["validation"]["problems"]])
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


@app.command("validate")
@friendly
def layers_validate(
    kind: Annotated[LayerKind, typer.Argument()], draft: Annotated[int, typer.Argument()]
) -> None:
    """A draft's validation report; exit code 1 when something blocks publication."""
    report = planning(settings()).validation(kind, draft)
    print_problems([_Problem(p) for p in report["problems"]])
    out.print(f"draft {draft}: {len(report['problems'])} problem(s), {report['blocking']} blocking")
    if report["blocking"]:
        raise typer.Exit(EXIT_PROBLEMS)


@app.command("impact")
@friendly
def layers_impact(
    kind: Annotated[LayerKind, typer.Argument()], draft: Annotated[int, typer.Argument()]
) -> None:
    """What publishing a draft would change: features and cases that move."""
    from rich.table import Table

    impact = planning(settings()).impact(kind, draft)
    _print_feature_changes(impact["features"])
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
    if impact["moved_cases"]:
        out.print(table)
    out.print(f"{len(impact['moved_cases'])} of {impact['cases_checked']} cases move")


def _print_feature_changes(features: dict[str, Any]) -> None:
    """Added and removed codes in one line each, changed features as a table."""
    from rich.table import Table

    changed = features["changed"]
    added, removed = features["added"], features["removed"]
    out.print(f"added {len(added)}, removed {len(removed)}, changed {len(changed)}")
    for word, codes in (("added", added), ("removed", removed)):
        if codes:
            out.print(f"  {word}: {', '.join(map(str, codes))}")
    if not changed:
        return
    table = Table("code", "area change m²", "perimeter change m", "shape", "attributes")
    for c in changed:
        table.add_row(
            str(c["code"]),
            f"{c['area_change_m2']:+,.1f}",
            f"{c['perimeter_change_m']:+,.1f}",
            "changed" if c["geometry_changed"] else "",
            "changed" if c["attributes_changed"] else "",
        )
    out.print(table)


@app.command("publish")
@friendly
def layers_publish(
    kind: Annotated[LayerKind, typer.Argument()],
    draft: Annotated[int, typer.Argument()],
    active: Annotated[
        int | None,
        Opt(help="the active version id you previewed against (default: show the impact, ask)"),
    ] = None,
    yes: Annotated[bool, Opt("--yes", "-y", help="publish without asking")] = False,
) -> None:
    """Publish a draft; open cases it moves are reassigned."""
    service = planning(settings())
    if active is None:
        active = service.active_version(kind)
        impact = service.impact(kind, draft)
        _print_feature_changes(impact["features"])
        moving = sum(m["open"] for m in impact["moved_cases"])
        _confirm(
            yes, f"publish draft {draft} over version {active}, reassigning {moving} open case(s)?"
        )
    result = service.publish(kind, draft, draft, active)
    out.print(
        f"published version {result['published']}, retired {result['retired']}, reassigned {result['reassigned']} case(s)"
    )


@app.command("rollback")
@friendly
def layers_rollback(
    kind: Annotated[LayerKind, typer.Argument()],
    active: Annotated[
        int | None, Opt(help="the active version id you mean to replace (default: ask)")
    ] = None,
    yes: Annotated[bool, Opt("--yes", "-y", help="roll back without asking")] = False,
) -> None:
    """Make the previous version active again (as a new version)."""
    service = planning(settings())
    if active is None:
        active = service.active_version(kind)
        _confirm(yes, f"replace the active {kind.value} version {active} by the one before it?")
    result = service.rollback(kind, active)
    out.print(
        f"restored version {result['restored']} as version {result['published']}; reassigned {result['reassigned']}"
    )


def _confirm(yes: bool, question: str) -> None:
    """Ask before an act that moves cases; no answer (no terminal, end of input) is a no."""
    from gridsvc.cli.context import fail

    if yes:
        return
    try:
        agreed = typer.confirm(question, default=False)
    except typer.Abort:  # end of input, or Ctrl-C at the question
        agreed = False
    if not agreed:
        fail("nothing was changed; give --yes (or --active ID) to go ahead without asking", 1)
