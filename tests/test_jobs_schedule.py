"""The poll schedule: a finished task is noticed within one interval, in few polls, even
when FoxAPI's estimate and progress are wrong; and it learns when tasks really finish."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import pytest

from studio.jobs.schedule import (
    BEAT,
    DEFAULT_ESTIMATE,
    DENSE_INTERVAL,
    KIND_FINISHES,
    MAX_INTERVAL,
    PRIOR,
    RESULTS_PENDING_INTERVAL,
    Finish,
    FinishWindow,
    PollSchedule,
    StoredFinish,
    learn_window,
    likely_finish,
    most_likely_first,
    next_poll_delay,
)

ESTIMATE = 20.0
EPSILON = 1e-9
Progress = Callable[[float], int]


def by_the_estimate(elapsed: float) -> int:
    """Progress as upstreams often report it: the estimate's clock, whatever the work does."""
    return min(99, int(100 * elapsed / ESTIMATE))


def polls(
    window: FinishWindow, *, until: float = 300.0, progress: Progress = by_the_estimate
) -> list[float]:
    """When a task that never finishes is polled, in seconds after submission."""
    times, elapsed = [], 0.0
    while True:
        elapsed += next_poll_delay(
            elapsed=elapsed, estimated_time=ESTIMATE, progress=progress(elapsed), window=window
        )
        if elapsed > until:
            return times
        times.append(elapsed)


def seen_after(true_duration: float, window: FinishWindow) -> float:
    """When a task that really took `true_duration` is seen done: at the first poll after."""
    return next(time for time in polls(window) if time >= true_duration)


def shares(low: float, high: float, count: int = 200) -> list[float]:
    """True durations evenly spread from `low` to `high` times the estimate."""
    return [low + (high - low) * index / (count - 1) for index in range(count)]


def history(true_shares: list[float], window: FinishWindow = PRIOR) -> list[Finish]:
    """Finishes as the store records them, for tasks polled with `window`."""
    return [Finish(ESTIMATE, seen_after(share * ESTIMATE, window)) for share in true_shares]


def first_poll(window: FinishWindow) -> float:
    return polls(window)[0]


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def test_with_no_history_the_first_poll_waits_for_the_earliest_plausible_finish() -> None:
    earliest = PRIOR.early * ESTIMATE
    assert earliest < first_poll(PRIOR) <= earliest + DENSE_INTERVAL


def test_a_learned_window_starts_where_tasks_really_start_finishing() -> None:
    window = learn_window(history(shares(0.6, 1.4)))
    earliest = 0.6 * ESTIMATE
    # No poll before a finish is plausible, and the earliest ones wait at most an interval.
    assert earliest - DENSE_INTERVAL <= first_poll(window) <= earliest + DENSE_INTERVAL
    assert window.late * ESTIMATE >= 1.4 * ESTIMATE


@pytest.mark.parametrize("spread", [0.2, 0.4, 0.8])
def test_polls_come_at_most_one_interval_apart_across_the_likely_window(spread: float) -> None:
    window = learn_window(history(shares(1 - spread, 1 + spread)))
    likely = [time for time in polls(window) if time <= window.late * ESTIMATE]
    assert max(gaps(likely)) <= DENSE_INTERVAL + EPSILON
    # So a task finishing anywhere in the window is seen within one interval.
    for share in shares(1 - spread, 1 + spread, count=41):
        assert seen_after(share * ESTIMATE, window) - share * ESTIMATE <= DENSE_INTERVAL + EPSILON


@pytest.mark.parametrize(("spread", "share_of_fixed"), [(0.2, 0.7), (0.4, 0.5), (0.8, 0.9)])
def test_a_learned_window_needs_fewer_polls_than_polling_every_two_seconds(
    spread: float, share_of_fixed: float
) -> None:
    window = learn_window(history(shares(1 - spread, 1 + spread)))
    durations = [share * ESTIMATE for share in shares(1 - spread, 1 + spread)]
    learned = [
        sum(1 for time in polls(window) if time <= seen_after(duration, window))
        for duration in durations
    ]
    # At submission, then every 2 s until the results show.
    fixed = [1 + math.ceil(duration / 2) for duration in durations]
    assert sum(learned) <= share_of_fixed * sum(fixed)


def test_a_task_past_the_window_is_polled_less_and_less_often() -> None:
    window = FinishWindow(early=0.6, late=1.4)
    overdue = [time for time in polls(window, until=600) if time > window.late * ESTIMATE]
    intervals = gaps(overdue)
    assert intervals[0] <= DENSE_INTERVAL + 1.0
    assert all(later >= earlier - EPSILON for earlier, later in itertools.pairwise(intervals))
    assert intervals[-1] == pytest.approx(MAX_INTERVAL)


def test_progress_stuck_near_done_does_not_hold_off_the_back_off() -> None:
    window = FinishWindow(early=0.6, late=1.4)
    assert polls(window, progress=lambda _elapsed: 99) == polls(window, progress=lambda _: 0)


def test_progress_that_says_the_task_is_slow_keeps_polls_dense_past_the_window() -> None:
    window = FinishWindow(early=0.6, late=1.4)
    slow_finish = 1.8 * window.late * ESTIMATE

    def tracking_the_work(elapsed: float) -> int:
        return min(99, int(100 * elapsed / slow_finish))

    beyond = [
        time
        for time in polls(window, progress=tracking_the_work)
        if window.late * ESTIMATE < time <= slow_finish
    ]
    assert max(gaps(beyond)) <= DENSE_INTERVAL + EPSILON
    # Without that evidence the same stretch is polled less.
    assert len(beyond) > len(
        [time for time in polls(window) if window.late * ESTIMATE < time <= slow_finish]
    )


def test_tasks_that_finish_early_move_the_first_poll_earlier() -> None:
    on_time = learn_window(history(shares(0.95, 1.05)))
    assert first_poll(on_time) > 0.9 * ESTIMATE
    early = learn_window(history(shares(0.55, 0.65)))
    assert first_poll(early) < first_poll(on_time)
    assert first_poll(early) <= 0.55 * ESTIMATE + DENSE_INTERVAL
    # As early finishes join an on-time history, the first poll moves earlier.
    mixed = learn_window(history(shares(0.95, 1.05)) + history(shares(0.55, 0.65, count=20)))
    assert first_poll(mixed) < first_poll(on_time)


def test_a_first_poll_that_comes_too_late_learns_that_it_does() -> None:
    # Tasks really finish from 0.6 of the estimate, but the first poll came at 1.0: the
    # history shows a crowd seen at that first poll, never the earlier finishes themselves.
    window = FinishWindow(early=1.0, late=1.4)
    true_shares = shares(0.6, 1.4)
    for _reading in range(3):
        window = learn_window(history(true_shares, window))
    assert first_poll(window) <= 0.6 * ESTIMATE + DENSE_INTERVAL


def test_finishes_that_say_more_about_the_studio_than_foxapi_are_ignored() -> None:
    finishes = history(shares(0.6, 1.4))
    # A job resumed after the studio was down for an hour.
    assert learn_window([*finishes, Finish(ESTIMATE, 3600.0)]) == learn_window(finishes)


def test_a_missing_estimate_falls_back_to_a_default() -> None:
    assert next_poll_delay(elapsed=0, estimated_time=None, progress=0) == next_poll_delay(
        elapsed=0, estimated_time=DEFAULT_ESTIMATE, progress=0
    )


def test_a_task_completed_without_results_yet_is_looked_at_again_soon() -> None:
    delay = next_poll_delay(elapsed=30, estimated_time=ESTIMATE, progress=100)
    assert delay == RESULTS_PENDING_INTERVAL


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def stored(mode: str, images: int, finishes: list[Finish]) -> list[StoredFinish]:
    return [(mode, images, finish.estimated_time, finish.seen_after) for finish in finishes]


def test_the_schedule_reads_each_upstreams_history_again_only_after_a_while() -> None:
    reads: list[str] = []
    histories = {
        "foxapi": stored("generate", 1, history(shares(0.55, 0.65))),
        "demo": stored("generate", 1, history(shares(0.95, 1.05))),
    }

    def read(backend: str) -> list[StoredFinish]:
        reads.append(backend)
        return histories[backend]

    clock = FakeClock()
    schedule = PollSchedule(read, clock=clock, refresh_seconds=60)

    def first(backend: str) -> float:
        return schedule.next_delay(
            backend=backend,
            mode="generate",
            num_outputs=1,
            elapsed=0,
            estimated_time=ESTIMATE,
            progress=0,
        )

    assert first("foxapi") < first("demo")
    first("foxapi")
    assert reads == ["foxapi", "demo"]
    histories["foxapi"] = histories["demo"]
    clock.now += 59
    assert first("foxapi") < first("demo")
    clock.now += 1
    assert first("foxapi") == first("demo")
    assert reads == ["foxapi", "demo", "foxapi", "demo"]


def test_a_kind_with_few_finishes_goes_by_the_upstreams_window() -> None:
    edits = history(shares(0.3, 0.35, count=KIND_FINISHES - 1))
    generations = history(shares(0.95, 1.05))
    schedule = PollSchedule(
        lambda _backend: stored("generate", 1, generations) + stored("edit", 1, edits),
        clock=FakeClock(),
    )
    overall = learn_window(generations + edits)
    assert schedule.window("foxapi", "edit", 1) == overall
    assert schedule.window("foxapi", "generate", 4) == overall
    assert schedule.window("foxapi", "generate", 1) == learn_window(generations)


def test_a_tasks_likely_finish_is_where_its_progress_points_else_its_estimate() -> None:
    assert likely_finish(elapsed=10.0, estimated_time=60.0, progress=25) == 40.0
    assert likely_finish(elapsed=10.0, estimated_time=60.0, progress=0) == 60.0  # pending
    assert likely_finish(elapsed=70.0, estimated_time=60.0, progress=0) == 70.0  # overdue
    assert likely_finish(elapsed=30.0, estimated_time=60.0, progress=100) == 30.0  # done


def test_with_more_tasks_due_than_polls_can_go_the_likeliest_finishes_go_first() -> None:
    finishes = {"slow": 90.0, "nearly": 31.0, "halfway": 50.0, "late": 20.0}
    due = ["slow", "halfway", "nearly", "late", "results waiting"]

    assert most_likely_first(due, finishes, capacity=3) == ["results waiting", "late", "nearly"]
    assert most_likely_first(due, finishes, capacity=0) == []
    # With room for every one, every due task is polled.
    assert sorted(most_likely_first(due, finishes, capacity=10)) == sorted(due)


def test_when_crowded_a_task_about_to_finish_is_looked_at_every_beat() -> None:
    # 45 s estimate, progress says 96 % at 38.1 s: it finishes at about 39.7 s.
    about_to_finish = {"elapsed": 38.1, "estimated_time": 45.0, "progress": 96}
    crowded = next_poll_delay(**about_to_finish, crowded=True)
    alone = next_poll_delay(**about_to_finish)
    assert crowded < alone
    assert 38.1 + crowded == pytest.approx(41 * BEAT)  # the next beat
    assert 38.1 + alone == pytest.approx(40 * BEAT + DENSE_INTERVAL)
    # Far from its finish it waits its interval, crowded or not.
    far = {"elapsed": 12.0, "estimated_time": 45.0, "progress": 20}
    assert next_poll_delay(**far, crowded=True) == next_poll_delay(**far)
