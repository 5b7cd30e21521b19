"""One limiter shared by every thread of the process, so FoxAPI never sees a burst from us."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from studio.database import DatabaseUnavailable

log = logging.getLogger(__name__)

# FoxAPI counts requests as they arrive, and each one's trip there takes a few milliseconds
# more or less than the last: shared slots keep this much more than the cap's spacing, so
# that no second at the upstream ever holds one request too many.
ARRIVAL_GUARD_SECONDS = 0.01


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


class SharedRateLimiter(RateLimiter):
    """The cap for one key, held together by every process sharing the studio's database.

    The in-process limiter's spacing and order come first; then the store hands out the
    key's next slot (`reserve_slot(interval)` returns the seconds until it), so servers
    and command-line processes using one key take turns, each slot 1/rate seconds and
    ARRIVAL_GUARD_SECONDS after the last. While the database does not
    answer, each process keeps only its own spacing, rather than stop sending.
    """

    def __init__(
        self,
        rate_per_second: float,
        reserve_slot: Callable[[float], float],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(rate_per_second, clock=clock, sleep=sleep)
        self._reserve_slot = reserve_slot
        self._shared = True  # False while the database is away (logged once per outage)

    def acquire(self, *args: Any, **kwargs: Any) -> None:
        """Block until this caller may send one request; arguments go to RateLimiter's."""
        super().acquire(*args, **kwargs)
        try:
            wait = self._reserve_slot(self._interval + ARRIVAL_GUARD_SECONDS)
        except DatabaseUnavailable as exc:
            if self._shared:
                log.warning(
                    "%s The request-rate cap holds per process until it answers.", exc.message
                )
            self._shared = False
            return
        self._shared = True
        if wait > 0:
            self._sleep(wait)
