"""One limiter shared by every thread of the process, so FoxAPI never sees a burst from us."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Thread-safe; spaces calls at least 1/rate seconds apart so there is never a burst.

    Each caller reserves the next free slot under the lock and then sleeps outside it, so
    callers are served in arrival order and a waiting caller never holds up the others.
    Idle time is not saved up: after a quiet spell the next call goes at once, the one after
    it waits a full interval again.
    """

    def __init__(
        self,
        rate_per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not math.isfinite(rate_per_second) or rate_per_second <= 0:
            raise ValueError(f"The request rate must be above 0 per second, not {rate_per_second}.")
        self._interval = 1.0 / rate_per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_free_slot: float | None = None

    def acquire(self) -> None:
        """Block until this caller may send one request."""
        with self._lock:
            now = self._clock()
            slot = now if self._next_free_slot is None else max(now, self._next_free_slot)
            self._next_free_slot = slot + self._interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)

    def __repr__(self) -> str:
        return f"RateLimiter(rate_per_second={1.0 / self._interval:g})"
