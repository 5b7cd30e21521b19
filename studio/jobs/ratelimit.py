"""One limiter shared by every thread of the process, so FoxAPI never sees a burst from us."""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from studio.db.database import DatabaseUnavailable

log = logging.getLogger(__name__)

# FoxAPI counts requests as they arrive, not as they leave. A key's shared slot is taken
# the moment its request is about to leave (never ahead of time), so a thread that wakes
# late takes a later slot rather than squeezing the next one; but between the slot and
# the arrival lie the HTTP client, the network and the receiver's own threads, whose
# jitter can bring two sends closer at the receiver than they left. So shared slots are
# this many seconds wider than 1/rate: at 5/s, 0.22 s apart, six requests span 1.1 s,
# and the first and the sixth may arrive 100 ms out of step before a second holds six.
# Narrower did not hold on a busy machine: at 0.206 s apart a test saw six in a second
# about one run in four, at 0.21 s two runs in fourteen (one arrival 87 ms late). The cap
# is used to about 91% at 5/s; a request that still arrives too soon is answered with a
# 429 that is safely retried (the request did no work).
ARRIVAL_MARGIN = 0.02  # seconds
# A request that leaves more than this after its shared slot moves the key's next slots.
LATE_SECONDS = 0.005


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
                    now = self._clock()
                    wait = reservation.slot - now
                    if wait <= 0:
                        self._waiting.remove(reservation)
                        # A caller woken late goes late: the next waits a full interval.
                        self._sent_at(max(reservation.slot, now))
                        return
                self._sleep(wait)
        except BaseException:
            # Interrupted while waiting (Ctrl-C): give the place up rather than hold it.
            with self._lock:
                if reservation in self._waiting:
                    self._waiting.remove(reservation)
            raise

    def _sent_at(self, moment: float) -> None:
        """A request leaves at `moment`: every caller still waiting goes at least one
        interval after it, and after one another. Called holding the lock."""
        if self._last_sent is not None and moment <= self._last_sent:
            return
        self._last_sent = previous = moment
        for later in self._waiting:
            later.slot = max(later.slot, previous + self._interval)
            previous = later.slot

    def __repr__(self) -> str:
        return f"{type(self).__name__}(interval={self._interval:g} s)"


class SharedRateLimiter(RateLimiter):
    """The cap for one key, held together by every process sharing the studio's database.

    One pacing: this process's queue (its spacing, a click before polls) decides who goes
    next, and only that caller, once its turn has come, takes the key's next slot from the
    store (`reserve_slot(interval)` returns the seconds until it), so servers and
    command-line processes using one key take turns. A process thus never holds more
    than the one slot it is about to use: a click waits for at most the slot in use and
    the other processes' own, never behind a queue of this process's polls. Slots are
    1/rate + ARRIVAL_MARGIN seconds apart. While the database does not answer, each
    process keeps only its own spacing, rather than stop sending.
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
        self._interval += ARRIVAL_MARGIN  # the process's spacing is the key's
        self._reserve_slot = reserve_slot
        self._shared = True  # False while the database is away (logged once per outage)

    def acquire(self, priority: Priority = Priority.NORMAL) -> None:
        """Block until this caller may send one request: its turn here, then the key's slot."""
        super().acquire(priority)
        asked = self._clock()
        try:
            wait = self._reserve_slot(self._interval)
        except DatabaseUnavailable as exc:
            if self._shared:
                log.warning(
                    "%s The request-rate cap holds per process until it answers.", exc.message
                )
            self._shared = False
            return
        self._shared = True
        if wait > self._interval / 2:
            # Another process holds the key until then: this process's next turn follows.
            with self._lock:
                self._sent_at(asked + wait)
        # A shorter wait is the database's round trip varying from one request to the next:
        # slept, it keeps the key's spacing; added to this process's turns, it would
        # lengthen every interval by the jitter.
        if wait > 0:
            self._sleep(wait)
        # The slot came between asking and the answer: counted from asking, the commit and
        # the answer's way back (a loaded machine, PostgreSQL's commit) are lateness too.
        late = self._clock() - (asked + max(wait, 0.0))
        if late > LATE_SECONDS:
            # This request leaves late (the thread was not run in time): the key's next
            # slots move by as much, so the requests after it keep their distance.
            with contextlib.suppress(DatabaseUnavailable):
                self._reserve_slot(late)
