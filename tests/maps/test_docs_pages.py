"""/docs and /redoc in Chromium with every other host blocked: the intranet case.

FastAPI's pages load Swagger UI and ReDoc from a CDN and were blank without
internet; gridsvc serves its vendored copies. Each page must render the API's
operations with no request leaving the machine, no script error and no
Content-Security-Policy refusal (Chromium reports those as console errors).
The screenshots go to /tmp/gridsvc-docs-*.png for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import MapBrowser, PageReport, assert_not_blank, serve_asgi

from gridsvc.api.app import create_app
from gridsvc.config import Settings

SHOTS = Path("/tmp")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("docs")
    settings = Settings(database_url=f"sqlite:///{directory / 'g.db'}")
    with serve_asgi(create_app(settings)) as url:
        yield url


@pytest.mark.parametrize(
    ("path", "operation"),
    [
        ("/docs", ".opblock-summary-path[data-path='/api/v1/match']"),
        ("/redoc", "[data-section-id$='operation/match_point_api_v1_match_get']"),
    ],
)
def test_docs_render_their_operations_offline(
    map_browser: MapBrowser, base: str, path: str, operation: str
) -> None:
    shot = SHOTS / f"gridsvc-docs-{path.strip('/')}.png"
    report = PageReport(url=base + path, screenshot=shot)
    with map_browser.page(base + path, report, wait_for_map=False, timeout_ms=30_000) as page:
        page.wait_for_selector(operation, timeout=30_000)
        page.wait_for_timeout(500)  # late CSP refusals and script errors
        page.screenshot(path=str(shot))
    assert not report.problems, report.problems
    assert_not_blank(shot)
