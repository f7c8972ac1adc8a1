"""Failed sign-in attempts counted per client address: past the limit, every attempt waits out the window."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

LIMIT = 10  # failed attempts
WINDOW = 60.0  # seconds


class Attempts:
    """A sliding window of failed attempts per address; the clock is injected (tests pass their own)."""

    def __init__(self, limit: int = LIMIT, window: float = WINDOW, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._failed: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._failed.setdefault(address, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def wait(self, address: str) -> int:
        """Seconds before `address` may try again (0: it may try now)."""
        with self._lock:
            now = self.clock()
            times = self._recent(address, now)
            if len(times) < self.limit:
                return 0
            return max(1, math.ceil(times[0] + self.window - now))

    def failed(self, address: str) -> None:
        """Count one failed attempt of `address`."""
        with self._lock:
            now = self.clock()
            self._recent(address, now).append(now)
            if len(self._failed) > 10_000:  # forget the addresses that have gone quiet
                for quiet in [a for a, t in self._failed.items() if not t or t[-1] <= now - self.window]:
                    del self._failed[quiet]
