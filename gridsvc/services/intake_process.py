"""The intake writer: one process that writes the reports of every server process.

A server process that writes its own reports runs its writer thread beside
the HTTP thread, and the two share one interpreter lock: every SQLite call
of the writer gives the lock up and then waits to get it back behind the
requests. With two server processes, their writers also took turns on the
file, each turn catching up with what the other had written. ``gridsvc
serve`` therefore starts one writer process (``python -m gridsvc.intake_writer``),
and each server process hands it the reports it has matched, routed and
rendered (an :class:`~gridsvc.services.intake.Intake`). The writer process
writes the reports of all of them in shared transactions, one fsync each,
and answers each with its id, number and possible duplicates; its
checkpoints run beside the commits (``store/checkpoints.py``). The closed
loop's actions stay in the server processes (a small share of the writes)
and take turns with the writer process through the writer's file lock.

Measured with ``benchmarks/bench_api.py`` (2 server processes, runs
interleaved): capacity 860-950 reports/s with a writer thread in each
process, 1,000-1,990 with the writer process; see the README for p99.

The link is a Unix socket in a directory only this user can enter (0700),
carrying frames of a 4-byte length and a pickle. Pickle is acceptable only
because the peer is our own process of the same user; nothing else can
reach the socket.

A report is answered only after the writer process committed it, so a 201
still means "on disk". If the link breaks while a report is on its way, the
worker cannot know whether it was stored and answers 503: a retry with the
same Idempotency-Key then returns the original case if it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import itertools
import logging
import os
import pickle
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from gridsvc.core.errors import StorageUnavailable
from gridsvc.core.messages import Msg
from gridsvc.services.intake import Intake, NewCases, WriteConflict, Written
from gridsvc.store.checkpoints import Checkpointer
from gridsvc.store.engine import sqlite_file
from gridsvc.store.writer import BatchWriter

log = logging.getLogger("gridsvc.intake")

_HEADER = struct.Struct("!I")
OK, CONFLICT, FAILED = "ok", "conflict", "failed"
SOCKET_NAME = "intake.sock"
#: a commit slower than this is logged: reports waited for the disk (or the CPU) that long
SLOW_COMMIT_S = 0.1
_RECEIVE_BYTES = 64 * 1024  # a read; more waits for the next round (a report is ~2-4 kB)


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    return pickle.loads(await reader.readexactly(size))


def _frame(message: Any) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body)) + body


# ---- the writer process ---------------------------------------------------------------------


class IntakeServer:
    """The writer process's side: every worker's reports, one transaction at a time.

    Single-threaded on purpose. It reads every report that has arrived, writes
    them in one transaction, answers them and reads again; reports arriving
    during a commit wait in the sockets' buffers and make the next batch. No
    thread hands work to another, so no report waits for a thread to wake.
    """

    def __init__(
        self,
        engine: Engine,
        duplicate_radius_m: float,
        duplicate_window: timedelta,
        max_batch: int = 128,
    ) -> None:
        self.new_cases = NewCases(duplicate_radius_m, duplicate_window, _utc_now)
        self.batches = BatchWriter(engine, hooks=self.new_cases)
        self.max_batch = max_batch
        database = sqlite_file(engine)
        self.checkpointer = Checkpointer(database) if database is not None else None
        self._selector = selectors.DefaultSelector()

    def serve(self, path: Path, stop: threading.Event) -> None:
        """Answer workers on the socket at ``path`` until ``stop`` is set."""
        path.unlink(missing_ok=True)  # left by a writer process that was killed
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        path.chmod(0o600)
        listener.listen(128)
        listener.setblocking(False)
        self._selector.register(listener, selectors.EVENT_READ)
        try:
            while not stop.is_set():
                waiting = self._receive(listener, timeout=0.5)
                for first in range(0, len(waiting), self.max_batch):
                    self._write(waiting[first : first + self.max_batch])
                if self.checkpointer is not None:
                    self._catch_up(self.checkpointer)
        finally:
            for key in list(self._selector.get_map().values()):
                key.fileobj.close()  # type: ignore[union-attr]
            self._selector.close()
            self.batches.close()
            if self.checkpointer is not None:
                self.checkpointer.close()

    def _receive(self, listener: socket.socket, timeout: float) -> list[_Request]:
        """The reports that arrived (waiting up to ``timeout`` for the first)."""
        requests: list[_Request] = []
        for key, events in self._selector.select(timeout):
            if key.fileobj is listener:
                self._accept(listener)
                continue
            link: _WorkerLink = key.data
            if events & selectors.EVENT_WRITE:
                self._flush(link)
            if events & selectors.EVENT_READ:
                frames = link.receive()
                if frames is None:  # the worker went away; what it sent is still written
                    self._selector.unregister(link.sock)
                    link.sock.close()
                    continue
                requests.extend(_Request(link, rid, intake) for rid, intake in frames)
        return requests

    def _accept(self, listener: socket.socket) -> None:
        with contextlib.suppress(BlockingIOError):
            sock, _ = listener.accept()
            sock.setblocking(False)
            self._selector.register(sock, selectors.EVENT_READ, _WorkerLink(sock))

    def _write(self, batch: list[_Request]) -> None:
        works = [functools.partial(self.new_cases.write, intake=r.intake) for r in batch]
        started = time.perf_counter()
        outcomes = self.batches.commit(works)
        took = time.perf_counter() - started
        if took > SLOW_COMMIT_S:  # every report of the batch waited this long
            log.warning(
                "intake writer: a commit of %d reports took %.0f ms", len(batch), took * 1000
            )
        for request, (ok, value) in zip(batch, outcomes, strict=True):
            if ok:
                reply = (request.id, OK, value)
            elif isinstance(value, IntegrityError):
                reply = (request.id, CONFLICT, str(value.orig))
            else:
                log.error("intake writer: a report could not be written", exc_info=value)
                reply = (request.id, FAILED, f"{type(value).__name__}: {value}")
            request.link.outbox += _frame(reply)
        for link in {request.link for request in batch}:
            self._flush(link)

    def _catch_up(self, checkpointer: Checkpointer) -> None:
        """Copy the frames of the last checkpoint's pass, so that the next commit restarts the log."""
        took = checkpointer.catch_up()
        if took is not None and took > SLOW_COMMIT_S:  # reports arriving meanwhile waited
            log.warning("intake writer: catching up with a checkpoint took %.0f ms", took * 1000)

    def _flush(self, link: _WorkerLink) -> None:
        """Send what the link holds; what the socket cannot take now goes when it can."""
        if link.sock.fileno() < 0:
            return
        events = selectors.EVENT_READ
        if not link.flush():
            events |= selectors.EVENT_WRITE
        self._selector.modify(link.sock, events, link)


class _Request(NamedTuple):
    link: _WorkerLink
    id: int
    intake: Intake


class _WorkerLink:
    """One worker's connection: bytes not yet a whole frame, answers not yet sent."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.inbox = bytearray()
        self.outbox = bytearray()

    def receive(self) -> list[tuple[int, Intake]] | None:
        """The whole frames that arrived; None once the worker has closed the link."""
        try:
            data = self.sock.recv(_RECEIVE_BYTES)
        except BlockingIOError:
            return []
        except OSError:
            return None
        if not data:
            return None
        self.inbox += data
        frames = []
        while len(self.inbox) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self.inbox)
            end = _HEADER.size + size
            if len(self.inbox) < end:
                break
            frames.append(pickle.loads(self.inbox[_HEADER.size : end]))
            del self.inbox[:end]
        return frames

    def flush(self) -> bool:
        """Send as much as the socket takes; whether everything went."""
        while self.outbox:
            try:
                sent = self.sock.send(self.outbox)
            except BlockingIOError:
                return False
            except OSError:  # the worker is gone: its answers have no one to go to
                self.outbox.clear()
                return True
            del self.outbox[:sent]
        return True


def run_server(
    engine: Engine,
    path: Path,
    duplicate_radius_m: float,
    duplicate_window: timedelta,
    parent_pid: int | None = None,
) -> None:
    """The writer process's main: serve until SIGTERM, SIGINT or (if given) the parent is gone."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if parent_pid is None:
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    else:
        # Ctrl-C reaches the whole terminal's group; the workers' last requests still need
        # the writer, so it goes when ``serve`` stops it (or is gone), not on the key press
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        threading.Thread(target=_stop_when_orphaned, args=(parent_pid, stop), daemon=True).start()
    server = IntakeServer(engine, duplicate_radius_m, duplicate_window)
    # What the imports left (some 300,000 objects, as in the server processes) lives as
    # long as the process; a full collection walked it all while every report waited:
    # 85 ms once in a 15 s load at 500/s. Frozen, it is left out of collections.
    gc.freeze()
    log.info("intake writer listening on %s", path)
    server.serve(path, stop)


def _stop_when_orphaned(parent_pid: int, stop: threading.Event) -> None:
    """A writer whose ``gridsvc serve`` died (even by kill -9) must not linger."""
    while os.getppid() == parent_pid and not stop.wait(0.5):
        pass
    stop.set()


def _utc_now() -> datetime:
    return datetime.now(UTC)


# ---- a worker's side ------------------------------------------------------------------------


class RemoteIntake:
    """A worker's :class:`~gridsvc.services.intake.IntakeWriter`: the writer process's client.

    One connection per event loop (a worker has one; tests may run several),
    many reports in flight on it, matched to their answers by request id.
    """

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        self.path = path
        self.timeout = timeout
        self._links: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Link] = (
            weakref.WeakKeyDictionary()
        )
        self._opening: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    async def write(self, intake: Intake) -> Written:
        link = await self._link()
        status, payload = await link.call(intake, self.timeout)
        if status == OK:
            return payload  # type: ignore[no-any-return]
        if status == CONFLICT:
            raise WriteConflict(payload)
        raise StorageUnavailable(Msg("writer.failed", reason=payload))

    async def _link(self) -> _Link:
        loop = asyncio.get_running_loop()
        link = self._links.get(loop)
        if link is not None and not link.closed:
            return link
        opening = self._opening.setdefault(loop, asyncio.Lock())
        async with opening:  # the reports arriving meanwhile wait for the same link
            link = self._links.get(loop)
            if link is None or link.closed:
                link = await _Link.open(self.path)
                self._links[loop] = link
            return link


class _Link:
    """One open connection to the writer process and the reports waiting on it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.closed = False
        self._ids = itertools.count()
        self._waiting: dict[int, asyncio.Future[tuple[str, Any]]] = {}
        self._receiver = asyncio.get_running_loop().create_task(self._receive(reader))

    @classmethod
    async def open(cls, path: Path) -> _Link:
        try:
            reader, writer = await asyncio.open_unix_connection(str(path))
        except OSError as exc:
            raise StorageUnavailable(
                Msg("writer.not_running", reason=exc.strerror or str(exc))
            ) from exc
        return cls(reader, writer)

    async def call(self, intake: Intake, timeout: float) -> tuple[str, Any]:
        request_id = next(self._ids)
        answer: asyncio.Future[tuple[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = answer
        self.writer.write(_frame((request_id, intake)))
        try:
            return await asyncio.wait_for(answer, timeout)
        except TimeoutError:
            raise StorageUnavailable(Msg("writer.timeout", timeout=timeout)) from None
        finally:
            self._waiting.pop(request_id, None)

    async def _receive(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                request_id, status, payload = await _read_frame(reader)
                answer = self._waiting.pop(request_id, None)
                if answer is not None and not answer.done():
                    answer.set_result((status, payload))
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass  # the writer closed the link or died: below, every waiting report is told
        finally:
            self.closed = True
            self.writer.close()
            lost = StorageUnavailable(Msg("writer.gone"))
            for answer in self._waiting.values():
                if not answer.done():
                    answer.set_exception(lost)
            self._waiting.clear()


# ---- ``gridsvc serve``'s side: keeping the writer process running -------------------------


class WriterProcess:
    """Starts the intake writer (``gridsvc/intake_writer.py``) on a private socket, and again
    whenever it dies."""

    def __init__(self, ready_timeout: float = 60.0) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="gridsvc-intake-"))  # 0700
        self.path = self.folder / SOCKET_NAME
        self.ready_timeout = ready_timeout
        self._stopping = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._keeper: threading.Thread | None = None

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "gridsvc.intake_writer",
            "--socket", str(self.path), "--parent-pid", str(os.getpid()),
        ]  # fmt: skip

    def start(self) -> Path:
        """Start it and wait until it answers on its socket; the socket's path."""
        self._proc = self._spawn()
        self._keeper = threading.Thread(target=self._keep, name="gridsvc-intake-keeper")
        self._keeper.daemon = True
        self._keeper.start()
        return self.path

    def stop(self) -> None:
        self._stopping.set()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _spawn(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(self.command())
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise StorageUnavailable(Msg("writer.exited", code=proc.returncode))
            if answers(self.path):
                return proc
            time.sleep(0.05)
        proc.kill()
        raise StorageUnavailable(Msg("writer.no_start", seconds=self.ready_timeout))

    def _keep(self) -> None:
        while self._proc is not None:
            code = self._proc.wait()
            if self._stopping.is_set():
                return
            log.error("the intake writer exited with %s; starting it again", code)
            if self._stopping.wait(0.5):
                return
            try:
                self._proc = self._spawn()
            except StorageUnavailable:
                log.exception("the intake writer could not be started again")


def answers(path: Path) -> bool:
    """Whether a writer listens on the socket at ``path`` (the file alone may be a dead one's)."""
    with socket.socket(socket.AF_UNIX) as probe, contextlib.suppress(OSError):
        probe.connect(str(path))
        return True
    return False


@contextlib.contextmanager
def writer_process() -> Iterator[Path]:
    """A running writer process for the block; its socket's path."""
    process = WriterProcess()
    try:
        yield process.start()
    finally:
        process.stop()
