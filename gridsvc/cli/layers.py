"""``gridsvc validate`` and ``gridsvc layers``: check a layer file, manage layer versions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gridsvc.cli.context import (
    EXIT_PROBLEMS,
    CodeFieldOpt,
    DraftArg,
    EncodingOpt,
    FileCrsOpt,
    KindArg,
    LayerNameOpt,
    NameFieldOpt,
    Opt,
    ParentFieldOpt,
    friendly,
    out,
    print_problems,
    settings,
    version_status,
)
from gridsvc.cli.texts import current_lang, level, t
from gridsvc.core.kinds import LayerKind, allowed_parents

if TYPE_CHECKING:
    from rich.table import Table

    from gridsvc.config import Settings
    from gridsvc.core.layers import Layer
    from gridsvc.services.planning import Planning

app = typer.Typer(help=t("layers_help"), no_args_is_help=True)


@friendly
def validate(
    file: Annotated[
        Path,
        typer.Argument(help=t("validate_file")),
    ],
    kind: Annotated[LayerKind, Opt(help=t("validate_kind"))] = LayerKind.GRIDS,
    parent: Annotated[Path | None, Opt(help=t("validate_parent"))] = None,
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
    counts = {"features": len(found), "problems": len(problems), "blocking": blocking}
    out.print(t("validated", file=file, kind=level(kind), **counts))
    if blocking:
        raise typer.Exit(EXIT_PROBLEMS)


def _parent_layer(parent: Path | None, kind: LayerKind) -> Layer | None:
    from gridsvc.core.errors import InvalidLayer
    from gridsvc.core.messages import Msg
    from gridsvc.layerio import read_layer

    if parent is None:
        return None
    candidates = allowed_parents(kind)
    if not candidates:
        raise InvalidLayer(Msg("layers.no_parent_level", kind=kind.value))
    above = candidates[-1]  # a file alone: the level past the optional towns (a town's units)
    name = None
    if parent.suffix.lower() == ".gpkg":
        import pyogrio

        names = {str(row[0]) for row in pyogrio.list_layers(parent)}
        above = next((k for k in candidates if k.value in names), above)
        name = above.value if above.value in names else None
    return read_layer(parent, above, layer=name, require_parent=False)


@app.command("history", help=t("history_help"))
@friendly
def layers_history(
    kind: KindArg,
    town: Annotated[str | None, Opt("--town", help=t("history_town"))] = None,
) -> None:
    """Every version of a layer, newest first, with the town whose planner made it."""

    from gridsvc.services.layers import history
    from gridsvc.store.engine import make_engine

    rows = history(make_engine(settings().database_url), kind, town)
    table = version_table(t("col_features"))
    by_town = any(r.get("town_code") for r in rows)  # a single town's table stays as it was
    if by_town:
        table.add_column(t("col_town"))
    for r in rows:
        cells = [
            str(r["id"]),
            r["label"],
            version_status(r["status"]),
            str(r["features"]),
            str(r["created_at"]),
            str(r["published_at"] or ""),
            str(r["retired_at"] or ""),
        ]
        table.add_row(*cells, *([r.get("town_code") or t("district_version")] if by_town else []))
    out.print(table)


@app.command("export", help=t("export_help"))
@friendly
def layers_export(
    kind: KindArg,
    out_path: Annotated[Path, Opt("--out", "-o", help=t("export_out"))],
    version: Annotated[int | None, Opt(help=t("export_version"))] = None,
) -> None:
    """Write a layer version to a GeoPackage for QGIS."""
    from gridsvc.services.layers import export
    from gridsvc.store.engine import make_engine

    written = export(make_engine(settings().database_url), kind, version, out_path)
    out.print(t("wrote", path=written))


def version_table(count: str) -> Table:
    """The table of a version history (layers and responsibility lists); ``count`` heads the size."""
    from rich.table import Table

    return Table(
        t("col_id"), t("col_label"), t("col_status"), count, t("col_created"),
        t("col_published"), t("col_retired"),
    )  # fmt: skip


def planning(config: Settings) -> Planning:
    """The planning service over the configured database."""
    from gridsvc.services.planning import Planning
    from gridsvc.store.engine import make_engine

    return Planning(make_engine(config.database_url), config.sliver_m2)


@app.command("upload", help=t("upload_help"))
@friendly
def layers_upload(
    kind: KindArg,
    file: Annotated[Path, typer.Argument(help=t("upload_file"))],
    label: Annotated[str, Opt(help=t("upload_label"))] = "",
    repair: Annotated[str | None, Opt(help=t("upload_repair"))] = None,
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
    draft = planning(config).add_draft(found, label or file.name, repairs, lang=current_lang())
    for r in draft["repairs"]:
        out.print(t("repaired", code=r["code"], repair=r["repair"], detail=r["detail"]))
    print_problems([_Problem(p) for p in draft["validation"]["problems"]])
    blocking = draft["validation"]["blocking"]
    out.print(t("draft_stored", draft=draft["id"], features=draft["features"], blocking=blocking))


class _Problem:
    """A validation problem as the report gives it, for the problem table."""

    def __init__(self, d: dict[str, Any]) -> None:
        self.kind, self.codes, self.message = d["kind"], tuple(d["codes"]), d["message"]
        self.location, self.area_m2, self.blocking = (
            d.get("location"),
            d.get("area_m2"),
            d["blocking"],
        )


@app.command("validate", help=t("layers_validate_help"))
@friendly
def layers_validate(kind: KindArg, draft: DraftArg) -> None:
    """A draft's validation report; exit code 1 when something blocks publication."""
    report = planning(settings()).validation(kind, draft, lang=current_lang())
    print_problems([_Problem(p) for p in report["problems"]])
    problems, blocking = len(report["problems"]), report["blocking"]
    out.print(t("draft_checked", draft=draft, problems=problems, blocking=blocking))
    if report["blocking"]:
        raise typer.Exit(EXIT_PROBLEMS)


@app.command("impact", help=t("impact_help"))
@friendly
def layers_impact(kind: KindArg, draft: DraftArg) -> None:
    """What publishing a draft would change: features and cases that move."""
    from rich.table import Table

    impact = planning(settings()).impact(kind, draft)
    _print_feature_changes(impact["features"])
    table = Table(
        t("col_case"), t("col_status"), t("col_from_grid"), t("col_to_grid"),
        t("col_from_team"), t("col_to_team"), title=t("cases_that_move"),
    )  # fmt: skip
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
    out.print(t("cases_move", moved=len(impact["moved_cases"]), checked=impact["cases_checked"]))


def _print_feature_changes(features: dict[str, Any]) -> None:
    """Added and removed codes in one line each, changed features as a table."""
    from rich.table import Table

    changed = features["changed"]
    added, removed = features["added"], features["removed"]
    out.print(t("feature_changes", added=len(added), removed=len(removed), changed=len(changed)))
    for word, codes in ((t("added"), added), (t("removed"), removed)):
        if codes:
            out.print(f"  {word}: {', '.join(map(str, codes))}")
    if not changed:
        return
    table = Table(
        t("col_code"), t("col_area_change"), t("col_perimeter_change"), t("col_shape"),
        t("col_attributes"),
    )  # fmt: skip
    for c in changed:
        table.add_row(
            str(c["code"]),
            f"{c['area_change_m2']:+,.1f}",
            f"{c['perimeter_change_m']:+,.1f}",
            t("changed") if c["geometry_changed"] else "",
            t("changed") if c["attributes_changed"] else "",
        )
    out.print(table)


@app.command("publish", help=t("publish_help"))
@friendly
def layers_publish(
    kind: KindArg,
    draft: DraftArg,
    active: Annotated[int | None, Opt(help=t("publish_active"))] = None,
    yes: Annotated[bool, Opt("--yes", "-y", help=t("publish_yes"))] = False,
) -> None:
    """Publish a draft; open cases it moves are reassigned."""
    service = planning(settings())
    if active is None:
        active = service.active_version(kind)
        impact = service.impact(kind, draft)
        _print_feature_changes(impact["features"])
        moving = sum(m["open"] for m in impact["moved_cases"])
        _confirm(yes, t("publish_question", draft=draft, active=active, moving=moving))
    result = service.publish(kind, draft, draft, active)
    out.print(t("published", **result))


@app.command("rollback", help=t("rollback_help"))
@friendly
def layers_rollback(
    kind: KindArg,
    active: Annotated[int | None, Opt(help=t("rollback_active"))] = None,
    yes: Annotated[bool, Opt("--yes", "-y", help=t("rollback_yes"))] = False,
) -> None:
    """Make the previous version active again (as a new version)."""
    service = planning(settings())
    if active is None:
        active = service.active_version(kind)
        _confirm(yes, t("rollback_question", kind=level(kind), active=active))
    result = service.rollback(kind, active)
    out.print(t("rolled_back", **result))


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
        fail(t("not_changed"), 1)
