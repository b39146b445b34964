"""``gridsvc list``: versions of the responsibility list (属地管理清单)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gridsvc.cli.context import Opt, friendly, out, settings

if TYPE_CHECKING:
    from gridsvc.services.responsibility import ResponsibilityLists

app = typer.Typer(help="the responsibility list 属地管理清单: versions", no_args_is_help=True)


def _lists() -> ResponsibilityLists:
    from gridsvc.services.responsibility import ResponsibilityLists
    from gridsvc.store.engine import make_engine

    return ResponsibilityLists(make_engine(settings().database_url))


@app.command("history")
@friendly
def list_history() -> None:
    """Every version of the responsibility list, newest first."""
    from rich.table import Table

    table = Table("id", "label", "status", "matters", "created", "published", "retired")
    for r in _lists().history():
        table.add_row(
            str(r["id"]), r["label"], r["status"], str(r["matters"]), str(r["created_at"]),
            str(r["published_at"] or ""), str(r["retired_at"] or ""),
        )  # fmt: skip
    out.print(table)


@app.command("upload")
@friendly
def list_upload(
    file: Annotated[Path, typer.Argument(help="the list as CSV (UTF-8 or GBK)")],
    label: Annotated[str, Opt(help="what changed")] = "",
) -> None:
    """Store a new responsibility list as a draft and show what it changes."""
    from gridsvc.services.responsibility import read_list_csv

    draft = _lists().add_draft(read_list_csv(file.read_bytes()), label or file.name)
    out.print(
        f"draft {draft['id']}: {draft['matters']} matters (published list: {draft['active']})"
    )
    out.print(
        f"  added {', '.join(draft['added']) or '-'}; removed {', '.join(draft['removed']) or '-'}"
    )
    for change in draft["changed"]:
        out.print(f"  changed {change['code']}: {', '.join(change['fields'])}")


@app.command("publish")
@friendly
def list_publish(
    draft: Annotated[int, typer.Argument(help="the draft's version id")],
    active: Annotated[int | None, Opt(help="the published version you compared against")] = None,
) -> None:
    """Publish a draft list (running services pick it up within GRIDSVC_VERSION_POLL_S)."""
    result = _lists().publish(draft, draft, active)
    out.print(f"published list version {result['published']} (retired {result['retired']})")
