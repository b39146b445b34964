"""``gridsvc keys``: API keys per role."""

from __future__ import annotations

from typing import Annotated

import typer

from gridsvc.cli.context import Opt, friendly, out, settings
from gridsvc.cli.texts import t
from gridsvc.core.workflow import Role

app = typer.Typer(help=t("keys_help"), no_args_is_help=True)


@app.command("create", help=t("keys_create_help"))
@friendly
def keys_create(
    role: Annotated[Role, Opt(help=t("keys_role"))],
    name: Annotated[str, Opt(help=t("keys_name"))],
    department: Annotated[str | None, Opt(help=t("keys_department"))] = None,
    grid: Annotated[str | None, Opt(help=t("keys_grid"))] = None,
    town: Annotated[str | None, Opt(help=t("keys_town"))] = None,
) -> None:
    """Create an API key; it is printed once and only its hash is stored."""
    from gridsvc.services.keys import create_key
    from gridsvc.store.engine import make_engine, upgrade

    config = settings()
    upgrade(config.database_url)
    key = create_key(make_engine(config.database_url), role, name, department, grid, town)
    out.print(key)


@app.command("list", help=t("keys_list_help"))
@friendly
def keys_list(
    revoked: Annotated[bool, Opt("--revoked", help=t("keys_revoked"))] = False,
) -> None:
    """Who holds a key: id, role, department, created and revoked (never the key itself)."""
    from rich.table import Table

    from gridsvc.services.keys import list_keys
    from gridsvc.store.engine import make_engine, upgrade

    config = settings()
    upgrade(config.database_url)
    table = Table(
        t("col_id"), t("col_name"), t("col_role"), t("col_department"), t("col_town"), t("col_created"),
        t("col_revoked"),
    )  # fmt: skip
    for k in list_keys(make_engine(config.database_url), revoked):
        table.add_row(
            str(k["id"]),
            str(k["name"]),
            str(k["role"]),
            str(k["department"] or ""),
            str(k.get("town_code") or ""),
            _minute(k["created_at"]),
            _minute(k["revoked_at"]),
        )
    out.print(table)


@app.command("revoke", help=t("keys_revoke_help"))
@friendly
def keys_revoke(
    key_id: Annotated[int, typer.Argument(help=t("keys_id"))],
) -> None:
    """Revoke a key: it stops working within 30 s on every server."""
    from gridsvc.services.keys import revoke_key
    from gridsvc.store.engine import make_engine, upgrade

    config = settings()
    upgrade(config.database_url)
    revoke_key(make_engine(config.database_url), key_id)
    out.print(t("key_revoked", key_id=key_id))


def _minute(value: object) -> str:
    """A stored time to the minute, on the town's clock."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if not isinstance(value, datetime):
        return ""
    return value.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
