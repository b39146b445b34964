"""``gridsvc map``: the folium maps written as HTML files (folium is loaded only here)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gridsvc.cli.context import Opt, console, friendly, out, settings
from gridsvc.cli.layers import planning
from gridsvc.core.kinds import LayerKind

if TYPE_CHECKING:
    from gridsvc.config import Settings
    from gridsvc.services.maps import Look, MapService

app = typer.Typer(help="maps (folium): coverage, hotspots, redraw impact", no_args_is_help=True)

LangOpt = Annotated[str | None, Opt("--lang", help="zh (default) or en")]
BasemapOpt = Annotated[str, Opt(help="none, osm, tianditu, amap (GCJ-02) or intranet")]
MapOutOpt = Annotated[
    Path, Opt("--out", "-o", help="the HTML file to write (static/ goes beside it)")
]


def _map_service(config: Settings) -> MapService:
    from gridsvc.services.maps import MapService
    from gridsvc.services.setup import read_matters
    from gridsvc.store.engine import make_engine

    engine = make_engine(config.database_url)
    with engine.connect() as conn:  # the list only: the service reads the layers it draws
        return MapService(engine, read_matters(conn))


def _look(config: Settings, lang: str | None, basemap: str, period: str = "month") -> Look:
    from gridsvc.maps.basemaps import TileOptions
    from gridsvc.services.maps import Look

    tiles = TileOptions(
        config.tianditu_key, config.tile_url, config.tile_attribution, config.maps_offline
    )
    return Look(lang or config.lang, basemap, tiles, period)


def _written(path: Path, config: Settings, url_path: str, who: str) -> None:
    """Where the file is, and where the service shows the same map to whom (after sign-in)."""
    url = f"http://{config.host}:{config.port}{url_path}"
    out.print(f"wrote {path}  (served at {url} to {who}, after signing in)", soft_wrap=True)


#: who may open the maps the service serves (the routes' roles)
MAP_VIEWERS = "leaders, dispatchers, planners and handlers"
PLANNERS = "planners and admins"


@app.command("coverage")
@friendly
def map_coverage(
    out_path: MapOutOpt = Path("maps/coverage.html"),
    lang: LangOpt = None,
    basemap: BasemapOpt = "none",
) -> None:
    """Grids by responsible team, units, committees and streets, with Chinese labels."""
    from gridsvc.services.maps import write

    config = settings()
    service = _map_service(config)
    with console.status("building the coverage map…"):
        written = write(service.coverage(_look(config, lang, basemap)), out_path)
    _written(written, config, "/maps/coverage", MAP_VIEWERS)


@app.command("hotspots")
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
    from gridsvc.services.maps import MapFilter, write

    config = settings()
    service = _map_service(config)
    wanted = MapFilter.parse(
        category, field, status, unit, team, date_from, date_to, names=("--from", "--to")
    )
    with console.status("reading the cases and building the hotspot map (Gi*, heat, periods)…"):
        written = write(service.hotspots(wanted, _look(config, lang, basemap, period)), out_path)
    _written(written, config, "/maps/hotspots", MAP_VIEWERS)


@app.command("impact")
@friendly
def map_impact(
    kind: Annotated[LayerKind, typer.Argument(help="which layer")],
    draft: Annotated[int, typer.Argument(help="the draft's version id")],
    out_path: MapOutOpt = Path("maps/impact.html"),
    lang: LangOpt = None,
    basemap: BasemapOpt = "none",
) -> None:
    """Current against redrawn boundaries, with the cases the draft would move."""
    from gridsvc.services.maps import write

    config = settings()
    service = _map_service(config)
    with console.status("re-matching the cases under the draft and building the map…"):
        page = service.impact(planning(config), kind, draft, _look(config, lang, basemap))
        written = write(page, out_path)
    _written(written, config, f"/maps/impact/{kind.value}/{draft}", PLANNERS)
