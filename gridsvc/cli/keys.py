"""``gridsvc keys``: API keys per role."""

from __future__ import annotations

from typing import Annotated

import typer

from gridsvc.cli.context import Opt, friendly, out, settings
from gridsvc.core.workflow import Role

app = typer.Typer(help="API keys per role", no_args_is_help=True)


@app.command("create")
@friendly
def keys_create(
    role: Annotated[Role, Opt(help="patrol, dispatcher, handler, planner, leader or admin")],
    name: Annotated[str, Opt(help="who holds the key, e.g. a patrol's id")],
    department: Annotated[str | None, Opt(help="handler keys: the department code")] = None,
    grid: Annotated[
        str | None, Opt(help="patrol keys: the grid code the patrol walks (my grid in the app)")
    ] = None,
) -> None:
    """Create an API key; it is printed once and only its hash is stored."""
    from gridsvc.services.keys import create_key
    from gridsvc.store.engine import make_engine, upgrade

    config = settings()
    upgrade(config.database_url)
    key = create_key(make_engine(config.database_url), role, name, department, grid)
    out.print(key)


@app.command("list")
@friendly
def keys_list(
    revoked: Annotated[bool, Opt("--revoked", help="also list revoked keys")] = False,
) -> None:
    """Who holds a key: id, role, department, created and revoked (never the key itself)."""
    from rich.table import Table

    from gridsvc.services.keys import list_keys
    from gridsvc.store.engine import make_engine, upgrade

    config = settings()
    upgrade(config.database_url)
    table = Table("id", "name", "role", "department", "created", "revoked")
    for k in list_keys(make_engine(config.database_url), revoked):
        table.add_row(
            str(k["id"]),
            str(k["name"]),
            str(k["role"]),
            str(k["department"] or ""),
            _minute(k["created_at"]),
            _minute(k["revoked_at"]),
        )
    out.print(table)


@app.command("revoke")
@friendly
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help="the key's id (gridsvc keys list)")],
) -> None:
    """Revoke a key: it stops working within 30 s on every server."""
    from gridsvc.services.keys import revoke_key
    from gridsvc.store.engine import make_engine, upgrade

    config = settings()
    upgrade(config.database_url)
    revoke_key(make_engine(config.database_url), key_id)
    out.print(f"revoked key {key_id}")


def _minute(value: object) -> str:
    """A stored time to the minute, on the town's clock."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if not isinstance(value, datetime):
        return ""
    return value.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
