"""The engine's poll schedule against fixed-interval polling, on one workload in one run.

Run from the project root (it is a module, so `studio` imports without path tricks):

    python -m bench.polling [--tasks 24] [--scale 1.0]

One real emulator says every task takes 45 s; the true durations are spread evenly from
0.6x to 1.4x of that (the emulator's `duration_plan`). Each strategy gets its own N tasks
with the same durations, and all of them run at once:

- the engine: the real `studio.engine.Engine` on a fresh temporary store and archive;
- fixed 1 s, 2 s and 5 s: a plain loop per task that GETs the task at that interval and
  downloads the results as soon as it sees them. No rate limiter: the naive baseline.

Everything is measured from the emulator's request log: GETs of /v1/tasks/{id} per task,
and the delay from a task's true completion (when its POST arrived plus its planned
duration) to the first request for its results on the CDN. `--scale 0.2` shrinks every
duration and interval fivefold; delays are then divided by the scale, so they read in
unscaled seconds. Default scale takes about 70 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from studio.archive import Archive
from studio.credentials import Backend, Credentials
from studio.emulator import EmulatorConfig, LoggedRequest, start_emulator
from studio.engine import Engine
from studio.foxapi import FoxAPIClient
from studio.request import GenerationRequest
from studio.store import Store

ESTIMATE = 45.0  # seconds the emulator reports as estimated_time (unscaled)
SHORTEST, LONGEST = 0.6, 1.4  # true durations as shares of the estimate
FIXED_INTERVALS = (1.0, 2.0, 5.0)  # seconds (unscaled)
ENGINE = "engine schedule"
TARGET_P95_DELAY = 2.0  # seconds
TARGET_GET_RATIO = 0.6  # of the GETs fixed 2 s polling spends
KEY = "sk-bench-polling"
GRACE = 30.0  # seconds (unscaled) past the longest task before the run is called stuck


@dataclass(frozen=True)
class Figures:
    strategy: str
    gets_per_task: float
    median_delay: float
    p95_delay: float
    max_delay: float


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
    while any(store.job(job_id).in_flight for job_id in job_ids):
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
        engine = Engine(store, Archive(Path(folder) / "images"))
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
    return Figures(
        strategy=strategy,
        gets_per_task=statistics.mean(gets),
        median_delay=statistics.median(delays),
        p95_delay=statistics.quantiles(delays, n=20, method="inclusive")[-1],
        max_delay=max(delays),
    )


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def report(figures: list[Figures], tasks: int, scale: float, seconds: float) -> None:
    durations = planned_durations(tasks, 1.0)
    print(
        f"{tasks} tasks per strategy, estimate {ESTIMATE:g} s, true durations "
        f"{durations[0]:.1f} to {durations[-1]:.1f} s evenly spaced, scale {scale:g}, "
        f"{seconds:.0f} s wall time."
    )
    print(
        f"Delays: true completion to first result download, in unscaled s (measured / {scale:g})."
    )
    print()
    header = ("strategy", "GETs/task", "median delay", "p95 delay", "max delay")
    print("{:<16} {:>9} {:>13} {:>10} {:>10}".format(*header))
    for row in figures:
        print(
            f"{row.strategy:<16} {row.gets_per_task:>9.1f} {row.median_delay:>11.2f} s"
            f" {row.p95_delay:>8.2f} s {row.max_delay:>8.2f} s"
        )
    print()
    print("Fixed strategies: a plain loop per task with no rate limiter (the naive baseline).")
    print("The engine sends through its process-wide limiter (5 requests/s).")
    if scale != 1.0:
        print("Scaled run: the schedule's 1 s near-finish interval and the 5 requests/s limiter")
        print("stay in real seconds, so the engine's delays read longer than at scale 1.")
    engine = next(row for row in figures if row.strategy == ENGINE)
    fixed_two = next(row for row in figures if row.strategy == fixed_name(2.0))
    ratio = engine.gets_per_task / fixed_two.gets_per_task
    print()
    print("Targets")
    real = f" ({engine.p95_delay * scale:.2f} s real)" if scale != 1.0 else ""
    print(
        f"  engine p95 delay {engine.p95_delay:.2f} s{real} <= {TARGET_P95_DELAY:g} s: "
        f"{verdict(engine.p95_delay <= TARGET_P95_DELAY)}"
    )
    print(
        f"  engine GETs/task {engine.gets_per_task:.1f} = {ratio:.2f}x fixed 2 s "
        f"({fixed_two.gets_per_task:.1f}) <= {TARGET_GET_RATIO:g}x: "
        f"{verdict(ratio <= TARGET_GET_RATIO)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Engine poll schedule vs fixed polling.")
    parser.add_argument("--tasks", type=int, default=24, help="tasks per strategy (at least 2)")
    parser.add_argument("--scale", type=float, default=1.0, help="time scale, e.g. 0.25")
    arguments = parser.parse_args()
    if arguments.tasks < 2 or arguments.scale <= 0:
        parser.error("--tasks must be at least 2 and --scale above 0.")
    started = time.monotonic()
    task_ids, log = run_workload(arguments.tasks, arguments.scale)
    durations = planned_durations(arguments.tasks, arguments.scale)
    figures = [
        measure(strategy, ids, log, durations, arguments.scale)
        for strategy, ids in task_ids.items()
    ]
    report(figures, arguments.tasks, arguments.scale, time.monotonic() - started)


if __name__ == "__main__":
    main()
