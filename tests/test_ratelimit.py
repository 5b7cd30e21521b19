"""The process-wide limiter: calls are spaced out, never bunched, even across threads."""

from __future__ import annotations

import threading

import pytest

from studio.database import DatabaseUnavailable
from studio.ratelimit import ARRIVAL_GUARD_SECONDS, RateLimiter, SharedRateLimiter


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


def make_limiter(rate: float, fake: FakeTime) -> RateLimiter:
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


def test_threads_each_get_their_own_slot() -> None:
    # The clock stands still, so every caller arrives at the same instant: each must be
    # handed a distinct slot, one interval after the previous one.
    sleeps: list[float] = []
    lock = threading.Lock()

    def record_sleep(seconds: float) -> None:
        with lock:
            sleeps.append(seconds)

    limiter = RateLimiter(4.0, clock=lambda: 50.0, sleep=record_sleep)
    threads = [threading.Thread(target=limiter.acquire) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(sleeps) == [pytest.approx(0.25 * slot) for slot in range(1, 20)]


@pytest.mark.parametrize("rate", [0.0, -1.0, float("inf"), float("nan")])
def test_a_rate_that_cannot_space_calls_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="above 0"):
        RateLimiter(rate)


class FakeSlots:
    """The store's request slots for one key, on the fake clock; or a database that is away."""

    def __init__(self, fake: FakeTime) -> None:
        self.fake = fake
        self.next_free = 0.0
        self.away = False

    def reserve(self, interval: float) -> float:
        if self.away:
            raise DatabaseUnavailable("The studio cannot reach its database.")
        slot = max(self.next_free, self.fake.now)
        self.next_free = slot + interval
        return slot - self.fake.now


def make_shared(rate: float, fake: FakeTime, slots: FakeSlots) -> SharedRateLimiter:
    return SharedRateLimiter(rate, slots.reserve, clock=fake.clock, sleep=fake.sleep)


def test_processes_sharing_a_key_take_turns_at_its_slots() -> None:
    fake = FakeTime()
    slots = FakeSlots(fake)
    server, command_line = make_shared(2.0, fake, slots), make_shared(2.0, fake, slots)
    sent_at = []
    for limiter in [server, command_line, server, command_line]:
        limiter.acquire()
        sent_at.append(fake.now)
    spacing = 0.5 + ARRIVAL_GUARD_SECONDS
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
    assert sent_at == [100.0, 100.5, 101.0]
    assert caplog.text.count("cannot reach its database") == 1
    slots.away = False
    slots.next_free = 103.0  # another process holds the key's slots until then
    limiter.acquire()
    assert fake.now == 103.0
    assert slots.next_free == pytest.approx(103.5 + ARRIVAL_GUARD_SECONDS)
