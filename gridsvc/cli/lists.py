"""``gridsvc list``: versions of the responsibility list (属地管理清单)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gridsvc.cli.context import Opt, friendly, out, settings, version_status
from gridsvc.cli.texts import t

if TYPE_CHECKING:
    from gridsvc.services.responsibility import ResponsibilityLists

app = typer.Typer(help=t("list_help"), no_args_is_help=True)


def _lists() -> ResponsibilityLists:
    from gridsvc.services.responsibility import ResponsibilityLists
    from gridsvc.store.engine import make_engine

    return ResponsibilityLists(make_engine(settings().database_url))


@app.command("history", help=t("list_history_help"))
@friendly
def list_history() -> None:
    """Every version of the responsibility list, newest first."""
    from gridsvc.cli.layers import version_table

    table = version_table(t("col_matters"))
    for r in _lists().history():
        table.add_row(
            str(r["id"]), r["label"], version_status(r["status"]), str(r["matters"]), str(r["created_at"]),
            str(r["published_at"] or ""), str(r["retired_at"] or ""),
        )  # fmt: skip
    out.print(table)


@app.command("upload", help=t("list_upload_help"))
@friendly
def list_upload(
    file: Annotated[Path, typer.Argument(help=t("list_file"))],
    label: Annotated[str, Opt(help=t("list_label"))] = "",
) -> None:
    """Store a new responsibility list as a draft and show what it changes."""
    from gridsvc.services.responsibility import read_list_csv

    draft = _lists().add_draft(read_list_csv(file.read_bytes()), label or file.name)
    out.print(t("list_draft", draft=draft["id"], matters=draft["matters"], active=draft["active"]))
    added, removed = ", ".join(draft["added"]) or "-", ", ".join(draft["removed"]) or "-"
    out.print(t("list_added_removed", added=added, removed=removed))
    for change in draft["changed"]:
        out.print(t("list_changed", code=change["code"], fields=", ".join(change["fields"])))


@app.command("publish", help=t("list_publish_help"))
@friendly
def list_publish(
    draft: Annotated[int, typer.Argument(help=t("arg_draft"))],
    active: Annotated[int | None, Opt(help=t("list_active"))] = None,
) -> None:
    """Publish a draft list (running services pick it up within GRIDSVC_VERSION_POLL_S)."""
    result = _lists().publish(draft, draft, active)
    out.print(t("list_published", published=result["published"], retired=result["retired"]))
