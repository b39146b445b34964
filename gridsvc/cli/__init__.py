"""The ``gridsvc`` command line: validate layers, match points, run the service.

Errors a user can cause end in one line on stderr and exit code 2, never a
traceback; a layer with blocking problems ends in exit code 1 after listing
them all. Each command lives in its own module and imports the heavy parts
(geopandas, the services, the web app) inside its body, so ``--help`` is instant.
Messages are Chinese unless ``--lang en`` or ``GRIDSVC_LANG=en`` (cli/texts.py).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from gridsvc.cli import demo, keys, layers, lists, maps, match, report, serve
from gridsvc.cli.context import friendly
from gridsvc.cli.root import RootGroup
from gridsvc.cli.texts import set_lang, t

app = typer.Typer(cls=RootGroup, help=t("app_help"), no_args_is_help=True)


@app.callback()
@friendly
def main(
    lang: Annotated[str | None, typer.Option("--lang", help=t("lang_help"))] = None,
) -> None:
    """The language of every message: ``--lang``, else ``GRIDSVC_LANG``, else Chinese."""
    set_lang(lang or os.environ.get("GRIDSVC_LANG") or "zh")


app.command(help=t("validate_help"))(layers.validate)
app.command(help=t("match_help"))(match.match)
app.command(help=t("serve_help"))(serve.serve)
app.add_typer(serve.db_app, name="db")
app.add_typer(demo.app, name="demo")
app.add_typer(keys.app, name="keys")
app.add_typer(layers.app, name="layers")
app.add_typer(report.app, name="report")
app.add_typer(lists.app, name="list")
app.add_typer(maps.app, name="map")

__all__ = ["app"]
