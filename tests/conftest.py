"""Fixtures every test may use: headless Chromium for the pages and maps, and databases.

Browser fixtures share one Chromium per session; a test that uses them is
marked `browser` automatically (deselect with `-m "not browser"`).

``db_url`` (per test) and ``module_db_url`` (per module) are an empty database
on each backend in turn, SQLite and PostgreSQL; a test that uses them runs once
per backend, and its PostgreSQL run is marked `postgresql` (deselect with
`-m "not postgresql"`). PostgreSQL is a throwaway cluster the session starts
itself on first use (tests/pg.py); without its binaries those runs are skipped,
except under CI, where `make test` installs them and a skip would hide a failure.

Every ``TestClient`` and httpx client (the live servers') sends ``Accept-Language: en``
unless the test gives its own:
the service answers in Chinese by default, and the tests match its English words.
The CLI's tests pass ``--lang en`` where they match English words, for the same
reason. Tests of the Chinese answers set the header or leave the flag out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pg
import pytest
from browser import CHROMIUM, MapBrowser
from playwright.sync_api import Browser, sync_playwright

_client_init = httpx.Client.__init__


def _english_by_default(self: httpx.Client, *args: Any, **kwargs: Any) -> None:
    _client_init(self, *args, **kwargs)
    self.headers.setdefault("Accept-Language", "en")


# TestClient is an httpx.Client, and httpx.get() makes one: every client the tests build
httpx.Client.__init__ = _english_by_default  # type: ignore[method-assign]

BROWSER_FIXTURES = {"chromium", "map_browser"}
BACKENDS = ["sqlite", "postgresql"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "postgresql" in callspec.params.values():
            item.add_marker(pytest.mark.postgresql)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pg.Cluster]:
    """The session's own PostgreSQL cluster, stopped at the session's end whatever happened."""
    reason = pg.missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    cluster = pg.Cluster()
    try:
        cluster.start()
        cluster.make_head_template()
        yield cluster
    finally:
        cluster.stop()


def _database(request: pytest.FixtureRequest, folder: Path, migrated: bool) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'g.db'}"
        if migrated:
            from gridsvc.store.engine import upgrade

            upgrade(url)
        return url
    cluster: pg.Cluster = request.getfixturevalue("pg_cluster")
    return cluster.database(pg.HEAD_TEMPLATE if migrated else pg.EMPTY_TEMPLATE)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (PostGIS created on PostgreSQL, no tables) on each backend in turn."""
    return _database(request, tmp_path, migrated=False)


@pytest.fixture(params=BACKENDS)
def migrated_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database at the newest migration, on each backend in turn."""
    return _database(request, tmp_path, migrated=True)


@pytest.fixture
def pg_url(pg_cluster: pg.Cluster) -> str:
    """A database at the newest migration on PostgreSQL only, for what SQLite does not have."""
    return pg_cluster.database(pg.HEAD_TEMPLATE)


@pytest.fixture(scope="module", params=BACKENDS)
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database at the newest migration shared by a test module, on each backend in turn."""
    folder = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    return _database(request, folder, migrated=True)


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
