"""Offline map assets: every script and stylesheet comes from gridsvc's vendored copies."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import urlsplit

import folium
import pytest
from branca.element import Figure, JavascriptLink, MacroElement
from folium.elements import JSCSSMixin
from page_urls import EXTERNAL, css_urls, external_urls, referenced_urls

from gridsvc.maps.assets import (
    MANIFEST_PATH,
    STATIC_DIR,
    UnvendoredAsset,
    copy_static,
    use_vendored_assets,
)

VENDOR_DIR = STATIC_DIR / "vendor"
MANIFEST = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))


def _offline_html(m: folium.Map, base_url: str = "/static/") -> str:
    return use_vendored_assets(m, base_url).render()


def test_online_map_links_cdns(every_plugin_map: folium.Map) -> None:
    """The check below is not vacuous: folium on its own links a dozen CDNs."""
    assert len(external_urls(every_plugin_map.get_root().render())) > 20


def test_offline_map_has_no_external_url(every_plugin_map: folium.Map) -> None:
    assert external_urls(_offline_html(every_plugin_map)) == []


@pytest.mark.parametrize("base_url", ["/static/", "static/", "../static"])
def test_rewritten_links_exist_under_static(every_plugin_map: folium.Map, base_url: str) -> None:
    prefix = base_url.rstrip("/") + "/"
    urls = [u for u in referenced_urls(_offline_html(every_plugin_map, base_url)) if "vendor/" in u]
    assert len(urls) >= 20
    for url in urls:
        assert url.startswith(prefix), url
        assert (STATIC_DIR / url.removeprefix(prefix)).is_file(), url


def test_shared_asset_is_linked_once(every_plugin_map: folium.Map) -> None:
    """Map and TimestampedGeoJson link jQuery from two CDNs: one vendored copy, once."""
    urls = referenced_urls(_offline_html(every_plugin_map))
    assert sum("jquery.min.js" in url for url in urls) == 1


def test_dropped_asset_is_not_linked(every_plugin_map: folium.Map) -> None:
    assert not any("jquery-ui" in url for url in referenced_urls(_offline_html(every_plugin_map)))


def test_localising_twice_is_harmless(every_plugin_map: folium.Map) -> None:
    use_vendored_assets(every_plugin_map, "/static/")
    html = _offline_html(every_plugin_map)
    assert external_urls(html) == []
    assert sum("leaflet@1.9.3/dist/leaflet.js" in url for url in referenced_urls(html)) == 1


def test_other_maps_keep_their_cdn_links(every_plugin_map: folium.Map) -> None:
    """Only the given map changes: no folium class attribute is touched."""
    use_vendored_assets(every_plugin_map, "/static/")
    assert "cdn.jsdelivr.net/npm/leaflet@1.9.3" in folium.Map(tiles=None).get_root().render()


class _NewPlugin(JSCSSMixin):
    default_js = [("newplugin", "https://cdn.example.org/newplugin@1.0/newplugin.min.js")]


class _LinksWhileRendering(MacroElement):
    def render(self, **kwargs: object) -> None:
        link = JavascriptLink("https://cdn.example.org/late.js")
        self.get_root().header.add_child(link, name="late")
        super().render(**kwargs)


def test_plugin_without_vendored_copy_raises() -> None:
    m = folium.Map(tiles=None)
    _NewPlugin().add_to(m)
    with pytest.raises(UnvendoredAsset, match=r"_NewPlugin links https://cdn\.example\.org/newp"):
        use_vendored_assets(m, "/static/")


def test_link_added_while_rendering_without_vendored_copy_raises() -> None:
    m = folium.Map(tiles=None)
    _LinksWhileRendering().add_to(m)
    figure = use_vendored_assets(m, "/static/")
    with pytest.raises(UnvendoredAsset, match=r"'late' links https://cdn\.example\.org/late\.js"):
        figure.render()


def test_local_links_are_left_alone() -> None:
    figure = Figure()
    folium.Map(tiles=None).add_to(figure)
    figure.header.add_child(JavascriptLink("/static/dashboard.js"), name="dashboard")
    assert '<script src="/static/dashboard.js">' in use_vendored_assets(figure, "/static/").render()


def test_copy_static_puts_the_tree_beside_the_page(tmp_path: Path) -> None:
    target = copy_static(tmp_path / "coverage.html")
    assert target == tmp_path / "static"
    assert (target / "vendor" / "manifest.json").read_bytes() == MANIFEST_PATH.read_bytes()
    assert not (target / "vendor" / "redoc@2.5.2").exists()  # the API docs' assets stay behind
    assert (target / "vendor" / "leaflet@1.9.3").is_dir()


def _vendored_files() -> list[tuple[str, dict]]:
    return [(p["dir"], f) for p in MANIFEST["packages"] for f in p["files"]]


def test_vendored_files_match_the_manifest() -> None:
    listed = set()
    for directory, file in _vendored_files():
        path = VENDOR_DIR / directory / file["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == file["sha256"], path
        listed.add(path)
    on_disk = {p for p in VENDOR_DIR.rglob("*") if p.is_file()} - {MANIFEST_PATH}
    assert on_disk == listed


def test_vendored_tree_is_small() -> None:
    docs = {p["dir"] for p in MANIFEST["packages"] if p.get("serves") == "docs"}
    assert sum(f["bytes"] for d, f in _vendored_files() if d not in docs) < 2_500_000


@pytest.mark.parametrize(
    "css",
    sorted(VENDOR_DIR.rglob("*.css")),
    ids=lambda p: str(p.relative_to(VENDOR_DIR)),
)
def test_vendored_css_loads_only_vendored_files(css: Path) -> None:
    """Fonts and images a stylesheet names are vendored beside it, or knowingly omitted.

    Omitted are legacy font formats listed after a WOFF2/WOFF one, which no
    current browser fetches.
    """
    omitted = {VENDOR_DIR / p["dir"] / o for p in MANIFEST["packages"] for o in p["omitted"]}
    for url in css_urls(css.read_text(encoding="utf-8")):
        if url.startswith(("data:", "#")):  # inline, or an IE behaviour fragment
            continue
        assert not EXTERNAL.match(url), f"{css} loads {url}"
        target = (css.parent / urlsplit(url).path).resolve()
        assert target.is_file() or target in omitted, f"{css} names missing {url}"
