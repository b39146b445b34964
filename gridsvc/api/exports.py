"""Long downloads: a cap on their rows and on how many run at once.

Why: a case export walks every matching case with its supervision state.
With 30,000 cases one download took 24 s while four ran at once, and the
cases list and the patrols' reports waited behind them for the same two
cores. So an export asks for a turn first (a 429 with ``Retry-After`` when
the turns are taken) and says up front when its filter matches more rows
than a spreadsheet can sensibly hold (a 422 telling how to narrow it),
instead of streaming for a minute and being cut off.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator

from gridsvc.core.errors import RateLimited, TooManyRows
from gridsvc.core.messages import Msg

EXPORT_RETRY_AFTER_S = 10


class ExportGate:
    """At most ``turns`` exports at once in this process, each of at most ``max_rows`` rows."""

    def __init__(self, turns: int, max_rows: int) -> None:
        self.max_rows = max_rows
        self._turns = threading.BoundedSemaphore(turns)

    def check_size(self, rows: int) -> None:
        """Refuse an export whose filter matches more than ``max_rows`` stored cases."""
        if rows > self.max_rows:
            raise TooManyRows(
                Msg("export.too_many", rows=rows, most=self.max_rows),
                rows=rows,
                max_rows=self.max_rows,
            )

    def streamed(self, chunks: Iterator[str]) -> Iterator[str]:
        """``chunks`` in this export's turn; refused at once when no turn is free.

        The turn is given back when the chunks end or fail, when the client
        leaves, and also when the response is dropped before it was ever
        read (a generator that never started runs no ``finally``).
        """
        if not self._turns.acquire(blocking=False):  # waiting would hold a worker thread
            raise RateLimited(
                Msg("export.busy"),
                retry_after=EXPORT_RETRY_AFTER_S,
            )
        turn = _Turn(self._turns)
        stream = _released_after(chunks, turn)
        weakref.finalize(stream, turn.release)
        return stream

    @property
    def free_turns(self) -> int:
        """Turns not taken now (what a test or a status page reads)."""
        return self._turns._value  # noqa: SLF001 - BoundedSemaphore keeps no public count


class _Turn:
    """One taken turn, given back exactly once whoever gives it back first."""

    def __init__(self, turns: threading.BoundedSemaphore) -> None:
        self._turns = turns
        self._lock = threading.Lock()
        self._held = True

    def release(self) -> None:
        with self._lock:
            if self._held:
                self._held = False
                self._turns.release()


def _released_after(chunks: Iterator[str], turn: _Turn) -> Iterator[str]:
    try:
        yield from chunks
    finally:
        turn.release()
