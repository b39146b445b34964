"""``gridsvc map``: the folium maps written as HTML files (folium is loaded only here)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gridsvc.cli.context import DraftArg, KindArg, Opt, console, friendly, out, settings
from gridsvc.cli.layers import planning
from gridsvc.cli.texts import current_lang, set_lang, t

if TYPE_CHECKING:
    from gridsvc.config import Settings
    from gridsvc.services.maps import Look, MapService

app = typer.Typer(help=t("map_help"), no_args_is_help=True)

LangOpt = Annotated[str | None, Opt("--lang", help=t("map_lang"))]
BasemapOpt = Annotated[str, Opt(help=t("map_basemap"))]
MapOutOpt = Annotated[Path, Opt("--out", "-o", help=t("map_out"))]


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

    if lang:  # the map's language is the messages' too, and the other way round
        set_lang(lang)
    tiles = TileOptions(
        config.tianditu_key, config.tile_url, config.tile_attribution, config.maps_offline
    )
    return Look(current_lang(), basemap, tiles, period)


def _written(path: Path, config: Settings, url_path: str, who: str) -> None:
    """Where the file is, and where the service shows the same map to whom (after sign-in)."""
    url = f"http://{config.host}:{config.port}{url_path}"
    out.print(t("map_written", path=path, url=url, who=who), soft_wrap=True)


@app.command("coverage", help=t("coverage_help"))
@friendly
def map_coverage(
    out_path: MapOutOpt = Path("maps/coverage.html"),
    lang: LangOpt = None,
    basemap: BasemapOpt = "none",
) -> None:
    """Grids by responsible team, units, committees and streets, with Chinese labels."""
    from gridsvc.services.maps import write

    config = settings()
    look = _look(config, lang, basemap)
    service = _map_service(config)
    with console.status(t("coverage_status")):
        written = write(service.coverage(look), out_path)
    _written(written, config, "/maps/coverage", t("map_viewers"))


@app.command("hotspots", help=t("hotspots_help"))
@friendly
def map_hotspots(
    out_path: MapOutOpt = Path("maps/hotspots.html"),
    lang: LangOpt = None,
    basemap: BasemapOpt = "none",
    category: Annotated[str | None, Opt(help=t("hot_category"))] = None,
    field: Annotated[str | None, Opt(help=t("hot_field"))] = None,
    status: Annotated[str | None, Opt(help=t("hot_status"))] = None,
    unit: Annotated[str | None, Opt(help=t("hot_unit"))] = None,
    team: Annotated[str | None, Opt(help=t("hot_team"))] = None,
    date_from: Annotated[str | None, Opt("--from", help=t("hot_from"))] = None,
    date_to: Annotated[str | None, Opt("--to", help=t("hot_to"))] = None,
    period: Annotated[str, Opt(help=t("hot_period"))] = "month",
) -> None:
    """Case counts, rate per km², Gi* hot and cold spots, heat and the time view."""
    from gridsvc.services.maps import MapFilter, write

    config = settings()
    look = _look(config, lang, basemap, period)
    service = _map_service(config)
    wanted = MapFilter.parse(
        category, field, status, unit, team, date_from, date_to, names=("--from", "--to")
    )
    with console.status(t("hotspots_status")):
        written = write(service.hotspots(wanted, look), out_path)
    _written(written, config, "/maps/hotspots", t("map_viewers"))


@app.command("impact", help=t("map_impact_help"))
@friendly
def map_impact(
    kind: KindArg,
    draft: DraftArg,
    out_path: MapOutOpt = Path("maps/impact.html"),
    lang: LangOpt = None,
    basemap: BasemapOpt = "none",
) -> None:
    """Current against redrawn boundaries, with the cases the draft would move."""
    from gridsvc.services.maps import write

    config = settings()
    look = _look(config, lang, basemap)
    service = _map_service(config)
    with console.status(t("impact_status")):
        page = service.impact(planning(config), kind, draft, look)
        written = write(page, out_path)
    _written(written, config, f"/maps/impact/{kind.value}/{draft}", t("map_planners"))
