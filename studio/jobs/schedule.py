"""When to ask FoxAPI about a task next.

FoxAPI's `estimated_time` and `progress` are evidence, not truth: true durations spread
widely around the estimate, and progress bars often follow the estimate rather than the
work. So the schedule learns from the studio's own history when this upstream's tasks
really finish, as shares of their estimate (per mode and image count), polls every
DENSE_INTERVAL seconds across the window where completion is still likely, and backs off
only once a task is past that window: truly overdue. Progress only ever stretches the
window, never narrows it.

When more tasks fall due than the request-rate cap can serve at once (many sent together),
the polls go first to the tasks most likely finished by now (`likely_finish`, from their
progress where they report one, else their estimate), and the rest wait their turn: the
cap's capacity goes where completions are. Without such a queue every due task is polled.

Pure: the history and the clock are handed in.
"""

from __future__ import annotations

import bisect
import math
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

DEFAULT_ESTIMATE = 30.0  # seconds, when FoxAPI gives no estimate
DENSE_INTERVAL = 1.9  # seconds between polls where completion is likely: p95 delay under 2 s
BEAT = DENSE_INTERVAL / 2  # every poll falls on a multiple of this since submission
LATE_PERCENT = 98  # the likely window ends at this percentile of past finishes
LOW_PERCENT = 2  # the beats up to this percentile of finishes are searched for its start
DENSITY_SAMPLES = 10  # at least this many finishes measure a density
PRIOR_WEIGHT = 10  # with little history, the window leans on PRIOR; it counts this many finishes
KIND_FINISHES = 20  # a kind with fewer goes by the upstream's window over all kinds
MAX_RATIO = 5.0  # past this share of the estimate a finish says more about us than FoxAPI
OVERDUE_GROWTH = 0.1  # each second past the window adds this much to the interval
MAX_INTERVAL = 15.0
RESULTS_PENDING_INTERVAL = 1.0  # "completed" without results yet: they follow within seconds
# Progress between these bounds forecasts a finish that can stretch the window. Near 100 it
# says nothing about when the last percent ends, and a stalled bar keeps forecasting later,
# so the forecast may stretch the window at most FORECAST_STRETCH times.
MIN_FORECAST_PROGRESS = 5
MAX_FORECAST_PROGRESS = 95
FORECAST_STRETCH = 2.0
HISTORY_SIZE = 200  # recent finishes read per upstream
REFRESH_SECONDS = 60.0  # how often the learned windows are read again


@dataclass(frozen=True)
class FinishWindow:
    """When tasks likely finish, as shares of their estimate: from `early` to `late`.

    The first poll comes no more than one dense interval after `early`, so that a task
    finishing right at the edge waits no longer than any other.
    """

    early: float
    late: float


# With no history: a task may finish anywhere from a fifth of its estimate to twice it.
PRIOR = FinishWindow(early=0.2, late=2.0)


@dataclass(frozen=True)
class Finish:
    """One finished task: its estimate, and how long after submission its results were seen."""

    estimated_time: float
    seen_after: float


def learn_window(finishes: Sequence[Finish]) -> FinishWindow:
    """The likely window from past finishes, leaning on PRIOR while they are few.

    Polls fall on beats, so each finish was seen on a beat, up to one interval after it
    happened, and whatever finished before a task's first poll was seen at that first poll.
    So the early edge cannot be read off the history: a first poll that came too late
    looks like many tasks finishing just then, and would never learn otherwise. Instead
    everything seen up to each of the lowest beats is spread back from it at the density of
    the finishes seen after it; the earliest place that reaches is the early edge. The late
    edge is read off the history.
    """
    usable = [
        finish
        for finish in finishes
        if finish.estimated_time > 0 and 0 < finish.seen_after <= MAX_RATIO * finish.estimated_time
    ]
    if not usable:
        return PRIOR
    late = _percentile(
        [finish.seen_after / finish.estimated_time for finish in usable], LATE_PERCENT
    )
    seen = sorted(finish.seen_after for finish in usable)
    # The beats of the lowest few finishes, and the next: when the first poll moved later,
    # a few finishes seen at the old one lie below the new first poll's catch.
    lowest = seen[: max(1, len(seen) * LOW_PERCENT // 100)]
    low_beats = sorted({round(after / BEAT) for after in lowest})
    above = [after for after in seen if round(after / BEAT) > low_beats[-1]]
    if above:
        low_beats.append(round(above[0] / BEAT))
    starts = []
    for beat in low_beats:
        poll = beat * BEAT
        caught = bisect.bisect_right(seen, poll + BEAT / 2)
        if caught == len(seen):
            # Nothing after it to measure a density by: look one interval earlier.
            starts.append(poll - 2 * DENSE_INTERVAL)
            continue
        # The density of the next finishes, at least as many as were caught.
        last = seen[min(len(seen), caught + max(caught, DENSITY_SAMPLES)) - 1]
        after = bisect.bisect_right(seen, last + BEAT / 2) - caught
        span = max(last - poll, DENSE_INTERVAL)
        # No further back than the span the density was measured over (when that is short,
        # the window may simply end there), yet always up to one interval earlier.
        starts.append(poll - min(caught * span / after, max(span, 2 * DENSE_INTERVAL)))
    estimate = statistics.median(finish.estimated_time for finish in usable)
    early = max(0.0, min(starts) / estimate)
    weight = PRIOR_WEIGHT / (len(usable) + PRIOR_WEIGHT)
    return FinishWindow(
        early=early + (PRIOR.early - early) * weight,
        late=max(early, late + (PRIOR.late - late) * weight),
    )


def _percentile(values: Sequence[float], percent: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def next_poll_delay(
    *,
    elapsed: float,
    estimated_time: float | None,
    progress: int,
    window: FinishWindow = PRIOR,
    crowded: bool = False,
) -> float:
    """Seconds to wait before the next poll of a task submitted `elapsed` seconds ago.

    `crowded`: more tasks are due than can be polled at once, so that polls go to the
    likeliest finishes first (`most_likely_first`) and a poll costs another task its turn,
    not another request. Then a task whose progress points to a finish within an interval
    of now is looked at every beat.
    """
    if progress >= 100:
        return RESULTS_PENDING_INTERVAL
    estimate = estimated_time if estimated_time and estimated_time > 0 else DEFAULT_ESTIMATE
    # Polls fall on beats since submission, so that past finishes (seen at polls) line up
    # on them whatever the window was when they ran: see learn_window. The first one comes
    # no more than one interval after the early edge, then one every interval.
    first_poll = max(1, math.floor((window.early * estimate + DENSE_INTERVAL) / BEAT)) * BEAT
    if elapsed < first_poll - BEAT / 2:
        return first_poll - elapsed
    if crowded and progress >= MIN_FORECAST_PROGRESS:
        forecast = elapsed * 100 / progress
        if abs(elapsed - forecast) <= DENSE_INTERVAL:
            return (round(elapsed / BEAT) + 1) * BEAT - elapsed
    overdue_from = window.late * estimate
    if MIN_FORECAST_PROGRESS <= progress <= MAX_FORECAST_PROGRESS:
        forecast = elapsed * 100 / progress
        overdue_from = max(overdue_from, min(forecast, FORECAST_STRETCH * overdue_from))
    overdue = elapsed - overdue_from
    if overdue <= 0:
        # One interval after the beat this poll fell on (it may have run a little late).
        return (round(elapsed / BEAT) * BEAT + DENSE_INTERVAL) - elapsed
    return min(MAX_INTERVAL, DENSE_INTERVAL + OVERDUE_GROWTH * overdue)


def likely_finish(*, elapsed: float, estimated_time: float | None, progress: int) -> float:
    """Seconds after submission at which a task most likely finishes, as known `elapsed`
    seconds after it: where its progress points (elapsed / progress), or with no progress
    yet to go by, its estimate. A task reporting 100 % is done but for its results."""
    if progress >= 100:
        return elapsed
    if progress >= MIN_FORECAST_PROGRESS:
        return elapsed * 100 / progress
    estimate = estimated_time if estimated_time and estimated_time > 0 else DEFAULT_ESTIMATE
    return max(elapsed, estimate)


def most_likely_first(
    due: Iterable[str], finishes: Mapping[str, float], capacity: int
) -> list[str]:
    """Which of the `due` tasks to poll now when only `capacity` polls can go: those whose
    likely finish (a moment, in `finishes`) comes first. A task with none known (a result
    waiting to be downloaded, a job just taken up) goes before any."""
    ordered = sorted(due, key=lambda task: finishes.get(task, -math.inf))
    return ordered[: max(0, capacity)]


# A finished task as the store lists it: mode, image count, estimated time, seen after.
StoredFinish = tuple[str, int, float, float]


class PollSchedule:
    """Poll delays for tasks of several upstreams, each learning from its own history.

    `history(backend)` returns that upstream's recent finishes, newest first. They are read
    again every `refresh_seconds` of `clock`. Safe to share between threads.
    """

    def __init__(
        self,
        history: Callable[[str], Iterable[StoredFinish]],
        *,
        clock: Callable[[], float] = time.monotonic,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        self._history = history
        self._clock = clock
        self._refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        # backend -> (when read, its window overall, its window per (mode, image count))
        self._learned: dict[
            str, tuple[float, FinishWindow, dict[tuple[str, int], FinishWindow]]
        ] = {}

    def next_delay(
        self,
        *,
        backend: str,
        mode: str,
        num_outputs: int,
        elapsed: float,
        estimated_time: float | None,
        progress: int,
        crowded: bool = False,
    ) -> float:
        return next_poll_delay(
            elapsed=elapsed,
            estimated_time=estimated_time,
            progress=progress,
            window=self.window(backend, mode, num_outputs),
            crowded=crowded,
        )

    def window(self, backend: str, mode: str, num_outputs: int) -> FinishWindow:
        """The likely window for this kind of task, or the upstream's when it is new."""
        now = self._clock()
        with self._lock:
            learned = self._learned.get(backend)
            if learned is None or now - learned[0] >= self._refresh_seconds:
                learned = (now, *_learn(self._history(backend)))
                self._learned[backend] = learned
        _, overall, per_kind = learned
        return per_kind.get((mode, num_outputs), overall)


def _learn(
    finishes: Iterable[StoredFinish],
) -> tuple[FinishWindow, dict[tuple[str, int], FinishWindow]]:
    """The upstream's window, and one for each kind with finishes enough to go by."""
    by_kind: dict[tuple[str, int], list[Finish]] = {}
    for mode, num_outputs, estimated_time, seen_after in finishes:
        by_kind.setdefault((mode, num_outputs), []).append(Finish(estimated_time, seen_after))
    overall = learn_window([finish for kind in by_kind.values() for finish in kind])
    per_kind = {
        kind: learn_window(kind_finishes)
        for kind, kind_finishes in by_kind.items()
        if len(kind_finishes) >= KIND_FINISHES
    }
    return overall, per_kind
