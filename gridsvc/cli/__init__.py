"""The ``gridsvc`` command line: validate layers, match points, run the service.

Errors a user can cause end in one line on stderr and exit code 2, never a
traceback; a layer with blocking problems ends in exit code 1 after listing
them all. Each command lives in its own module and imports the heavy parts
(geopandas, the services, the web app) inside its body, so ``--help`` is instant.
"""

from __future__ import annotations

import typer

from gridsvc.cli import demo, keys, layers, lists, maps, match, report, serve

app = typer.Typer(help="gridsvc: 网格化管理 grid-management service.", no_args_is_help=True)
app.command()(layers.validate)
app.command()(match.match)
app.command()(serve.serve)
app.add_typer(serve.db_app, name="db")
app.add_typer(demo.app, name="demo")
app.add_typer(keys.app, name="keys")
app.add_typer(layers.app, name="layers")
app.add_typer(report.app, name="report")
app.add_typer(lists.app, name="list")
app.add_typer(maps.app, name="map")

__all__ = ["app"]
