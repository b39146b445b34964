"""Keeping this worker's matching state on the active layer versions.

The worker that publishes refreshes at once; every other worker (uvicorn
runs several) notices within ``poll_s`` seconds, because a watcher thread
compares the active version ids in the database with the ones it serves.
"""

from __future__ import annotations

import logging
import threading

from fastapi import FastAPI

from gridsvc.services.matching import shared_matcher
from gridsvc.services.setup import active_version_ids, load_reference
from gridsvc.store import index_cache

log = logging.getLogger("gridsvc.api")


def refresh_matching(app: FastAPI) -> None:
    """Load the active versions again and swap in a new matcher (the old one serves until then)."""
    settings = app.state.settings
    ref = load_reference(app.state.engine)
    # the first worker to notice builds and writes the new index; the others read it
    where = index_cache.directory_for(settings.database_url, settings.index_cache_dir)
    matcher = shared_matcher(
        ref.town, ref.versions, settings.street_radius_m, settings.cell_m, where
    )
    app.state.town = ref.town
    app.state.matcher = matcher
    app.state.cases.matcher = matcher
    app.state.cases.matters = ref.matters
    app.state.cases.layer_versions = ref.version_ids()
    app.state.evaluation.matters = ref.matters
    app.state.maps.matters = ref.matters


class VersionWatcher:
    """A daemon thread that refreshes the app when another worker publishes."""

    def __init__(self, app: FastAPI, poll_s: float = 5.0) -> None:
        self.app = app
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gridsvc-versions", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                with self.app.state.engine.connect() as conn:
                    active = active_version_ids(conn)
                if active != self.app.state.cases.layer_versions:
                    log.info("active layer versions changed to %s; rebuilding the matcher", active)
                    refresh_matching(self.app)
            except Exception:  # noqa: BLE001 - keep watching; the next round tries again
                log.exception("checking the active layer versions failed")
