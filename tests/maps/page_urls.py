"""Every URL an HTML page references, for the offline checks.

Parsed with the standard library's HTMLParser: attributes (src, href, any
attribute whose value is a URL with a host), `url(...)` and `@import` in
style attributes and inline <style>, and quoted URL literals inside inline
<script>, where folium writes its tile URLs and options.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# A scheme with an authority ("https://", "file://") or scheme-relative ("//host").
EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)|@import\s+(['"])(.*?)\3""", re.IGNORECASE)
_JS_URL = re.compile(r"""(['"`])((?:[a-z][a-z0-9+.-]*:)?//[^'"`\s]*)\1""", re.IGNORECASE)
_URL_ATTRIBUTES = {"src", "href", "poster", "data", "action", "formaction", "background"}


def css_urls(css: str) -> list[str]:
    """The targets of `url(...)` and `@import "..."` in a stylesheet."""
    return [m.group(2) or m.group(4) for m in _CSS_URL.finditer(css) if m.group(2) or m.group(4)]


def referenced_urls(html: str) -> list[str]:
    """Every URL the page refers to, in document order."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.urls


def external_urls(html: str) -> list[str]:
    """The URLs with a host: each one is a request that leaves the machine."""
    return [url for url in referenced_urls(html) if EXTERNAL.match(url)]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._inside: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in _URL_ATTRIBUTES or EXTERNAL.match(value):
                self.urls.append(value.strip())
            elif name == "srcset":
                self.urls.extend(part.split()[0] for part in value.split(",") if part.strip())
            elif name == "style":
                self.urls.extend(css_urls(value))
        self._inside = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._inside = None

    def handle_data(self, data: str) -> None:
        if self._inside == "style":
            self.urls.extend(css_urls(data))
        elif self._inside == "script":
            self.urls.extend(m.group(2) for m in _JS_URL.finditer(data))
            self.urls.extend(url for url in css_urls(data) if EXTERNAL.match(url))
