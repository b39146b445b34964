"""The role pages' shells: HTML, the patrol app's manifest and service worker.

The shells are public and hold nothing private: each page asks for a key,
keeps it in the browser and reads everything else from the JSON API, which
checks the key on every call. So a shell can be cached on a phone and opened
offline, and a leaked shell leaks nothing. Chinese by default, ``?lang=en``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from gridsvc.core.layers import LayerKind
from gridsvc.pages.texts import page_texts

router = APIRouter(tags=["pages"], include_in_schema=False)
STATIC_DIR = Path(__file__).resolve().parents[2] / "pages" / "static"
_TEMPLATES = Environment(
    loader=PackageLoader("gridsvc.pages", "templates"), autoescape=select_autoescape(["html"])
)
#: the vendored Leaflet the folium maps use too (gridsvc/maps/vendor.py); the worker caches it
LEAFLET_URL = "/static/vendor/leaflet@1.9.3/dist"
Lang = Annotated[str, Query(pattern="^(zh|en)$")]


def _json_for_script(value: Any) -> str:
    """JSON safe inside a <script type="application/json"> block (no closing tag)."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


def _centre(request: Request) -> list[float]:
    """The middle of the town's grids as [lat, lon], where the map opens before a GPS fix."""
    minx, miny, maxx, maxy = request.app.state.town.layers[LayerKind.GRIDS].frame.total_bounds
    return [round((miny + maxy) / 2, 6), round((minx + maxx) / 2, 6)]


def render_page(request: Request, page: str, lang: str, **config: Any) -> HTMLResponse:
    """A role page's shell: its template, its words and its settings as JSON for its script."""
    texts = page_texts(page, lang)
    tiles = request.app.state.tiles
    settings = {"lang": lang, "center": _centre(request), "tile_url": tiles.intranet_url or None}
    html = _TEMPLATES.get_template(f"{page}.html").render(
        page=page,
        lang=lang,
        t=texts,
        leaflet=LEAFLET_URL,
        texts_json=_json_for_script(texts),
        config_json=_json_for_script({**settings, **config}),
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


@router.get("/patrol", response_class=HTMLResponse)
def patrol(request: Request, lang: Lang = "zh") -> HTMLResponse:
    """The patrol's phone app (网格员上报)."""
    return render_page(request, "patrol", lang)


@router.get("/dispatch", response_class=HTMLResponse)
def dispatch(request: Request, lang: Lang = "zh") -> HTMLResponse:
    """The dispatcher's workbench (指挥中心调度台)."""
    return render_page(request, "dispatch", lang)


@router.get("/handle", response_class=HTMLResponse)
def handle(request: Request, lang: Lang = "zh") -> HTMLResponse:
    """A department handler's page (部门处置)."""
    return render_page(request, "handle", lang)


@router.get("/plan", response_class=HTMLResponse)
def plan(request: Request, lang: Lang = "zh") -> HTMLResponse:
    """A planner's page (网格规划): drafts, their problems and impact, publish, roll back."""
    return render_page(request, "plan", lang)


@router.get("/patrol/manifest.webmanifest")
def patrol_manifest(lang: Lang = "zh") -> JSONResponse:
    """What a phone needs to install the patrol app on its home screen."""
    texts = page_texts("patrol", lang)
    manifest = {
        "name": texts["app_name"],
        "short_name": texts["app_name"],
        "lang": "zh-CN" if lang == "zh" else "en",
        "start_url": "/patrol",
        "scope": "/patrol",
        "display": "standalone",
        "background_color": "#f4f6f8",
        "theme_color": "#1f5fa8",
        "icons": [{"src": "/pages/static/icon.svg", "sizes": "any", "type": "image/svg+xml"}],
    }
    return JSONResponse(manifest, media_type="application/manifest+json")


@router.get("/patrol/sw.js")
def patrol_worker() -> FileResponse:
    """The service worker, served under /patrol so it may control the app's pages."""
    return FileResponse(
        STATIC_DIR / "sw.js",
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/patrol", "Cache-Control": "no-cache"},
    )
