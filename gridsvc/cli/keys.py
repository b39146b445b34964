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
) -> None:
    """Create an API key; it is printed once and only its hash is stored."""
    from gridsvc.services.keys import create_key
    from gridsvc.store.engine import make_engine, upgrade

    config = settings()
    upgrade(config.database_url)
    key = create_key(make_engine(config.database_url), role, name, department)
    out.print(key)
