"""Checkpoints of a SQLite write-ahead log, taken beside the writer instead of inside it.

SQLite copies the log into the database (a checkpoint) inside the commit
that finds the log past ``wal_autocheckpoint`` pages, and every report of
that batch waited for the copy and its fsync: 130-490 ms measured at 500
reports/s. The intake writer process turns that off for its connections
and runs a PASSIVE checkpoint on a thread of its own every second. PASSIVE
never takes the write lock, so commits go on while it copies, and once it
has copied the whole log the next commit starts the log from its beginning
again, so the log's file stops growing.

Why every second: the pages a second of reports touches (the same index
pages again and again) are copied once. Every 0.1 s they were copied ten
times as often: the disk did 64,000-81,000 writes in a benchmark run
instead of 37,000-41,000, and p99 at 500 reports/s was 11.6-62.9 ms
against 8.2-8.6 ms (benchmarks/bench_api.py, runs interleaved).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger("gridsvc.store")


class Checkpointer:
    """A thread taking a PASSIVE checkpoint of a SQLite file every ``interval`` seconds."""

    def __init__(self, database: Path, interval: float = 1.0) -> None:
        self.database = database
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gridsvc-checkpoints", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        conn = sqlite3.connect(self.database, timeout=30, check_same_thread=False)
        try:
            while not self._stop.wait(self.interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error:  # a busy moment; the next round copies it
                    log.debug("checkpoint skipped", exc_info=True)
        finally:
            conn.close()
