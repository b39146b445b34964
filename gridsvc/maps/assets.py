"""Serve the maps' JavaScript and CSS from gridsvc itself, never from a CDN.

folium elements name their scripts and stylesheets as CDN URLs in
`default_js` / `default_css`, and branca's colormaps add d3 to the page header
while they render. A grid centre's intranet reaches no CDN, so
`use_vendored_assets` points every such link at the pinned copies under
`STATIC_DIR/vendor` (fetched from the registries by `python -m
gridsvc.maps.vendor`, listed in its `manifest.json`). A link with no vendored
copy raises `UnvendoredAsset`: a new plugin fails loudly instead of quietly
loading from the internet. Basemap tiles are not assets and are left alone.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, Final

from branca.element import Element, Figure, Link

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
MANIFEST_PATH: Final = STATIC_DIR / "vendor" / "manifest.json"

_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)


class UnvendoredAsset(LookupError):
    """A map element links a CDN script or stylesheet that gridsvc has no copy of."""

    def __init__(self, url: str, owner: str) -> None:
        super().__init__(
            f"{owner} links {url}, which has no vendored copy; add its package to PACKAGES "
            "in gridsvc/maps/vendor.py and run `python -m gridsvc.maps.vendor`"
        )
        self.url = url


def use_vendored_assets(root: Element, base_url: str) -> Figure:
    """Point every script and stylesheet link of a map at gridsvc's vendored copies.

    `root` is a folium Map or its Figure; `base_url` is where `STATIC_DIR` is
    reachable from the page: "/static/" when the app serves it, "static/" for
    an HTML file written next to a `copy_static` tree. Links set in any
    element's `default_js` / `default_css` are rewritten now (so an unknown
    one raises here), and the figure's header rewrites the links elements add
    while rendering. Call it once the map is assembled; returns the Figure.
    """
    figure = root.get_root()
    if not isinstance(figure, Figure):
        raise TypeError(f"{type(root).__name__} is not part of a branca Figure")
    prefix = base_url if base_url.endswith("/") else base_url + "/"
    for element in _elements(figure):
        for attr in ("default_js", "default_css"):
            links = getattr(element, attr, None)
            if links:
                setattr(element, attr, _localised(links, prefix, type(element).__name__))
    _install_header(figure, prefix)
    return figure


def copy_static(html_path: Path) -> Path:
    """Copy `STATIC_DIR` to a `static/` folder beside `html_path`; returns that folder.

    A map written with base URL "static/" then opens from disk with no server. The API
    docs' assets (Swagger UI, ReDoc: some 2.5 MB) stay behind: no map loads them.
    """
    target = html_path.parent / "static"
    docs_only = set(docs_dirs())
    shutil.copytree(
        STATIC_DIR,
        target,
        dirs_exist_ok=True,
        ignore=lambda _, names: [n for n in names if n in docs_only],
    )
    return target


@cache
def docs_dirs() -> tuple[str, ...]:
    """The vendor folders that only the API docs load (see ``serves`` in the manifest)."""
    manifest = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    return tuple(p["dir"] for p in manifest["packages"] if p.get("serves") == "docs")


@cache
def vendored_paths() -> dict[str, str | None]:
    """CDN URL → path of its copy under `STATIC_DIR`; None for a link deliberately dropped."""
    manifest = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    paths: dict[str, str | None] = dict.fromkeys(manifest["dropped"])
    for package in manifest["packages"]:
        for file in package["files"]:
            for url in file["replaces"]:
                paths[url] = f"vendor/{package['dir']}/{file['path']}"
    return paths


def _local_url(url: str, prefix: str, owner: str) -> str | None:
    """The vendored URL standing in for `url`; a local URL is returned as it is."""
    if not _EXTERNAL.match(url):
        return url
    try:
        path = vendored_paths()[url]
    except KeyError:
        raise UnvendoredAsset(url, owner) from None
    return None if path is None else prefix + path


def _localised(links: list[tuple[str, str]], prefix: str, owner: str) -> list[tuple[str, str]]:
    localised = ((name, _local_url(url, prefix, owner)) for name, url in links)
    return [(name, url) for name, url in localised if url is not None]


def _elements(element: Element) -> Iterator[Element]:
    yield element
    for child in element._children.values():
        yield from _elements(child)


class _VendoredHeader(Element):
    """A figure header that localises its script and stylesheet links as it renders.

    Some elements add links only while rendering (branca's colormap adds d3),
    after `use_vendored_assets` ran. A link two elements share under
    different CDN URLs (jQuery) is kept once.
    """

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def render(self, **kwargs: Any) -> str:
        seen: set[str] = set()
        for name, child in list(self._children.items()):
            if not isinstance(child, Link):
                continue
            url = _local_url(child.url, self.prefix, f"the header link {name!r}")
            if url is None or url in seen:
                del self._children[name]
                continue
            child.url = url
            seen.add(url)
        return super().render(**kwargs)


def _install_header(figure: Figure, prefix: str) -> None:
    if isinstance(figure.header, _VendoredHeader):
        figure.header.prefix = prefix
        return
    header = _VendoredHeader(prefix)
    for name, child in figure.header._children.items():
        header.add_child(child, name=name)
    header._parent = figure
    figure.header = header
