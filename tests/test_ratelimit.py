"""The process-wide limiter: calls are spaced out, never bunched, even across threads."""

from __future__ import annotations

import threading

import pytest

from studio.ratelimit import RateLimiter


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
