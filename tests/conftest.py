"""Fixtures every test may use: headless Chromium for the pages and maps.

Browser fixtures share one Chromium per session; a test that uses them is
marked `browser` automatically (deselect with `-m "not browser"`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import CHROMIUM, MapBrowser
from playwright.sync_api import Browser, sync_playwright

BROWSER_FIXTURES = {"chromium", "map_browser"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's headless chromium, driven by Playwright; one per test session."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/ensure-browser.sh` (make test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture
def map_browser(chromium: Browser) -> MapBrowser:
    """Opens pages offline by default; see `browser.MapBrowser.open` and `.page`."""
    return MapBrowser(chromium)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory for screenshots; pytest keeps it for the last three runs."""
    return tmp_path_factory.mktemp("screenshots")
