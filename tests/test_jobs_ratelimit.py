"""The process-wide limiter: calls are spaced out, never bunched, and a click goes first."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from studio.db.database import DatabaseUnavailable
from studio.jobs.ratelimit import ARRIVAL_MARGIN, Priority, RateLimiter, SharedRateLimiter


class FakeTime:
    """A clock that only moves when someone sleeps (or the test advances it)."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass(eq=False)
class Sleeper:
    wake: float
    woken: bool = False


class SharedTime:
    """A clock for many threads: it stands still while any of them runs, and when every one
    is asleep (or done) it jumps to the earliest wake-up. Time is fake; the order is real."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start
        self._changed = threading.Condition()
        self._running = 0
        self._sleepers: list[Sleeper] = []

    def clock(self) -> float:
        with self._changed:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._changed:
            sleeper = Sleeper(self.now + seconds)
            self._sleepers.append(sleeper)
            self._running -= 1
            self._changed.notify_all()
            while not sleeper.woken:
                self._changed.wait()

    def start(self, call: Callable[[], None]) -> threading.Thread:
        with self._changed:
            self._running += 1

        def run() -> None:
            try:
                call()
            finally:
                with self._changed:
                    self._running -= 1
                    self._changed.notify_all()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    def settle(self) -> None:
        """Return once every started thread is asleep or done."""
        with self._changed:
            while self._running:
                self._changed.wait()

    def run_until_done(self) -> None:
        with self._changed:
            while True:
                while self._running:
                    self._changed.wait()
                if not self._sleepers:
                    return
                self.now = min(sleeper.wake for sleeper in self._sleepers)
                for sleeper in [s for s in self._sleepers if s.wake <= self.now]:
                    sleeper.woken = True
                    self._sleepers.remove(sleeper)
                    self._running += 1
                self._changed.notify_all()


def make_limiter(rate: float, fake: FakeTime | SharedTime) -> RateLimiter:
    return RateLimiter(rate, clock=fake.clock, sleep=fake.sleep)


def test_first_call_goes_at_once() -> None:
    fake = FakeTime()
    make_limiter(2.0, fake).acquire()
    assert fake.sleeps == []


def test_back_to_back_calls_are_spaced_one_interval_apart() -> None:
    fake = FakeTime()
    limiter = make_limiter(2.0, fake)
    sent_at = []
    for _ in range(4):
        limiter.acquire()
        sent_at.append(fake.now)
    assert sent_at == [100.0, 100.5, 101.0, 101.5]


def test_a_call_after_the_interval_has_passed_does_not_wait() -> None:
    fake = FakeTime()
    limiter = make_limiter(4.0, fake)
    limiter.acquire()
    fake.now += 0.3
    limiter.acquire()
    assert fake.sleeps == []


def test_a_call_inside_the_interval_waits_only_for_the_rest_of_it() -> None:
    fake = FakeTime()
    limiter = make_limiter(2.0, fake)
    limiter.acquire()
    fake.now += 0.2
    limiter.acquire()
    assert fake.sleeps == [pytest.approx(0.3)]


def test_idle_time_is_not_saved_up_into_a_burst() -> None:
    fake = FakeTime()
    limiter = make_limiter(2.0, fake)
    limiter.acquire()
    fake.now += 60.0
    limiter.acquire()
    limiter.acquire()
    limiter.acquire()
    assert fake.sleeps == [0.5, 0.5]


def test_callers_arriving_at_once_each_get_their_own_slot() -> None:
    limiter = make_limiter(4.0, FakeTime())
    slots = [limiter.reserve().slot for _ in range(20)]
    assert slots == [pytest.approx(100.0 + 0.25 * place) for place in range(20)]


def test_a_submission_goes_ahead_of_a_hundred_queued_polls() -> None:
    limiter = make_limiter(5.0, FakeTime())
    polls = [limiter.reserve() for _ in range(100)]
    submission = limiter.reserve(Priority.HIGH)
    # The first poll's slot is due now, so it goes; the submission takes the next one...
    assert submission.slot == pytest.approx(100.2)
    # ...and every poll after it moves one interval later, still never two at once.
    slots = sorted([submission.slot, *(poll.slot for poll in polls)])
    assert all(b - a >= 0.2 - 1e-9 for a, b in itertools.pairwise(slots))
    assert polls[-1].slot == pytest.approx(100.0 + 0.2 * 100)


def test_submissions_queue_among_themselves_in_arrival_order() -> None:
    limiter = make_limiter(5.0, FakeTime())
    for _ in range(10):
        limiter.reserve()
    first, second = limiter.reserve(Priority.HIGH), limiter.reserve(Priority.HIGH)
    assert first.slot < second.slot <= 100.0 + 0.2 * 2 + 1e-9


def test_a_submission_never_squeezes_in_right_after_a_request_just_sent() -> None:
    fake = FakeTime()
    limiter = make_limiter(5.0, fake)
    limiter.acquire()  # sent at 100.0
    fake.now = 100.05
    assert limiter.reserve(Priority.HIGH).slot == pytest.approx(100.2)


def test_threads_each_get_their_own_slot_and_a_late_submission_still_goes_first() -> None:
    shared = SharedTime()
    limiter = make_limiter(5.0, shared)
    sent_at: dict[str, float] = {}
    lock = threading.Lock()

    def send(name: str, priority: Priority) -> Callable[[], None]:
        def call() -> None:
            limiter.acquire(priority)
            with lock:
                sent_at[name] = shared.clock()

        return call

    threads = [shared.start(send(f"poll {index}", Priority.NORMAL)) for index in range(100)]
    shared.settle()  # every poll has queued
    threads.append(shared.start(send("submission", Priority.HIGH)))
    shared.run_until_done()
    for thread in threads:
        thread.join()

    assert len(sent_at) == 101
    assert sent_at["submission"] <= 100.0 + 0.5
    times = sorted(sent_at.values())
    assert all(b - a >= 0.2 - 1e-9 for a, b in itertools.pairwise(times))


@pytest.mark.parametrize("rate", [0.0, -1.0, float("inf"), float("nan")])
def test_a_rate_that_cannot_space_calls_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="above 0"):
        RateLimiter(rate)


class FakeSlots:
    """The store's request slots for one key, on the fake clock; or a database that is away."""

    def __init__(self, fake: FakeTime | SharedTime) -> None:
        self.fake = fake
        self.next_free = 0.0
        self.away = False
        self._lock = threading.Lock()  # the database's own write lock

    def reserve(self, interval: float) -> float:
        if self.away:
            raise DatabaseUnavailable("The studio cannot reach its database.")
        with self._lock:
            slot = max(self.next_free, self.fake.now)
            self.next_free = slot + interval
            return slot - self.fake.now


def make_shared(rate: float, fake: FakeTime | SharedTime, slots: FakeSlots) -> SharedRateLimiter:
    return SharedRateLimiter(rate, slots.reserve, clock=fake.clock, sleep=fake.sleep)


def test_processes_sharing_a_key_take_turns_at_its_slots() -> None:
    fake = FakeTime()
    slots = FakeSlots(fake)
    server, command_line = make_shared(2.0, fake, slots), make_shared(2.0, fake, slots)
    sent_at = []
    for limiter, priority in [
        (server, Priority.NORMAL),
        (command_line, Priority.HIGH),  # a click goes first within its process only
        (server, Priority.HIGH),
        (command_line, Priority.NORMAL),
    ]:
        limiter.acquire(priority)
        sent_at.append(fake.now)
    spacing = 0.5 + ARRIVAL_MARGIN
    assert sent_at == pytest.approx([100.0 + spacing * turn for turn in range(4)])


def test_while_the_database_is_away_each_process_keeps_its_own_spacing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeTime()
    slots = FakeSlots(fake)
    limiter = make_shared(2.0, fake, slots)
    slots.away = True
    sent_at = []
    for _ in range(3):
        limiter.acquire()
        sent_at.append(fake.now)
    spacing = 0.5 + ARRIVAL_MARGIN
    assert sent_at == pytest.approx([100.0, 100.0 + spacing, 100.0 + 2 * spacing])
    assert caplog.text.count("cannot reach its database") == 1
    slots.away = False
    slots.next_free = 103.0  # another process holds the key's slots until then
    limiter.acquire()
    assert fake.now == 103.0
    assert slots.next_free == pytest.approx(103.0 + spacing)


def test_a_click_waits_at_most_one_slot_behind_the_polls_of_a_key_shared_with_others() -> None:
    # A hundred polls queue through a FoxAPI key's shared slots; a person clicks ten
    # seconds in, when fifty have gone. The click's POST takes the next slot, wherever
    # the polls stand: this process never holds more of the key's slots than the one
    # it is about to use.
    shared = SharedTime()
    slots = FakeSlots(shared)
    limiter = make_shared(5.0, shared, slots)
    spacing = 0.2 + ARRIVAL_MARGIN
    sent_at: dict[str, float] = {}
    lock = threading.Lock()

    def poll(name: str) -> Callable[[], None]:
        def call() -> None:
            limiter.acquire()
            with lock:
                sent_at[name] = shared.clock()

        return call

    def click() -> None:
        shared.sleep(10.0)
        limiter.acquire(Priority.HIGH)
        with lock:
            sent_at["click"] = shared.clock()

    threads = [shared.start(poll(f"poll {index}")) for index in range(100)]
    threads.append(shared.start(click))
    shared.run_until_done()
    for thread in threads:
        thread.join()

    assert sent_at["click"] <= 110.0 + spacing + 1e-9
    times = sorted(sent_at.values())
    assert all(b - a >= spacing - 1e-9 for a, b in itertools.pairwise(times))


def test_with_two_servers_polling_one_key_a_click_waits_for_at_most_three_slots() -> None:
    shared = SharedTime()
    slots = FakeSlots(shared)
    servers = [make_shared(5.0, shared, slots), make_shared(5.0, shared, slots)]
    spacing = 0.2 + ARRIVAL_MARGIN
    sent_at: list[float] = []
    clicked_at: list[float] = []
    lock = threading.Lock()

    def poll(server: SharedRateLimiter) -> Callable[[], None]:
        def call() -> None:
            server.acquire()
            with lock:
                sent_at.append(shared.clock())

        return call

    def click() -> None:
        shared.sleep(10.0)
        servers[0].acquire(Priority.HIGH)
        with lock:
            clicked_at.append(shared.clock())

    threads = [shared.start(poll(server)) for server in servers for _ in range(60)]
    threads.append(shared.start(click))
    shared.run_until_done()
    for thread in threads:
        thread.join()

    # The slot in use, the other server's one, then the click's own.
    assert clicked_at[0] <= 110.0 + 3 * spacing + 1e-9
    times = sorted([*sent_at, *clicked_at])
    assert all(b - a >= spacing - 1e-9 for a, b in itertools.pairwise(times))


def test_saturated_a_shared_key_is_used_to_at_least_90_percent_of_its_cap_never_over() -> None:
    fake = FakeTime()
    limiter = make_shared(5.0, fake, FakeSlots(fake))
    sent_at = []
    for _ in range(51):
        limiter.acquire()
        sent_at.append(fake.now)
    rate = 50 / (sent_at[-1] - sent_at[0])
    # Every slot 1/rate and the arrival margin apart, no wider: all the rest is used.
    assert rate == pytest.approx(1 / (0.2 + ARRIVAL_MARGIN))
    assert 0.9 * 5.0 <= rate <= 5.0
    busiest = max(sum(1 for t in sent_at if start <= t < start + 1.0) for start in sent_at)
    assert busiest == 5


def test_a_caller_woken_late_does_not_bring_the_next_one_closer() -> None:
    fake = FakeTime()
    overslept = []

    def sleep_late_once(seconds: float) -> None:
        late = 0.0 if overslept else 0.1  # a loaded machine wakes the first sleeper late
        overslept.append(late)
        fake.sleep(seconds + late)

    limiter = RateLimiter(5.0, clock=fake.clock, sleep=sleep_late_once)
    sent_at = []
    for _ in range(3):
        limiter.acquire()
        sent_at.append(fake.now)
    assert sent_at == pytest.approx([100.0, 100.3, 100.5])


def test_a_caller_interrupted_while_waiting_gives_its_place_up() -> None:
    fake = FakeTime()

    def interrupted(_seconds: float) -> None:
        raise KeyboardInterrupt

    limiter = RateLimiter(5.0, clock=fake.clock, sleep=interrupted)
    limiter.acquire()  # sent at 100.0
    with pytest.raises(KeyboardInterrupt):
        limiter.acquire()  # would have gone at 100.2
    fake.now = 100.3
    assert limiter.reserve().slot == pytest.approx(100.3)
