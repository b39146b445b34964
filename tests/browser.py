"""Headless Chromium for the map tests: open a page, screenshot it, report what went wrong.

Playwright's Python package drives Debian's own chromium (`/usr/bin/chromium`,
installed by `scripts/ensure-browser.sh`), so no browser is downloaded.
Offline, every request to a host other than this machine is aborted and
reported, so a page that would need the internet (a CDN script, an online
tile) fails its test instead of quietly loading.
"""

from __future__ import annotations

import io
import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, Route
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

CHROMIUM = Path("/usr/bin/chromium")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
LOCAL_SCHEMES = {"file", "data", "blob", "about"}

# Leaflet is loaded, a map container exists and every tile image has finished,
# loaded or failed (a failed tile never gets Leaflet's `leaflet-tile-loaded`).
MAP_READY_JS = """() => window.L !== undefined
    && document.querySelector('.leaflet-container') !== null
    && [...document.querySelectorAll('img.leaflet-tile')].every(img => img.complete)"""
MISSING_TILES_JS = """() => [...document.querySelectorAll('img.leaflet-tile')]
    .filter(img => img.naturalWidth === 0).map(img => img.src)"""


@dataclass
class PageReport:
    """What happened while a page loaded, and where its screenshot is."""

    url: str
    screenshot: Path
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    missing_tiles: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """Everything that should fail a test, one line each."""
        return [
            *(f"console error: {m}" for m in self.console_errors),
            *(f"page error: {m}" for m in self.page_errors),
            *(f"failed request: {m}" for m in self.failed_requests),
            *(f"external request (blocked): {m}" for m in self.external_requests),
            *(f"missing tile: {m}" for m in self.missing_tiles),
        ]


def is_local(url: str) -> bool:
    """True for a URL that never leaves this machine."""
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or (parts.hostname or "") in LOCAL_HOSTS


class MapBrowser:
    """Opens pages in a shared Chromium, each in a fresh browser context."""

    def __init__(self, browser: Browser, viewport: tuple[int, int] = (1000, 700)) -> None:
        self.browser = browser
        self.viewport = {"width": viewport[0], "height": viewport[1]}

    @contextmanager
    def page(
        self,
        url: str,
        report: PageReport,
        *,
        offline: bool = True,
        wait_for_map: bool = True,
        timeout_ms: int = 10_000,
    ) -> Iterator[Page]:
        """Load `url` while recording problems into `report`; yields the ready page.

        Ready means the load event fired, then (with `wait_for_map`) Leaflet
        drew every map and finished its tiles, then a 300 ms settle for fades
        and late errors. A page that never gets ready fails with what the
        report holds so far. The context closes when the block ends.
        """
        context = self.browser.new_context(viewport=self.viewport)
        try:
            page = context.new_page()
            if offline:
                page.route("**/*", lambda route: _local_only(route, report))
            page.on("console", lambda m: _console(m, report))
            page.on("pageerror", lambda e: report.page_errors.append(str(e)))
            page.on("requestfailed", lambda r: _failed(r, report))
            page.on("response", lambda r: _bad_status(r, report))
            _load(page, url, wait_for_map, timeout_ms, report)
            yield page
        finally:
            context.close()

    def open(
        self,
        url: str,
        screenshot: Path,
        *,
        offline: bool = True,
        wait_for_map: bool = True,
        timeout_ms: int = 10_000,
    ) -> PageReport:
        """Load `url`, take a full-page screenshot to `screenshot`, return the report."""
        report = PageReport(url=url, screenshot=screenshot)
        with self.page(
            url, report, offline=offline, wait_for_map=wait_for_map, timeout_ms=timeout_ms
        ) as page:
            page.screenshot(path=str(screenshot), full_page=True)
        return report


def _load(page: Page, url: str, wait_for_map: bool, timeout_ms: int, report: PageReport) -> None:
    try:
        page.goto(url, wait_until="load", timeout=timeout_ms)
        if wait_for_map:
            page.wait_for_function(MAP_READY_JS, timeout=timeout_ms)
    except PlaywrightTimeoutError as exc:
        problems = "\n".join(report.problems) or "no errors recorded"
        raise AssertionError(f"{url} did not get ready: {exc}\n{problems}") from None
    page.wait_for_timeout(300)
    if wait_for_map:
        report.missing_tiles.extend(page.evaluate(MISSING_TILES_JS))


def _local_only(route: Route, report: PageReport) -> None:
    url = route.request.url
    if is_local(url):
        route.continue_()
    else:
        report.external_requests.append(url)
        route.abort("blockedbyclient")


def _console(message: ConsoleMessage, report: PageReport) -> None:
    if message.type == "error":
        report.console_errors.append(f"{message.text} ({message.location.get('url', '')})")


def _failed(request: Request, report: PageReport) -> None:
    if request.url not in report.external_requests:  # already reported as blocked
        report.failed_requests.append(f"{request.url}: {request.failure}")


def _bad_status(response: Response, report: PageReport) -> None:
    if response.status >= 400:
        report.failed_requests.append(f"{response.url}: HTTP {response.status}")


def non_background_share(png: Path | bytes) -> float:
    """Share of pixels that differ from the image's most common colour (its background)."""
    data = png.read_bytes() if isinstance(png, Path) else png
    image = Image.open(io.BytesIO(data)).convert("RGB")
    total = image.width * image.height
    colours = image.getcolors(maxcolors=total) or []
    background = max(count for count, _ in colours)
    return 1 - background / total


def assert_not_blank(png: Path, min_share: float = 0.01) -> None:
    """Fail unless at least `min_share` of the screenshot is not background."""
    share = non_background_share(png)
    assert share >= min_share, f"{png} looks blank: {share:.2%} non-background pixels"


def cjk_renders(page: Page, selector: str) -> bool:
    """Whether the Chinese text in `selector` is drawn with real glyphs, not tofu boxes.

    Without a CJK font Chromium draws every missing character as the same
    .notdef box, so the text and its reversal render pixel for pixel alike;
    with a font they differ. The element is screenshot with its text as
    plain content both ways, then its markup is put back. The text must be
    CJK only, with two different characters.
    """
    element = page.locator(selector).first
    text = element.inner_text().strip()
    assert len(set(text)) >= 2 and all(_is_cjk(c) for c in text), f"{selector}: {text!r}"
    markup = element.evaluate("el => el.innerHTML")
    shots = []
    for variant in (text, text[::-1]):
        element.evaluate("(el, t) => { el.textContent = t; }", variant)
        shots.append(element.screenshot())
    element.evaluate("(el, html) => { el.innerHTML = html; }", markup)
    return shots[0] != shots[1] and non_background_share(shots[0]) > 0


def _is_cjk(char: str) -> bool:
    return unicodedata.name(char, "").startswith("CJK")


@contextmanager
def serve_asgi(app: object) -> Iterator[str]:
    """Serve an ASGI app (the gridsvc app, or `StaticFiles(directory=...)`) on 127.0.0.1.

    Yields the base URL, e.g. "http://127.0.0.1:41234"; the server stops
    when the block ends.
    """
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test HTTP server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
