"""Poll schedules when the estimate is wrong, and a submission's wait behind queued polls.

Run from the project root (it is a module, so `studio` imports without path tricks):

    python -m bench.polling [--tasks 400] [--seeds 20] [--skip-submit]
    python -m bench.polling --emulator [--tasks 24] [--scale 1.0]

**Three regimes, simulated.** FoxAPI says every task takes `estimate` seconds; the true
durations are drawn uniformly within ±spread of it (5 s ±20 %, 20 s ±40 %, 60 s ±80 %),
and `progress` follows the ESTIMATE, not the truth (0 while pending for the first tenth of
the estimate, then elapsed / estimate, held at 99 % until done), as hosted services'
progress bars often do. Tasks arrive at random, about four in flight at a time. Each
strategy gets the same tasks:

- today's schedule: a copy of the `next_poll_delay` the engine used before this change;
- the new schedule: `studio.jobs.schedule.PollSchedule`, learning from the finishes it has seen,
  exactly as the engine feeds it from the store. Its first tasks run on the prior alone,
  so it is printed for the first 25 tasks, and after a warm-up of 100 (the targets);
- fixed 2 s: GET at submission and every 2 s after, no limiter (the naive baseline).

The two schedules run on a discrete-event simulation of the engine's loop with its limits:
a job is worked on when it falls due, by one of the engine's 4 workers, and every request
(submissions included) takes a slot of the process-wide limiter at 5 requests/s; results
are downloaded the moment a poll sees them. Due jobs take the workers first come first
served: the engine's ranking of crowded polls by likely finish is not modelled, as at about
four tasks in flight more than four are seldom due at once (--emulator measures the real
engine, ranking included). The clock is simulated: the run is
deterministic for a seed and takes a fraction of a second. Delay = true completion to
the first download of the results. The table is for seed 1; the worst case of the new
schedule over `--seeds` workloads follows it.

**Submission wait.** 100 polls queue on the limiter (5 requests/s, through a real
`FoxAPIClient` on a mock transport), then one generation POST is sent; the wait is from
the call to the moment the POST reaches the transport. Today's limiter (a copy: first come
first served) against the new one (a POST goes first). Real threads and real time, ~45 s.

**--emulator** keeps the earlier benchmark: the real engine against a real emulator (whose
progress tracks the true durations), 24 tasks sent at once, so more polls fall due than
the limiter serves and the engine ranks them (studio.jobs.schedule.most_likely_first), with
durations 0.6x to 1.4x of 45 s, beside
fixed 1, 2 and 5 s polling loops; figures from the emulator's request log. `--scale 0.2`
shrinks every duration and interval fivefold; delays are divided back.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from studio.archive import Archive
from studio.credentials import Backend, Credentials
from studio.emulator import EmulatorConfig, LoggedRequest, start_emulator
from studio.jobs.engine import Engine
from studio.jobs.foxapi import GENERATIONS_PATH, FoxAPIClient
from studio.jobs.ratelimit import Priority, RateLimiter
from studio.jobs.schedule import HISTORY_SIZE, PollSchedule, StoredFinish
from studio.request import GenerationRequest
from studio.settings import DEFAULTS
from studio.store import Store

TARGET_P95_DELAY = 2.0  # seconds
TARGET_SUBMIT_WAIT = 0.5  # seconds
KEY = "sk-bench-polling"
RATE = DEFAULTS.studio_max_requests_per_second


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


@dataclass(frozen=True)
class Figures:
    strategy: str
    gets_per_task: float
    median_delay: float
    p95_delay: float
    max_delay: float


def figures(strategy: str, gets: Sequence[int], delays: Sequence[float]) -> Figures:
    return Figures(
        strategy=strategy,
        gets_per_task=statistics.mean(gets),
        median_delay=statistics.median(delays),
        p95_delay=statistics.quantiles(delays, n=20, method="inclusive")[-1],
        max_delay=max(delays),
    )


def print_table(rows: Sequence[Figures]) -> None:
    header = ("strategy", "GETs/task", "median delay", "p95 delay", "max delay")
    print("  {:<28} {:>9} {:>13} {:>10} {:>10}".format(*header))
    for row in rows:
        print(
            f"  {row.strategy:<28} {row.gets_per_task:>9.2f} {row.median_delay:>11.2f} s"
            f" {row.p95_delay:>8.2f} s {row.max_delay:>8.2f} s"
        )


# Today's schedule, kept as the baseline ---------------------------------------------

TODAY_DEFAULT_ESTIMATE = 30.0
TODAY_FIRST_LOOK = 0.5
TODAY_APPROACH = 0.75
TODAY_NEAR_WINDOW = 2.0
TODAY_NEAR_INTERVAL = 1.0
TODAY_OVERDUE_AFTER = 1.5
TODAY_OVERDUE_GROWTH = 0.25
TODAY_MAX_INTERVAL = 15.0
TODAY_MIN_FORECAST_PROGRESS = 5


def today_next_poll_delay(*, elapsed: float, estimated_time: float | None, progress: int) -> float:
    """The engine's schedule before it learned from history (a verbatim copy)."""
    estimate = estimated_time if estimated_time and estimated_time > 0 else TODAY_DEFAULT_ESTIMATE
    if progress < TODAY_MIN_FORECAST_PROGRESS:
        if elapsed < TODAY_FIRST_LOOK * estimate:
            return TODAY_FIRST_LOOK * estimate - elapsed
        forecast = estimate
    elif progress >= 100:
        forecast = elapsed
    else:
        forecast = elapsed * 100 / progress
    remaining = forecast - elapsed
    if remaining > TODAY_NEAR_WINDOW:
        return min(TODAY_MAX_INTERVAL, max(TODAY_NEAR_INTERVAL, remaining * TODAY_APPROACH))
    overdue = elapsed - max(forecast + TODAY_NEAR_WINDOW, TODAY_OVERDUE_AFTER * estimate)
    if overdue <= 0:
        return TODAY_NEAR_INTERVAL
    return min(TODAY_MAX_INTERVAL, TODAY_NEAR_INTERVAL + TODAY_OVERDUE_GROWTH * overdue)


# The simulated regimes --------------------------------------------------------------

TASKS = 400
COLD_TASKS = 25  # the new schedule's first tasks, with little or no history
WARM_UP = 100  # tasks before the new schedule's figures count against the targets
IN_FLIGHT = 4  # tasks in flight on average
WORKERS = 4  # the engine's pool
PENDING_SHARE = 0.1  # of the estimate, while the task reads "pending" at 0 %
MODE, IMAGES, BACKEND = "generate", 1, "foxapi"
TODAY, NEW, FIXED = "today's schedule", "new schedule", "fixed 2 s"
FIXED_INTERVAL = 2.0


@dataclass(frozen=True)
class Regime:
    estimate: float  # seconds
    spread: float  # true durations within ±spread of the estimate, as a share of it
    target_get_ratio: float  # the new schedule's GETs per task, at most this times fixed 2 s

    def __str__(self) -> str:
        return f"estimate {self.estimate:g} s ±{self.spread:.0%}"


REGIMES = (Regime(5.0, 0.2, 0.7), Regime(20.0, 0.4, 0.5), Regime(60.0, 0.8, 0.9))


@dataclass(frozen=True)
class SimulatedTask:
    arrives: float
    duration: float


def workload(regime: Regime, tasks: int, seed: int) -> list[SimulatedTask]:
    dice = random.Random(f"{seed}:{regime}")
    low, high = regime.estimate * (1 - regime.spread), regime.estimate * (1 + regime.spread)
    mean_gap = regime.estimate / IN_FLIGHT
    arrives, result = 0.0, []
    for _ in range(tasks):
        arrives += dice.expovariate(1 / mean_gap)
        result.append(SimulatedTask(arrives, dice.uniform(low, high)))
    return result


def progress_by_estimate(elapsed: float, estimate: float) -> int:
    """What the upstream reports for a task not yet done: the estimate's clock, not the work."""
    if elapsed < PENDING_SHARE * estimate:
        return 0
    return min(99, max(1, int(100 * elapsed / estimate)))


class SimulatedClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# (elapsed, progress) -> seconds until the next poll
NextDelay = Callable[[float, int], float]
# The strategy for one run: given the run's clock and its store of finishes.
MakeNextDelay = Callable[[SimulatedClock, list[tuple[float, StoredFinish]]], NextDelay]


def today_strategy(estimate: float) -> MakeNextDelay:
    def make(_clock: SimulatedClock, _finishes: list[tuple[float, StoredFinish]]) -> NextDelay:
        return lambda elapsed, progress: today_next_poll_delay(
            elapsed=elapsed, estimated_time=estimate, progress=progress
        )

    return make


def new_strategy(estimate: float) -> MakeNextDelay:
    def make(clock: SimulatedClock, finishes: list[tuple[float, StoredFinish]]) -> NextDelay:
        def history(_backend: str) -> list[StoredFinish]:
            # As the store answers: the newest submissions first, HISTORY_SIZE of them.
            newest = sorted(finishes, key=lambda entry: entry[0], reverse=True)
            return [finish for _, finish in newest[:HISTORY_SIZE]]

        schedule = PollSchedule(history, clock=clock)
        return lambda elapsed, progress: schedule.next_delay(
            backend=BACKEND,
            mode=MODE,
            num_outputs=IMAGES,
            elapsed=elapsed,
            estimated_time=estimate,
            progress=progress,
        )

    return make


def simulate_engine(
    tasks: Sequence[SimulatedTask], estimate: float, make_next_delay: MakeNextDelay
) -> tuple[list[int], list[float]]:
    """GETs and delay per task, through the engine's loop, workers and limiter."""
    clock = SimulatedClock()
    finishes: list[tuple[float, StoredFinish]] = []
    next_delay = make_next_delay(clock, finishes)
    interval = 1 / RATE
    next_slot = 0.0
    workers_free = [0.0] * WORKERS
    submitted = [0.0] * len(tasks)
    gets = [0] * len(tasks)
    delays = [math.nan] * len(tasks)
    # (when, order, task index, is a submission); order keeps ties first come first served
    events = [(task.arrives, index, index, True) for index, task in enumerate(tasks)]
    heapq.heapify(events)
    order = len(tasks)
    while events:
        when, _, index, submission = heapq.heappop(events)
        if submission:
            # Sent from the page's own thread, not a worker; it still takes a limiter slot.
            slot = max(when, next_slot)
        else:
            worker = min(range(WORKERS), key=workers_free.__getitem__)
            slot = max(when, workers_free[worker], next_slot)
            workers_free[worker] = slot
        next_slot = slot + interval
        clock.now = slot
        if submission:
            submitted[index] = slot
            delay = next_delay(0.0, 0)
        else:
            gets[index] += 1
            elapsed = slot - submitted[index]
            if elapsed >= tasks[index].duration:
                delays[index] = elapsed - tasks[index].duration
                finishes.append((submitted[index], (MODE, IMAGES, estimate, elapsed)))
                continue
            delay = next_delay(elapsed, progress_by_estimate(elapsed, estimate))
        order += 1
        heapq.heappush(events, (slot + delay, order, index, False))
    return gets, delays


def simulate_fixed(tasks: Sequence[SimulatedTask]) -> tuple[list[int], list[float]]:
    """A plain loop per task: GET at submission and every FIXED_INTERVAL after."""
    gets, delays = [], []
    for task in tasks:
        polls_after_submission = math.ceil(task.duration / FIXED_INTERVAL)
        gets.append(1 + polls_after_submission)
        delays.append(polls_after_submission * FIXED_INTERVAL - task.duration)
    return gets, delays


def run_regime(regime: Regime, tasks: int, seeds: int) -> None:
    work = workload(regime, tasks, 1)
    today = simulate_engine(work, regime.estimate, today_strategy(regime.estimate))
    new = simulate_engine(work, regime.estimate, new_strategy(regime.estimate))
    fixed = simulate_fixed(work)
    warm = slice(WARM_UP, None)
    rows = [
        figures(TODAY, today[0][warm], today[1][warm]),
        figures(f"{NEW}, first {COLD_TASKS} tasks", new[0][:COLD_TASKS], new[1][:COLD_TASKS]),
        figures(NEW, new[0][warm], new[1][warm]),
        figures(FIXED, fixed[0][warm], fixed[1][warm]),
    ]
    low, high = regime.estimate * (1 - regime.spread), regime.estimate * (1 + regime.spread)
    print(
        f"{regime}: true durations {low:g} to {high:g} s, progress follows the estimate; "
        f"{tasks} tasks (seed 1), figures for tasks {WARM_UP + 1} to {tasks} unless marked"
    )
    print_table(rows)
    today_row, new_row, fixed_row = rows[0], rows[2], rows[3]
    ratio = new_row.gets_per_task / fixed_row.gets_per_task
    print(
        f"  new p95 {new_row.p95_delay:.2f} s <= {TARGET_P95_DELAY:g} s: "
        f"{verdict(new_row.p95_delay <= TARGET_P95_DELAY)} (today's {today_row.p95_delay:.2f} s, "
        f"fixed 2 s {fixed_row.p95_delay:.2f} s)"
    )
    print(
        f"  new GETs/task = {ratio:.2f}x fixed 2 s <= {regime.target_get_ratio:g}x: "
        f"{verdict(ratio <= regime.target_get_ratio)}; "
        f"{new_row.gets_per_task / today_row.gets_per_task:.2f}x today's "
        f"(today's = {today_row.gets_per_task / fixed_row.gets_per_task:.2f}x fixed 2 s)"
    )
    if seeds > 1:
        worst_ratio, worst_p95 = 0.0, 0.0
        for seed in range(1, seeds + 1):
            work = workload(regime, tasks, seed)
            gets, delays = simulate_engine(work, regime.estimate, new_strategy(regime.estimate))
            row = figures(NEW, gets[warm], delays[warm])
            fixed_gets = simulate_fixed(work)[0][warm]
            worst_ratio = max(worst_ratio, row.gets_per_task / statistics.mean(fixed_gets))
            worst_p95 = max(worst_p95, row.p95_delay)
        passed = worst_p95 <= TARGET_P95_DELAY and worst_ratio <= regime.target_get_ratio
        print(
            f"  worst of seeds 1 to {seeds}: new p95 {worst_p95:.2f} s, "
            f"GETs/task {worst_ratio:.2f}x fixed 2 s: {verdict(passed)}"
        )
    print()


# Submission wait behind queued polls ------------------------------------------------

QUEUED_POLLS = 100
QUEUE_SETTLE = 0.5  # seconds for the poll threads to take their places before the POST
TASK_ANSWER = {
    "id": "task-unified-1757165031-bench000",
    "status": "pending",
    "progress": 0,
    "task_info": {"can_cancel": True, "estimated_time": 20},
}


class TodaysLimiter(RateLimiter):
    """The limiter before priorities (a copy): every caller in arrival order."""

    def __init__(self, rate_per_second: float) -> None:
        super().__init__(rate_per_second)
        self._fifo_lock = threading.Lock()
        self._next_free_slot: float | None = None

    def acquire(self, priority: Priority = Priority.NORMAL) -> None:
        with self._fifo_lock:
            now = time.monotonic()
            slot = now if self._next_free_slot is None else max(now, self._next_free_slot)
            self._next_free_slot = slot + 1.0 / RATE
        wait = slot - now
        if wait > 0:
            time.sleep(wait)


def submit_wait(limiter: RateLimiter) -> float:
    """Seconds from a submit call to its POST leaving, with QUEUED_POLLS polls queued first."""
    post_left = threading.Event()
    post_left_at = 0.0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal post_left_at
        if request.method == "POST" and request.url.path == GENERATIONS_PATH:
            post_left_at = time.monotonic()
            post_left.set()
        return httpx.Response(200, json=TASK_ANSWER)

    with (
        FoxAPIClient(KEY, transport=httpx.MockTransport(answer), limiter=limiter) as client,
        ThreadPoolExecutor(max_workers=QUEUED_POLLS) as pool,
    ):
        polls = [pool.submit(client.get_task, TASK_ANSWER["id"]) for _ in range(QUEUED_POLLS)]
        time.sleep(QUEUE_SETTLE)
        clicked = time.monotonic()
        client.submit(GenerationRequest.build(prompt="bench submission"))
        wait = post_left_at - clicked
        for poll in polls:
            poll.result()
    return wait


def run_submit_wait() -> None:
    print(f"Submission wait: {QUEUED_POLLS} polls queued on the limiter ({RATE:g} requests/s)")
    before = submit_wait(TodaysLimiter(RATE))
    after = submit_wait(RateLimiter(RATE))
    print(f"  today's limiter (arrival order): the POST left {before:.2f} s after the click")
    print(f"  new limiter (POST first):        the POST left {after:.2f} s after the click")
    print(
        f"  new <= {TARGET_SUBMIT_WAIT:g} s: {verdict(after <= TARGET_SUBMIT_WAIT)} "
        f"({after / before:.3f}x today's)"
    )


# The real engine against the real emulator (--emulator) ---------------------------

ESTIMATE = 45.0  # seconds the emulator reports as estimated_time (unscaled)
SHORTEST, LONGEST = 0.6, 1.4  # true durations as shares of the estimate
FIXED_INTERVALS = (1.0, 2.0, 5.0)  # seconds (unscaled)
ENGINE = "engine schedule"
GRACE = 30.0  # seconds (unscaled) past the longest task before the run is called stuck


def fixed_name(interval: float) -> str:
    return f"fixed {interval:g} s"


def prompt(strategy: str, index: int) -> str:
    return f"bench {strategy} #{index}"


def planned_durations(tasks: int, scale: float) -> list[float]:
    """True durations in seconds, evenly spaced from SHORTEST to LONGEST times the estimate."""
    step = (LONGEST - SHORTEST) / (tasks - 1)
    return [ESTIMATE * scale * (SHORTEST + step * index) for index in range(tasks)]


def poll_fixed(client: FoxAPIClient, task_id: str, interval: float) -> None:
    """GET the task every `interval` seconds; download its results the moment they show."""
    next_poll = time.monotonic()
    while True:
        task = client.get_task(task_id)
        if task.succeeded:
            for url in task.result_urls:
                client.download(url)
            return
        if task.failed:
            raise RuntimeError(f"Task {task_id} failed: {task.error_message}")
        next_poll += interval
        time.sleep(max(0.0, next_poll - time.monotonic()))


def wait_for_engine(store: Store, job_ids: list[str], deadline: float) -> None:
    while any(store.jobs.job(job_id).in_flight for job_id in job_ids):
        if time.monotonic() > deadline:
            raise RuntimeError("The engine did not finish every job in time.")
        time.sleep(0.2)


def run_workload(tasks: int, scale: float) -> tuple[dict[str, list[str]], list[LoggedRequest]]:
    """Submit every strategy's tasks, let them finish; return task ids and the request log."""
    durations = planned_durations(tasks, scale)
    strategies = [ENGINE, *(fixed_name(interval) for interval in FIXED_INTERVALS)]
    # Submissions go round-robin over the strategies, so the plan repeats each duration.
    config = EmulatorConfig(
        estimated_time=ESTIMATE * scale,
        duration_plan=[duration for duration in durations for _ in strategies],
        api_key=KEY,
    )
    task_ids: dict[str, list[str]] = {strategy: [] for strategy in strategies}
    with tempfile.TemporaryDirectory() as folder, start_emulator(config) as emulator:
        store = Store(f"sqlite:///{Path(folder) / 'studio.db'}")
        engine = Engine(store.jobs, store.work, Archive(Path(folder) / "images"))
        credentials = Credentials(Backend.DEMO, emulator.base_url, KEY)
        clients = [FoxAPIClient(KEY, emulator.base_url) for _ in FIXED_INTERVALS]
        pollers: list[Future[None]] = []
        job_ids: list[str] = []
        engine.start()
        try:
            with ThreadPoolExecutor(max_workers=tasks * len(FIXED_INTERVALS)) as pool:
                for index in range(tasks):
                    job = engine.submit(
                        GenerationRequest.build(prompt=prompt(ENGINE, index)), credentials
                    )
                    job_ids.append(job.id)
                    task_ids[ENGINE].append(job.task_id or "")
                    for interval, client in zip(FIXED_INTERVALS, clients, strict=True):
                        name = fixed_name(interval)
                        request = GenerationRequest.build(prompt=prompt(name, index))
                        task = client.submit(request)
                        task_ids[name].append(task.id)
                        pollers.append(pool.submit(poll_fixed, client, task.id, interval * scale))
                deadline = time.monotonic() + max(durations) + GRACE * scale
                wait_for_engine(store, job_ids, deadline)
                for poller in pollers:
                    poller.result()
        finally:
            engine.stop()
            store.close()
            for client in clients:
                client.close()
        return task_ids, list(emulator.log)


def measure(
    strategy: str,
    task_ids: list[str],
    log: list[LoggedRequest],
    durations: list[float],
    scale: float,
) -> Figures:
    submitted = {
        entry.body["prompt"]: entry.received_at
        for entry in log
        if entry.method == "POST" and isinstance(entry.body, dict) and "prompt" in entry.body
    }
    gets: list[int] = []
    delays: list[float] = []
    for index, task_id in enumerate(task_ids):
        polls = [entry for entry in log if entry.path == f"/v1/tasks/{task_id}"]
        downloads = [entry for entry in log if entry.path.startswith(f"/cdn/results/{task_id}/")]
        gets.append(sum(1 for entry in polls if entry.method == "GET"))
        completed = submitted[prompt(strategy, index)] + durations[index]
        first_download = min(entry.received_at for entry in downloads)
        delays.append((first_download - completed) / scale)
    return figures(strategy, gets, delays)


def run_emulator(tasks: int, scale: float) -> None:
    started = time.monotonic()
    task_ids, log = run_workload(tasks, scale)
    durations = planned_durations(tasks, scale)
    rows = [measure(strategy, ids, log, durations, scale) for strategy, ids in task_ids.items()]
    shown = planned_durations(tasks, 1.0)
    print(
        f"{tasks} tasks per strategy, estimate {ESTIMATE:g} s, true durations "
        f"{shown[0]:.1f} to {shown[-1]:.1f} s evenly spaced, progress tracking them, "
        f"scale {scale:g}, {time.monotonic() - started:.0f} s wall time."
    )
    print(f"Delays: true completion to first result download, in unscaled s (/ {scale:g}).")
    print("Fixed strategies: a plain loop per task with no rate limiter (the naive baseline).")
    print(f"The engine sends through its process-wide limiter ({RATE:g} requests/s).")
    print("The engine starts from an empty store: its schedule has no history to learn from.")
    if scale != 1.0:
        print("Scaled run: the schedule's intervals and the limiter stay in real seconds, so")
        print("the engine's delays read longer than they would at scale 1.")
    print_table(rows)
    engine = next(row for row in rows if row.strategy == ENGINE)
    fixed_two = next(row for row in rows if row.strategy == fixed_name(2.0))
    print(
        f"  engine p95 {engine.p95_delay:.2f} s <= {TARGET_P95_DELAY:g} s: "
        f"{verdict(engine.p95_delay <= TARGET_P95_DELAY)}; GETs/task "
        f"{engine.gets_per_task / fixed_two.gets_per_task:.2f}x fixed 2 s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Poll schedules and submission priority.")
    parser.add_argument("--tasks", type=int, help=f"tasks per regime (default {TASKS})")
    parser.add_argument(
        "--seeds", type=int, default=20, help="simulated workloads the worst case is taken over"
    )
    parser.add_argument("--skip-submit", action="store_true", help="skip the ~45 s wait bench")
    parser.add_argument(
        "--emulator", action="store_true", help="the real engine against the real emulator"
    )
    parser.add_argument("--scale", type=float, default=1.0, help="--emulator's time scale")
    arguments = parser.parse_args()
    if arguments.emulator:
        tasks = arguments.tasks or 24
        if tasks < 2 or arguments.scale <= 0:
            parser.error("--tasks must be at least 2 and --scale above 0.")
        run_emulator(tasks, arguments.scale)
        return
    tasks = arguments.tasks or TASKS
    if tasks <= WARM_UP + 1:
        parser.error(f"--tasks must be above {WARM_UP + 1} (the first {WARM_UP} warm up).")
    for regime in REGIMES:
        run_regime(regime, tasks, arguments.seeds)
    if not arguments.skip_submit:
        run_submit_wait()


if __name__ == "__main__":
    main()
