"""One limiter shared by every thread of the process, so FoxAPI never sees a burst from us."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from studio.database import DatabaseUnavailable

log = logging.getLogger(__name__)

# FoxAPI counts requests as they arrive, and on a loaded machine a request can leave well
# after its slot (more than 50 ms was measured) while the next leaves on time. Shared
# slots keep this much more than the cap's spacing: at 5/s, five slots span 1.2 s, so a
# request up to 0.2 s late still never makes a second hold one request too many. The
# price is a rate about a sixth under the cap.
ARRIVAL_GUARD_SECONDS = 0.04


class Priority(IntEnum):
    """Who goes first when requests queue: a person waiting on a click before background work."""

    NORMAL = 0  # polls and downloads
    HIGH = 1  # a generation POST or an upload someone just asked for


@dataclass(eq=False)
class Reservation:
    """A place in the queue: the caller may send at `slot` (moved later if a higher priority
    request takes its turn first)."""

    priority: Priority
    slot: float


class RateLimiter:
    """Thread-safe; spaces calls at least 1/rate seconds apart so there is never a burst.

    Each caller reserves a slot under the lock and then sleeps outside it, so a waiting
    caller never holds up the others. Callers of one priority are served in arrival order; a
    higher priority caller takes the first slot not yet due, ahead of every lower priority
    caller still waiting, and they each move one interval later. Idle time is not saved up:
    after a quiet spell the next call goes at once, the one after it waits a full interval.
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
        self._waiting: list[Reservation] = []  # in slot order
        self._last_sent: float | None = None  # the latest slot whose caller has gone

    def acquire(self, priority: Priority = Priority.NORMAL) -> None:
        """Block until this caller may send one request."""
        self.wait(self.reserve(priority))

    def reserve(self, priority: Priority = Priority.NORMAL) -> Reservation:
        """Take a place in the queue without waiting; `wait` for it before sending."""
        with self._lock:
            now = self._clock()
            # Ahead of every lower priority caller whose slot is not yet due.
            place = next(
                (
                    index
                    for index, waiting in enumerate(self._waiting)
                    if waiting.priority < priority and waiting.slot > now
                ),
                len(self._waiting),
            )
            # After every slot before it, sent or not.
            earlier = [self._waiting[place - 1].slot] if place else []
            if self._last_sent is not None:
                earlier.append(self._last_sent)
            reservation = Reservation(
                priority, max([now, *(slot + self._interval for slot in earlier)])
            )
            self._waiting.insert(place, reservation)
            previous = reservation.slot
            for later in self._waiting[place + 1 :]:
                later.slot = max(later.slot, previous + self._interval)
                previous = later.slot
            return reservation

    def wait(self, reservation: Reservation) -> None:
        """Sleep until the reservation's slot, which may move while it waits; then it is used."""
        try:
            while True:
                with self._lock:
                    wait = reservation.slot - self._clock()
                    if wait <= 0:
                        self._waiting.remove(reservation)
                        if self._last_sent is None or reservation.slot > self._last_sent:
                            self._last_sent = reservation.slot
                        return
                self._sleep(wait)
        except BaseException:
            # Interrupted while waiting (Ctrl-C): give the place up rather than hold it.
            with self._lock:
                if reservation in self._waiting:
                    self._waiting.remove(reservation)
            raise

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
