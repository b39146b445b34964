"""Security headers on every response: nosniff, a strict Content-Security-Policy, Referrer-Policy.

The default policy lets a page load only what gridsvc itself serves, runs no
inline script or style and may not be framed. Two kinds of page need more,
and get exactly that:

* the folium maps (``/maps/*``) are one HTML file of inline scripts and styles
  (folium writes them so), show basemap tiles from the configured tile hosts
  and are framed by the dashboard, so ``frame-ancestors 'self'``;
* ``/docs`` and ``/redoc`` (FastAPI's Swagger UI and ReDoc pages, from the
  vendored copies) style their widgets inline; Swagger UI's one inline start-up
  script is admitted by its hash, ReDoc runs its search in a ``blob:`` worker.

A response that already carries a Content-Security-Policy keeps it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridsvc.maps.basemaps import TileOptions

STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
MAP_PAGES = re.compile(r"^/maps/")
DOC_PAGES = re.compile(r"^/(docs|redoc)(/.*)?$")
# basemaps a map may show when the deployment is not offline (see maps/basemaps.py)
PUBLIC_TILES = (
    "https://tile.openstreetmap.org",
    "https://*.tianditu.gov.cn",
    "https://*.is.autonavi.com",
)


def map_policy(tile_origins: Iterable[str]) -> str:
    """The folium pages': inline script and style, tiles from ``tile_origins``, framed by us."""
    tiles = " ".join(tile_origins)
    return (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob: {tiles}".rstrip()
        + "; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'self'"
    )


def docs_policy(inline_scripts: Sequence[str]) -> str:
    """Swagger UI's and ReDoc's: inline styles, the given inline scripts by hash, workers."""
    hashes = " ".join(f"'{script_hash(s)}'" for s in inline_scripts)
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
        "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


def script_hash(script: str) -> str:
    """The CSP source for one inline script: ``sha256-<base64>`` of its exact text."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def inline_scripts(html: str) -> list[str]:
    """The bodies of the inline ``<script>`` elements of a page (those without ``src``)."""
    return re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.S)


def tile_origins(options: TileOptions) -> list[str]:
    """Where a map's basemap tiles may come from: the intranet tile server, and the public
    basemaps unless the deployment is offline."""
    origins = [] if options.offline else list(PUBLIC_TILES)
    if options.intranet_url:
        parts = urlsplit(options.intranet_url.replace("{s}", "x"))
        host = (
            parts.netloc.replace("x.", "*.", 1) if "{s}." in options.intranet_url else parts.netloc
        )
        origins.append(f"{parts.scheme}://{host}")
    return origins


class SecurityHeaders:
    """ASGI middleware adding the headers to every HTTP response, by page type."""

    def __init__(self, app: ASGIApp, map_csp: str, docs_csp: str) -> None:
        self.app = app
        self.map_csp = map_csp
        self.docs_csp = docs_csp

    def policy_for(self, path: str) -> str:
        """The Content-Security-Policy a path is answered with."""
        if MAP_PAGES.match(path):
            return self.map_csp
        if DOC_PAGES.match(path):
            return self.docs_csp
        return STRICT

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.policy_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "same-origin"
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = policy
            await send(message)

        await self.app(scope, receive, send_with_headers)
