"""Group commit: one writer thread, many waiting requests, one fsync per batch.

With ``synchronous=FULL`` every commit waits for the disk, so committing each
report on its own caps intake at the disk's fsync rate and makes requests
queue for the SQLite write lock. Here each request hands its writes to the
writer as a function of a connection and waits; the writer runs everything
queued in one transaction and commits once, then answers every waiter. A
request is answered only after the commit that holds its rows, so a 201
still means "on disk".

If the batch fails, it is rolled back as a whole and each piece of work is
retried in a transaction of its own, so one bad request (say, a unique key
clash) never costs the others their write, and never leaves half of itself.

With several server processes on one SQLite file, their writers take turns
through an advisory file lock (``flock``) next to the database: the kernel
wakes the next writer the moment the lock is free, where SQLite's own busy
handler would sleep 1, 2, 5 … 100 ms between attempts and wreck the tail
latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar

from sqlalchemy import Connection, Engine

from gridsvc.store.engine import sqlite_file

log = logging.getLogger("gridsvc.store")

T = TypeVar("T")
Work = Callable[[Connection], Any]

_STOP = object()


class TransactionHooks(Protocol):
    """State kept beside the tables by whoever writes through the writer.

    ``begin`` runs first in every transaction (in this process's turn, so it
    sees everything other processes committed), ``flush`` after the batch's
    work and before the commit (rows the work queued, written in one
    statement each), and ``end`` after the commit or the rollback.
    """

    def begin(self, conn: Connection) -> None: ...

    def flush(self, conn: Connection) -> None: ...

    def end(self, committed: bool) -> None: ...


Outcome = tuple[bool, Any]  # (True, what the work returned) or (False, the exception it raised)


class BatchWriter:
    """Runs a batch of writes in one transaction, in this process's turn on the file.

    If the batch fails, it is rolled back as a whole and each piece of work is
    retried in a transaction of its own, so one bad request never costs the
    others their write, and never leaves half of itself.
    """

    def __init__(self, engine: Engine, hooks: TransactionHooks | None = None) -> None:
        """``hooks`` take part in every transaction (see :class:`TransactionHooks`)."""
        self.engine = engine
        self.hooks = hooks
        self._lock_path = _lock_path(engine)
        self._lock_file: BinaryIO | None = None  # opened once, on first use
        # one connection for every batch: checking one out of the pool and back costs more
        # than a statement, and hooks can ask it what others committed since its last turn
        self._conn: Connection | None = None

    def commit(self, works: list[Work]) -> list[Outcome]:
        """Every work's outcome, once its transaction committed (or failed)."""
        try:
            with self._transaction() as conn:
                return [(True, work(conn)) for work in works]
        except Exception as exc:  # noqa: BLE001 - every failure is retried alone below
            if len(works) == 1:
                return [(False, exc)]
        return [self._alone(work) for work in works]

    def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
        self._drop_connection()

    def _connection(self) -> Connection:
        """The writer's connection; a new one after a failed transaction dropped the last."""
        if self._conn is None:
            self._conn = self.engine.connect()
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # a broken one may fail to close: it goes anyway
                self._conn.close()
            self._conn = None

    def _alone(self, work: Work) -> Outcome:
        try:
            with self._transaction() as conn:
                return (True, work(conn))
        except Exception as exc:  # noqa: BLE001 - handed to whoever waits for it
            return (False, exc)

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """This process's turn to write (a no-op for databases that are not a SQLite file)."""
        if self._lock_path is None:
            yield
            return
        if self._lock_file is None:
            self._lock_file = open(self._lock_path, "a+b")  # noqa: SIM115 - kept for every turn
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """One transaction in this process's turn, with the hooks around it."""
        committed = False
        try:
            conn = self._connection()
            with self._turn(), conn.begin():
                if self.hooks is not None:
                    self.hooks.begin(conn)
                yield conn
                if self.hooks is not None:
                    self.hooks.flush(conn)
            committed = True
        except Exception:
            self._drop_connection()  # the next batch starts on a fresh one
            raise
        finally:
            if self.hooks is not None:
                self.hooks.end(committed)


class GroupCommitter:
    """Runs writes from many threads in shared transactions on one thread."""

    def __init__(
        self, engine: Engine, max_batch: int = 128, hooks: TransactionHooks | None = None
    ) -> None:
        """``hooks`` take part in every transaction (see :class:`TransactionHooks`)."""
        self.max_batch = max_batch
        self.batches = BatchWriter(engine, hooks)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="gridsvc-writer", daemon=True)
        self._thread.start()

    def run(self, work: Callable[[Connection], T], timeout: float = 30.0) -> T:
        """Run ``work`` in a write transaction; return its result once committed."""
        return self._enqueue(work).result(timeout=timeout)

    async def run_async(self, work: Callable[[Connection], T], timeout: float = 30.0) -> T:
        """``run`` for the event loop: the request waits without holding a thread."""
        return await asyncio.wait_for(asyncio.wrap_future(self._enqueue(work)), timeout)

    def _enqueue(self, work: Callable[[Connection], T]) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put((work, future))
        return future

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=10)
        self.batches.close()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._queue.put(_STOP)
                    break
                batch.append(item)
            outcomes = self.batches.commit([work for work, _ in batch])
            for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)


def _lock_path(engine: Engine) -> Path | None:
    """``<database>.writer-lock`` for a SQLite file, None for anything else."""
    database = sqlite_file(engine)
    return None if database is None else database.with_name(database.name + ".writer-lock")
