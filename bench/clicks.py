"""The click's POST on the real key path: from a click to its POST reaching FoxAPI, with
100 jobs in flight whose polls fill the key's request slots; and how much of the cap
the studio uses when saturated. Today's release and this tree (and another) side by side.

Run from the project root, after `git worktree add /tmp/release c4ad47b`:

    python -m bench.clicks [--release /tmp/release] [--before /tmp/main] [--jobs 100]
                          [--clicks 20] [--rounds 2]

A FoxAPI stand-in (the emulator, requiring a key, as FoxAPI does) runs in this process;
each version's studio runs in a process of its own (bench/clicks_server.py, its own code,
`FOXAPI_API_KEY` set, so the key's shared request slots are used where the version has
them), on its own data folder (SQLite). Its tasks say they take 10 s and truly take ten
minutes, so every job stays in flight and its polls are always due: more than the cap
serves. The studio sends `--jobs` jobs, waits 10 s, then sends `--clicks` more one at a
time (a person clicking Generate). Printed, from the emulator's log: the wait from the
click's call to its POST's arrival (median, p95, worst), the requests per second FoxAPI
received while saturated against the cap (target: at least 90%, the rest being the slots'
arrival margin, studio.jobs.ratelimit.ARRIVAL_MARGIN), and the busiest second
[t, t + 1) (never above the cap). Versions take turns, `--rounds` times, the order
flipping each round.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.support import (
    DEFAULT_RELEASE_FOLDER,
    Version,
    compared_versions,
    version_environment,
)
from studio.emulator import EmulatorConfig, RunningEmulator, start_emulator

KEY = "sk-bench-click-5d2f"
CAP = 5.0  # requests per second: the default STUDIO_MAX_REQUESTS_PER_SECOND
SETTLE_SECONDS = 10.0
SAID_SECONDS = 10.0  # what each task says it takes...
TRUE_SECONDS = 600.0  # ...and what it takes
SERVER_SCRIPT = Path(__file__).resolve().parent / "clicks_server.py"
GENERATIONS = "/v1/images/generations"
TARGET_WAIT = 0.3  # seconds from click to POST, p95
TARGET_CAP_USED = 0.90


@dataclass
class Figures:
    waits: list[float] = field(default_factory=list)  # seconds, click to POST arrival
    rates: list[float] = field(default_factory=list)  # requests/s while saturated
    busiest: int = 0  # most requests in any second


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def busiest_second(times: list[float]) -> int:
    """The most requests in any one second [t, t + 1) (times sorted)."""
    return max(
        (bisect.bisect_left(times, start + 1.0) - index for index, start in enumerate(times)),
        default=0,
    )


def run_once(
    version: Version, upstream: RunningEmulator, folder: Path, jobs: int, clicks: int
) -> tuple[list[float], float, int]:
    upstream.config = EmulatorConfig(
        estimated_time=SAID_SECONDS,
        duration_plan=[TRUE_SECONDS] * (jobs + clicks),
        api_key=KEY,
        seed=7,
    )
    upstream.log.clear()
    data_dir = Path(tempfile.mkdtemp(dir=folder, prefix=f"{version.name}-"))
    out = data_dir / "clicks.json"
    environment = version_environment(
        version,
        data_dir,
        FOXAPI_API_KEY=KEY,
        FOXAPI_BASE_URL=upstream.base_url,
        STUDIO_MAX_REQUESTS_PER_SECOND=str(CAP),
    )
    command = [sys.executable, str(SERVER_SCRIPT), str(jobs), str(clicks), str(SETTLE_SECONDS)]
    subprocess.run([*command, str(out)], cwd=version.root, env=environment, check=True)
    result = json.loads(out.read_text())
    arrivals = {
        entry.body["prompt"]: entry.received_at  # type: ignore[index]
        for entry in upstream.log
        if entry.method == "POST" and entry.path == GENERATIONS
    }
    waits = [arrivals[prompt] - called for prompt, called in result["called"].items()]
    start, end = result["window"]
    times = sorted(e.received_at for e in upstream.log if e.path.startswith("/v1/"))
    inside = [t for t in times if start <= t <= end]
    rate = (len(inside) - 1) / (inside[-1] - inside[0]) if len(inside) > 1 else float("nan")
    return waits, rate, busiest_second(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--release", type=Path, default=DEFAULT_RELEASE_FOLDER)
    parser.add_argument("--before", type=Path, help="another tree to compare, e.g. main")
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args()
    chosen = compared_versions(arguments.release, arguments.before)
    figures = {version.name: Figures() for version in chosen}
    upstream = start_emulator(EmulatorConfig(api_key=KEY))
    try:
        with tempfile.TemporaryDirectory(prefix="bench-click-") as folder:
            for round_ in range(arguments.rounds):
                for version in chosen if round_ % 2 == 0 else reversed(chosen):
                    waits, rate, busiest = run_once(
                        version, upstream, Path(folder), arguments.jobs, arguments.clicks
                    )
                    found = figures[version.name]
                    found.waits += waits
                    found.rates.append(rate)
                    found.busiest = max(found.busiest, busiest)
                    print(
                        f"  {version.name} round {round_ + 1}: click to POST p95 "
                        f"{percentile(waits, 0.95):.3f} s, {rate:.2f} requests/s",
                        flush=True,
                    )
    finally:
        upstream.stop()
    report(chosen, figures, arguments)


def report(
    chosen: list[Version], figures: dict[str, Figures], arguments: argparse.Namespace
) -> None:
    names = [version.name for version in chosen]
    print(
        f"bench.clicks: {arguments.jobs} jobs in flight through a FoxAPI key (emulator with a "
        f"required key), {arguments.clicks} clicks x {arguments.rounds} rounds per version, "
        f"cap {CAP:g} requests/s"
    )
    ratios = [f"this/{name}" for name in names[:-1]]
    widths = [30, *([10] * len(names)), *([13] * len(ratios))]
    header = ["figure", *names, *ratios]
    print("  ".join(f"{text:<{width}}" for text, width in zip(header, widths, strict=True)))
    rows = (
        ("click to POST, median (s)", lambda f: statistics.median(f.waits)),
        ("click to POST, p95 (s)", lambda f: percentile(f.waits, 0.95)),
        ("click to POST, worst (s)", lambda f: max(f.waits)),
        ("requests/s while saturated", lambda f: statistics.median(f.rates)),
        ("  share of the cap", lambda f: statistics.median(f.rates) / CAP),
        ("busiest second (requests)", lambda f: float(f.busiest)),
    )
    for title, read in rows:
        values = [read(figures[name]) for name in names]
        cells = [
            title,
            *(f"{value:.3f}" for value in values),
            *(f"{values[-1] / value:.2f}x" if value else "n/a" for value in values[:-1]),
        ]
        print("  ".join(f"{text:<{width}}" for text, width in zip(cells, widths, strict=True)))
    this = figures[names[-1]]
    p95, share = percentile(this.waits, 0.95), statistics.median(this.rates) / CAP
    print(
        f"targets (this tree): click to POST p95 under {TARGET_WAIT:g} s: "
        f"{'met' if p95 < TARGET_WAIT else 'NOT MET'}; cap used at least "
        f"{TARGET_CAP_USED:.0%}: {'met' if share >= TARGET_CAP_USED else 'NOT MET'}; "
        f"never above the cap: {'met' if this.busiest <= CAP else 'NOT MET'}"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
