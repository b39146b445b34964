"""A request budget per client address, for callers without a key (Open311 reads, the sign-in form).

Keyed callers are limited per key (``api/limits.py``: patrols share a
carrier's NAT, so per address would be wrong for them). A caller without a
key has nothing but its address; case numbers are sequential, so without a
budget a stranger could walk them all. The buckets are bounded like the key
cache: the least recently seen address goes first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from gridsvc.core.errors import RateLimited
from gridsvc.core.messages import Msg


class AddressLimiter:
    """A token bucket per client address; a request may cost more than one token."""

    def __init__(
        self, per_minute: int, burst: int | None = None, max_entries: int = 10_000
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst or max(per_minute // 2, 50))
        self.max_entries = max_entries
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, address: str, cost: int = 1) -> None:
        """Take ``cost`` tokens for ``address`` or raise RateLimited with the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(address, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < cost:
                self._keep(address, (tokens, now))
                wait = int((cost - tokens) / self.rate) + 1
                raise RateLimited(
                    Msg("limits.anonymous", per_minute=self.rate * 60, wait=wait),
                    retry_after=wait,
                )
            self._keep(address, (tokens - cost, now))

    def _keep(self, address: str, bucket: tuple[float, float]) -> None:
        self._buckets[address] = bucket
        self._buckets.move_to_end(address)
        while len(self._buckets) > self.max_entries:
            self._buckets.popitem(last=False)
