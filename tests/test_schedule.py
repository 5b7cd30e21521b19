"""The poll schedule: few requests, and a finished task is noticed quickly."""

import pytest

from studio.schedule import MAX_INTERVAL, next_poll_delay


def simulate(true_duration: float, estimate: float) -> tuple[int, float]:
    """Poll a task whose progress rises linearly; return (polls, delay after completion)."""
    elapsed, polls = 0.0, 0
    progress = 0
    while True:
        elapsed += next_poll_delay(elapsed=elapsed, estimated_time=estimate, progress=progress)
        polls += 1
        if elapsed >= true_duration:
            return polls, elapsed - true_duration
        progress = int(elapsed / true_duration * 100)


def test_first_poll_waits_for_half_the_estimate() -> None:
    assert next_poll_delay(elapsed=0, estimated_time=45, progress=0) == pytest.approx(22.5)


@pytest.mark.parametrize("share", [0.6, 0.8, 1.0, 1.2, 1.4])
def test_tasks_around_the_estimate_are_noticed_within_two_seconds_in_few_polls(
    share: float,
) -> None:
    polls, delay = simulate(45 * share, 45)
    assert delay <= 2.0
    assert polls <= 8  # fixed 2 s polling would need 14 to 32


def test_progress_stuck_short_of_done_backs_off() -> None:
    short = next_poll_delay(elapsed=50, estimated_time=45, progress=99)
    long = next_poll_delay(elapsed=200, estimated_time=45, progress=99)
    assert short == 1.0
    assert short < long <= MAX_INTERVAL


def test_missing_estimate_falls_back_to_a_default() -> None:
    assert 0 < next_poll_delay(elapsed=0, estimated_time=None, progress=0) <= MAX_INTERVAL
