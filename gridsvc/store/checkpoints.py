"""Checkpoints of a SQLite write-ahead log, taken beside the writer instead of inside it.

SQLite copies the log into the database (a checkpoint) inside the commit
that finds the log past ``wal_autocheckpoint`` pages, and every report of
that batch waited for the copy and its fsync: 130-490 ms measured at 500
reports/s. The intake writer process turns that off for its connections
and runs a PASSIVE checkpoint on a thread of its own every second. PASSIVE
never takes the write lock, so commits go on while it copies.

Why every second: the pages a second of reports touches (the same index
pages again and again) are copied once. Every 0.1 s they were copied ten
times as often: the disk did 64,000-81,000 writes in a benchmark run
instead of 37,000-41,000, and p99 at 500 reports/s was 11.6-62.9 ms
against 8.2-8.6 ms (benchmarks/bench_api.py, runs interleaved).

Why the writer catches up: SQLite starts the log over from its beginning
only when a transaction begins with every frame of it copied. A thread
copying beside a busy writer never sees that, because commits land while
it copies, so the log grew by 20 MB a second at 500 reports/s (290 MB in
15 s, 770 MB at full load), and every commit appended to a growing file,
whose fsync also writes the file's new size. So after each background pass
the writer itself, between two of its commits, copies the few frames that
landed during the pass (:meth:`Checkpointer.catch_up`); its next commit
then starts the log over, and ``journal_size_limit`` (set by
``store/engine.py``) cuts the file back after a burst.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

log = logging.getLogger("gridsvc.store")


class Checkpointer:
    """A thread taking a PASSIVE checkpoint of a SQLite file every ``interval`` seconds.

    The writer calls :meth:`catch_up` between its commits, from its own thread.
    """

    def __init__(self, database: Path, interval: float = 1.0) -> None:
        self.database = database
        self.interval = interval
        self._passes = 0  # background passes finished; only this thread writes it
        self._caught_up = 0  # passes the writer has caught up with; only the writer writes it
        self._writer_conn: sqlite3.Connection | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gridsvc-checkpoints", daemon=True)
        self._thread.start()

    def catch_up(self) -> float | None:
        """Copy what was committed during the last background pass; the seconds it took.

        None when no pass has finished since the last call (nothing to do). Call it
        between commits, from the thread that commits: no commit may land while it
        copies, or the log still holds frames it has not copied.
        """
        passes = self._passes
        if passes == self._caught_up:
            return None
        self._caught_up = passes
        if self._writer_conn is None:
            self._writer_conn = _connect(self.database)
        started = time.perf_counter()
        _checkpoint(self._writer_conn)
        return time.perf_counter() - started

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        if self._writer_conn is not None:
            self._writer_conn.close()

    def _run(self) -> None:
        conn = _connect(self.database)
        try:
            while not self._stop.wait(self.interval):
                _checkpoint(conn)
                self._passes += 1
        finally:
            conn.close()


def _connect(database: Path) -> sqlite3.Connection:
    return sqlite3.connect(database, timeout=30, check_same_thread=False)


def _checkpoint(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    except sqlite3.Error:  # a busy moment; the next round copies it
        log.debug("checkpoint skipped", exc_info=True)
