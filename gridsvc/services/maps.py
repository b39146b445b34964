"""Leaders' and planners' maps from the database: coverage, hotspots, redraw impact.

The same use cases serve ``gridsvc map ...`` and ``GET /maps/...``; both get
a finished HTML page whose scripts and styles point at gridsvc's vendored
copies (``/static/`` when served, a copied ``static/`` folder for files).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import folium
import numpy as np
import pandas as pd
from sqlalchemy import Engine

from gridsvc.core.errors import InvalidInput, NotFound
from gridsvc.core.hotspots import CaseCounts, check_period
from gridsvc.core.layers import Layer, LayerKind
from gridsvc.core.locator import PolygonLocator
from gridsvc.core.messages import Msg
from gridsvc.core.routing import ResponsibilityList
from gridsvc.core.workflow import Status
from gridsvc.maps.assets import copy_static, use_vendored_assets
from gridsvc.maps.basemaps import TileOptions, parse_basemap
from gridsvc.maps.coverage import CoverageOptions, coverage_map
from gridsvc.maps.hotspots import GridPrep, HotspotOptions, hotspot_map, prepare_grids
from gridsvc.maps.impact import ImpactOptions, impact_map
from gridsvc.maps.labels import check_lang, text
from gridsvc.services.layers import StoredLayers
from gridsvc.services.planning import Planning
from gridsvc.store import case_counts, reference
from gridsvc.store import cases as case_store

_M_PER_DEG = 111_320.0
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
#: cases the heat layer is drawn from at most: above, a sample of them (the counts, classes
#: and Gi* always count every case); a million points bin to the same 20,000 heat points
HEAT_SAMPLE = 1_000_000
CELL_LOCATOR_M = 5.0  # lookup-raster cell for placing cases in cells (exact at edges anyway)


@dataclass(frozen=True)
class MapFilter:
    """Which cases a hotspot map shows; empty fields mean all."""

    category: str | None = None
    field: str | None = None
    status: str | None = None  # a status, or "open"
    town_code: str | None = None
    unit_code: str | None = None
    team: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None

    @classmethod
    def parse(
        cls,
        category: str | None = None,
        field: str | None = None,
        status: str | None = None,
        unit: str | None = None,
        team: str | None = None,
        first: str | None = None,
        last: str | None = None,
        names: tuple[str, str] = ("from", "to"),
        town: str | None = None,
    ) -> MapFilter:
        """The filter from what a user typed; ``last`` as a date includes that whole day."""
        statuses = {st.value for st in Status}
        if status and status != "open" and status not in statuses:
            allowed = ["open", *sorted(statuses)]
            raise InvalidInput(Msg("maps.status", status=status, allowed=allowed))
        return cls(
            category=category,
            field=field,
            status=status,
            town_code=town,
            unit_code=unit,
            team=team,
            created_from=parse_moment(first, names[0]),
            created_to=parse_moment(last, names[1], end=True),
        )

    def describe(self, lang: str) -> str:
        """The filters in words, for the map's subtitle."""
        parts = [
            f"{name}={value}"
            for name, value in (
                ("category", self.category),
                ("field", self.field),
                ("status", self.status),
                ("town", self.town_code),
                ("unit", self.unit_code),
                ("team", self.team),
            )
            if value
        ]
        if self.created_from or self.created_to:
            start = (
                self.created_from.astimezone(LOCAL_TZ).date().isoformat()
                if self.created_from
                else "…"
            )
            end = _last_day(self.created_to) if self.created_to else "…"
            parts.append(f"{start} – {end}")
        return ", ".join(parts) if parts else text("all", lang)


@dataclass(frozen=True)
class Look:
    """How a map is drawn: language, basemap and what this deployment allows."""

    lang: str = "zh"
    basemap: str = "none"
    tiles: TileOptions = TileOptions()
    period: str = "month"
    compact: bool = False


def parse_moment(value: str | None, name: str, end: bool = False) -> datetime | None:
    """A date means local midnight (China Standard Time); as an end, the midnight after it."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            start = datetime.combine(day, time(0), LOCAL_TZ)
            return start + timedelta(days=1) if end else start
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(Msg("maps.not_a_time", name=name, value=value)) from None
    if parsed.tzinfo is None:
        raise InvalidInput(Msg("maps.no_zone", name=name, value=value))
    return parsed


def _last_day(end: datetime) -> str:
    """The last day a period covers: an end at local midnight is exclusive."""
    local = end.astimezone(LOCAL_TZ)
    if local.time() == time(0):
        local -= timedelta(days=1)
    return local.date().isoformat()


class MapService:
    """Builds maps from the published layers and the cases in the database."""

    def __init__(self, engine: Engine, matters: ResponsibilityList) -> None:
        self.engine = engine
        self.matters = matters
        self._stored_layers = StoredLayers()
        self._locators: dict[int, PolygonLocator] = {}
        self._grid_prep: tuple[int, GridPrep] | None = None  # of the published grid version

    # ---- the three maps ------------------------------------------------------------------

    def coverage(self, look: Look, town: str | None = None) -> folium.Map:
        """The coverage map; its open-case counts are ``town``'s cases only, given one."""
        lang = check_lang(look.lang)
        basemap = parse_basemap(look.basemap, look.tiles)
        with self.engine.connect() as conn:
            _, layers = self._layers(conn)
            teams = reference.read_table(conn, "teams")
            open_cases = case_store.open_counts_by_grid(conn, town)
        names = {
            t["code"]: (t["name_en"] or t["name"]) if lang == "en" else t["name"] for t in teams
        }
        options = CoverageOptions(lang, basemap, look.tiles, names, open_cases)
        return coverage_map(layers, options)

    def hotspots(self, wanted: MapFilter, look: Look) -> folium.Map:
        """The hotspot map of the cases ``wanted`` picks (a town's only, given its town).

        The database counts them per grid and period, per category and per
        heat bin (:mod:`gridsvc.store.case_counts`): 10 M cases send a few
        hundred thousand rows, not 10 M. Points are read only for a published
        cells layer, since cases do not store their cell.
        """
        lang = check_lang(look.lang)
        basemap = parse_basemap(look.basemap, look.tiles)
        check_period(look.period)
        with self.engine.connect() as conn:
            versions, layers = self._layers(conn)
            stored = self._stored(wanted)
            cells = layers.get(LayerKind.CELLS)
            bounds = layers[LayerKind.GRIDS].frame.total_bounds
            counts = stored_counts(conn, stored, look.period, bounds)
            if cells is not None:
                lon, lat = case_counts.case_lonlat(conn, stored)
        if cells is not None:
            vid = versions[LayerKind.CELLS]
            if vid not in self._locators:
                self._locators[vid] = cell_locator(cells)
            codes = _cell_codes(cells, self._locators[vid], np.asarray(lon), np.asarray(lat))
            named = pd.Series(codes, dtype=object).dropna().value_counts()
            counts = replace(counts, cells={str(k): int(v) for k, v in named.items()})
        options = HotspotOptions(
            lang=lang,
            basemap=basemap,
            tiles=look.tiles,
            period=look.period,
            subtitle=wanted.describe(lang),
            compact=look.compact,
            category_names=self._category_names(lang),
        )
        frame = layers[LayerKind.GRIDS].frame
        prepared = self._prepared(versions[LayerKind.GRIDS], frame)
        return hotspot_map(
            frame, counts, options, cells.frame if cells is not None else None, prepared
        )

    def impact(
        self,
        planning: Planning,
        kind: LayerKind,
        draft_id: int,
        look: Look,
        town: str | None = None,
    ) -> folium.Map:
        """The impact map of a draft (a town's planner sees its own town's drafts only)."""
        lang = check_lang(look.lang)
        basemap = parse_basemap(look.basemap, look.tiles)
        active, draft = planning.layers(kind, draft_id, town)
        moved = planning.impact(kind, draft_id, town)["moved_cases"]
        subtitle = f"{kind.value} · draft {draft_id}"
        return impact_map(
            active, draft, moved, ImpactOptions(lang, basemap, look.tiles, subtitle=subtitle)
        )

    # ---- helpers ---------------------------------------------------------------------------

    def _layers(self, conn: Any) -> tuple[dict[LayerKind, int], dict[LayerKind, Layer]]:
        """The published versions and their layers; refused before any grid is published."""
        versions, layers = self._stored_layers.active(conn)
        if LayerKind.GRIDS not in versions:
            raise NotFound(Msg("maps.no_grids"))
        return versions, layers

    def _prepared(self, version: int, grids: Any) -> GridPrep:
        """The grids' outlines, areas and contiguity, kept while ``version`` is published."""
        kept = self._grid_prep
        if kept is None or kept[0] != version:
            kept = (version, prepare_grids(grids))
            self._grid_prep = kept
        return kept[1]

    def _stored(self, wanted: MapFilter) -> dict[str, Any]:
        """The filter as store filters; a field becomes the list of its categories."""
        categories: list[str] = []
        if wanted.category:
            if wanted.category not in self.matters:
                self.matters.get(wanted.category)  # raises UnknownCategory naming the valid ones
            categories = [wanted.category]
        if wanted.field:
            in_field = [m.code for m in self.matters if wanted.field in (m.field, m.field_en)]
            if not in_field:
                fields = sorted({m.field for m in self.matters})
                raise InvalidInput(Msg("maps.field", field=wanted.field, fields=fields))
            categories = [c for c in in_field if not categories or c in categories] or ["-none-"]
        stored: dict[str, Any] = {
            "category": categories,
            "town_code": wanted.town_code,
            "unit_code": wanted.unit_code,
            "team": wanted.team,
            "created_from": wanted.created_from,
            "created_to": wanted.created_to,
        }
        if wanted.status == "open":
            stored["open_only"] = True
        elif wanted.status:
            stored["status"] = [wanted.status]
        return stored

    def _category_names(self, lang: str) -> dict[str, str]:
        return {m.code: (m.name_en if lang == "en" else m.name) for m in self.matters}


def render(m: folium.Map, static_url: str = "/static/") -> str:
    """The map as one HTML page whose assets come from gridsvc (served at ``static_url``)."""
    use_vendored_assets(m, static_url)
    return str(m.get_root().render())


def write(m: folium.Map, out: Path) -> Path:
    """Write the map to ``out`` with a ``static/`` folder beside it, so it opens offline from disk."""
    out.parent.mkdir(parents=True, exist_ok=True)
    copy_static(out)
    out.write_text(render(m, "static/"), encoding="utf-8")
    return out


def stored_counts(
    conn: Any, filters: dict[str, Any], period: str, bounds: np.ndarray
) -> CaseCounts:
    """The hotspot map's counts of the cases ``filters`` picks, grouped by the database.

    The same counts :meth:`CaseCounts.from_points` makes from the cases'
    rows (tested on both backends), without the rows; ``bounds`` (the grids'
    extent) sizes the heat bins. Above :data:`HEAT_SAMPLE` matching cases the
    heat is drawn from a sample of them (one full scan fewer at 10 M), and
    the map says so.
    """
    check_period(period)
    rows = case_counts.grid_period_counts(conn, filters, period)
    table = pd.DataFrame(rows, columns=["grid_code", "period", "n"])
    if period == "week" and len(table):  # one Monday, one ISO week: no regrouping
        table["period"] = table["period"].map(_iso_weeks(table["period"].unique()))
    grid = table["grid_code"].astype(object)
    table["grid_code"] = grid.where(grid.notna(), None)  # outside every grid: None, not NaN
    total = int(table["n"].sum())
    dx, dy = heat_lattice(bounds, HotspotOptions())
    share = min(1.0, HEAT_SAMPLE / total) if total else 1.0
    lon, lat, n = case_counts.point_bins(conn, filters, dx, dy, share)
    if share < 1.0 and sum(n) == 0:  # the sampled pages held none of them
        share = 1.0
        lon, lat, n = case_counts.point_bins(conn, filters, dx, dy)
    weight = np.asarray(n, np.float64)
    if share < 1.0:  # the sample's bins stand for every case: weights scaled to the total
        weight *= total / weight.sum()
    return CaseCounts(
        table,
        case_counts.category_counts(conn, filters),
        np.asarray(lon, np.float64),
        np.asarray(lat, np.float64),
        weight,
        heat_binned_m=dy * _M_PER_DEG,
        heat_share=share,
    )


def heat_lattice(bounds: np.ndarray, options: HotspotOptions) -> tuple[float, float]:
    """The database's heat bin in degrees (lon, lat): half the map's first bin.

    The map's first bin is what a full lattice of ``max_heat_points`` over
    the grids' extent needs (``heat_bin_m`` at least); half of it leaves the
    final binning to :func:`gridsvc.core.hotspots.heat_bins`, a few database
    bins to each, so the heat looks as it did from points.
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    cos_lat = float(np.cos(np.radians((miny + maxy) / 2)))
    width_m = (maxx - minx) * _M_PER_DEG * cos_lat
    height_m = (maxy - miny) * _M_PER_DEG
    size_m = max(options.heat_bin_m, float(np.sqrt(width_m * height_m / options.max_heat_points)))
    size_m /= 2
    return size_m / (_M_PER_DEG * cos_lat), size_m / _M_PER_DEG


def _iso_weeks(mondays: Any) -> dict[str, str]:
    """ISO week labels (``2026-W19``) of local Monday dates, as period_labels writes them."""
    stamps = pd.DatetimeIndex(pd.to_datetime(pd.Series(mondays, dtype=object)))
    iso = stamps.isocalendar()
    labels = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    return dict(zip(mondays, labels.tolist(), strict=True))


def cell_locator(cells: Layer) -> PolygonLocator:
    """A locator for the cells layer (cases store grid, unit and committee, not their cell)."""
    lat = float(cells.frame.total_bounds[[1, 3]].mean())
    dx = CELL_LOCATOR_M / (_M_PER_DEG * np.cos(np.radians(lat)))
    return PolygonLocator(cells.frame.geometry.to_numpy(), (dx, CELL_LOCATOR_M / _M_PER_DEG))


def _cell_codes(
    cells: Layer, locator: PolygonLocator, lon: np.ndarray, lat: np.ndarray
) -> np.ndarray:
    """The cell holding each case (None outside every cell)."""
    index = locator.locate(lon, lat)
    codes = cells.frame["code"].astype(str).to_numpy(dtype=object)
    out = np.full(len(index), None, dtype=object)
    out[index >= 0] = codes[index[index >= 0]]
    return out
