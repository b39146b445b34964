"""/docs (Swagger UI) and /redoc (ReDoc) from gridsvc's own vendored copies.

FastAPI's pages load both from a CDN, so on a grid centre's intranet, the
normal case, they were blank. These are FastAPI's same pages with every
asset URL pointed at ``/static/vendor`` (fetched by ``python -m
gridsvc.maps.vendor``, listed in its manifest).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse

from gridsvc.api.security import docs_policy, inline_scripts
from gridsvc.maps.assets import vendored_paths

SWAGGER_JS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
SWAGGER_CSS = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"
FAVICON = "https://fastapi.tiangolo.com/img/favicon.png"
REDOC_JS = "https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def local(cdn_url: str) -> str:
    """The URL gridsvc serves its copy of ``cdn_url`` at."""
    return f"/static/{vendored_paths()[cdn_url]}"


def pages(app: FastAPI) -> tuple[APIRouter, str]:
    """The three documentation routes of ``app``, and the CSP their inline scripts need
    (built once: the pages do not change while the app runs)."""
    title = f"{app.title} API"
    swagger = get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=title,
        swagger_js_url=local(SWAGGER_JS),
        swagger_css_url=local(SWAGGER_CSS),
        swagger_favicon_url=local(FAVICON),
        oauth2_redirect_url=OAUTH2_REDIRECT,
    )
    redoc = get_redoc_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=title,
        redoc_js_url=local(REDOC_JS),
        redoc_favicon_url=local(FAVICON),
        with_google_fonts=False,
    )
    redirect = get_swagger_ui_oauth2_redirect_html()
    scripts = [s for page in (swagger, redoc, redirect) for s in inline_scripts(page.body.decode())]
    router = APIRouter(include_in_schema=False)
    router.add_api_route("/docs", _static(swagger), methods=["GET"])
    router.add_api_route("/redoc", _static(redoc), methods=["GET"])
    router.add_api_route(OAUTH2_REDIRECT, _static(redirect), methods=["GET"])
    return router, docs_policy(scripts)


def _static(page: HTMLResponse) -> object:
    body = page.body

    async def serve() -> HTMLResponse:
        return HTMLResponse(body)

    return serve
