"""Ten Gallery tabs with eight jobs in flight: server CPU per tab, and how far the progress
on screen trails the store. Today's release and main side by side, in one run.

Run from the project root, after `git worktree add /tmp/release c4ad47b`:

    python -m bench.live [--release /tmp/release] [--seconds 60]

For each version in turn: a real server (`streamlit run app.py`) against the emulator in
this process, whose tasks report `estimated_time` 120 s and truly take 600 s, so the jobs
stay in flight throughout (the emulator's progress follows the true duration). One tab
sends eight jobs from the Generate page and closes; ten tabs, each its own context (its
own Streamlit session) in one Chromium, open the Gallery and wait until they show the
eight jobs' progress bars. Then, for `--seconds`:
- server CPU: user + system time of the server process (psutil) over the window, divided
  by the ten tabs and scaled to a minute. Today each tab reruns its in-flight cards in a
  fragment every second; on main the browser polls the progress route and the page
  reruns only when a job leaves flight. The engine polling FoxAPI is part of both; the
  same CPU is read for 15 s after the tabs close, with the jobs still in flight, to show
  its share.
- lag: twice a second one tab in turn (all ten over the window) reads every progress
  bar's aria-valuenow; a thread reads each job's progress from the store (SQLite, read
  only) every 100 ms. A bar that shows the store's current value is 0 s behind; one that
  shows an older value is behind by the time since the store moved past it.
Targets: main's CPU per tab per minute at most 1/8 of today's; the bar never more than
2 s behind the store (worst sample).
"""

from __future__ import annotations

import argparse
import bisect
import sqlite3
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from bench.support import (
    DEFAULT_RELEASE_FOLDER,
    EMULATOR_KEY,
    TODAY,
    Row,
    Server,
    Version,
    print_table,
    seed,
    send_generation,
    studio_server,
    versions,
)
from studio.emulator import EmulatorConfig, RunningEmulator, start_emulator
from tests.browser.support import CHROMIUM_ARGS, VIEWPORT, wait_until_idle

CHROMIUM = "/usr/bin/chromium"
TABS = 10
JOBS = 8
ESTIMATED_SECONDS = 120.0
TRUE_SECONDS = 600.0  # far longer than a version's whole run: no job leaves flight
GALLERY_IMAGES = 50
SETTLE_SECONDS = 3.0
ENGINE_ONLY_SECONDS = 15.0
STORE_SAMPLE_SECONDS = 0.1
PAGE_SAMPLE_SECONDS = 0.5
UI_TIMEOUT = 90_000  # ms; ten tabs opening on a busy two-core machine
PROMPT = "bench-job-{number}: a lighthouse at dusk, watercolour"
IN_FLIGHT = ("submitting", "queued", "running", "downloading")
TARGET_CPU_SHARE = 1 / 8
TARGET_LAG_SECONDS = 2.0
# Each progress bar in the main area, with the job whose card holds it: the nearest
# ancestor (through shadow roots) whose text names one job.
BARS_SCRIPT = """bars => bars.map(bar => {
    let node = bar;
    while (node) {
        const found = (node.textContent || "").match(/bench-job-(\\d+)/g);
        if (found && new Set(found).size === 1) {
            return [Number(found[0].slice(10)), Number(bar.getAttribute("aria-valuenow"))];
        }
        node = node.parentNode || node.host;
    }
    return [-1, Number(bar.getAttribute("aria-valuenow"))];
})"""


@dataclass
class StoreWatch:
    """Each job's progress in the store over time, read every 100 ms from its own thread."""

    database: Path
    history: dict[int, list[tuple[float, int]]] = field(default_factory=dict)
    in_flight: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=5)
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                rows = connection.execute("SELECT prompt, progress, status FROM jobs").fetchall()
                flying = 0
                for prompt, progress, status in rows:
                    if not prompt.startswith("bench-job-"):
                        continue
                    flying += status in IN_FLIGHT
                    number = int(prompt.removeprefix("bench-job-").partition(":")[0])
                    seen = self.history.setdefault(number, [])
                    if not seen or seen[-1][1] != progress:
                        seen.append((now, int(progress)))
                self.in_flight = flying
                time.sleep(STORE_SAMPLE_SECONDS)
        finally:
            connection.close()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def behind(self, number: int, moment: float, shown: int) -> float | None:
        """Seconds the store had moved past `shown` at `moment`; None if it never held it."""
        changes = self.history.get(number, [])
        times = [when for when, _ in changes]
        index = bisect.bisect_right(times, moment) - 1
        if index < 0:
            return None
        if changes[index][1] == shown:
            return 0.0
        for earlier in range(index - 1, -1, -1):
            if changes[earlier][1] == shown:
                return moment - changes[earlier + 1][0]
        return None


@dataclass(frozen=True)
class LiveFigures:
    cpu_per_tab_minute: float  # seconds of server CPU
    engine_only_per_minute: float  # seconds of server CPU with no tab open
    lags: list[float]  # seconds, one per bar sample
    unmatched: int  # samples whose value the store never held
    samples: int
    store_changes: int
    in_flight: tuple[int, int]  # jobs in flight when the window opened, and when it closed
    phases: dict[str, float]  # seconds each step of the run took


def send_jobs(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(UI_TIMEOUT)
    expect.set_options(timeout=UI_TIMEOUT)
    page = context.new_page()
    try:
        page.goto(server.base_url)
        wait_until_idle(page, UI_TIMEOUT)
        for number in range(JOBS):
            send_generation(page, PROMPT.format(number=number))
    finally:
        context.close()


def open_gallery_tabs(browser: Browser, server: Server) -> list[tuple[BrowserContext, Page]]:
    tabs = []
    for _ in range(TABS):
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(UI_TIMEOUT)
        page = context.new_page()
        # Not waiting for "load": on a busy machine a tab of today's release, among others
        # rerunning every second, can take longer than the timeout to fire it. The bars are
        # waited for below.
        page.goto(f"{server.base_url}/gallery", wait_until="commit")
        tabs.append((context, page))
    for _, page in tabs:
        bars = page.get_by_test_id("stMain").get_by_role("progressbar")
        expect(bars.first).to_be_visible(timeout=UI_TIMEOUT)
        deadline = time.monotonic() + UI_TIMEOUT / 1000
        while len({number for number, _ in bars.evaluate_all(BARS_SCRIPT)}) < JOBS:
            if time.monotonic() > deadline:
                raise RuntimeError("A Gallery tab does not show the eight jobs in flight.")
            time.sleep(0.5)
    return tabs


def measure(browser: Browser, server: Server, data_dir: Path, seconds: float) -> LiveFigures:
    phases: dict[str, float] = {}
    step = time.monotonic()
    send_jobs(browser, server)
    phases["send jobs"], step = time.monotonic() - step, time.monotonic()
    tabs = open_gallery_tabs(browser, server)
    phases["open tabs"] = time.monotonic() - step
    watch = StoreWatch(data_dir / "studio.db")
    watch.start()
    time.sleep(SETTLE_SECONDS)
    in_flight_at_start = watch.in_flight
    lags: list[float] = []
    unmatched = samples = 0
    cpu_started, started = server.cpu_seconds(), time.monotonic()
    turn = 0
    while time.monotonic() - started < seconds:
        _, page = tabs[turn % TABS]
        turn += 1
        before = time.monotonic()
        shown = page.get_by_test_id("stMain").get_by_role("progressbar").evaluate_all(BARS_SCRIPT)
        moment = (before + time.monotonic()) / 2
        for number, value in dict(shown).items():  # one bar per job: its slots agree
            samples += 1
            lag = watch.behind(number, moment, value)
            if lag is None:
                unmatched += 1
            else:
                lags.append(lag)
        time.sleep(max(0.0, PAGE_SAMPLE_SECONDS - (time.monotonic() - before)))
    elapsed = time.monotonic() - started
    cpu = server.cpu_seconds() - cpu_started
    in_flight_at_end = watch.in_flight
    for context, _ in tabs:
        context.close()
    time.sleep(SETTLE_SECONDS)
    engine_started, engine_cpu = time.monotonic(), server.cpu_seconds()
    time.sleep(ENGINE_ONLY_SECONDS)
    engine_only = (server.cpu_seconds() - engine_cpu) * 60 / (time.monotonic() - engine_started)
    watch.stop()
    return LiveFigures(
        cpu_per_tab_minute=cpu / TABS * 60 / elapsed,
        engine_only_per_minute=engine_only,
        lags=lags,
        unmatched=unmatched,
        samples=samples,
        store_changes=sum(len(changes) - 1 for changes in watch.history.values()),
        in_flight=(in_flight_at_start, in_flight_at_end),
        phases=phases,
    )


def run_version(
    version: Version, emulator: RunningEmulator, browser: Browser, folder: Path, seconds: float
) -> LiveFigures:
    emulator.config = EmulatorConfig(
        estimated_time=ESTIMATED_SECONDS,
        duration_plan=[TRUE_SECONDS] * JOBS,
        api_key=EMULATOR_KEY,
        seed=7,
    )
    data_dir = folder / version.name
    seed(version, data_dir, GALLERY_IMAGES, "jpeg")
    log = folder / f"{version.name}.log"
    with studio_server(version, data_dir, log, upstream=emulator.base_url) as server:
        return measure(browser, server, data_dir, seconds)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def report(figures: dict[str, LiveFigures], seconds: float, wall: float) -> None:
    today, main = figures["today"], figures["main"]
    print(
        f"bench.live: today = {TODAY}, main = this tree; {TABS} Gallery tabs, {JOBS} jobs in "
        f"flight, {seconds:.0f} s measured per version; {wall:.0f} s wall time"
    )
    for name, row in figures.items():
        print(
            f"  {name}: {row.samples} bar samples ({row.unmatched} showing a value the store "
            f"never held), {row.store_changes} progress changes in the store, "
            f"jobs in flight when the window opened and closed: {row.in_flight}; "
            + ", ".join(f"{step} {took:.0f} s" for step, took in row.phases.items())
        )
    print_table(
        "Live progress",
        [
            Row(
                "server CPU per tab per minute",
                today.cpu_per_tab_minute,
                main.cpu_per_tab_minute,
                "s",
                "main <= 1/8 of today (0.125x)",
                main.cpu_per_tab_minute <= TARGET_CPU_SHARE * today.cpu_per_tab_minute,
            ),
            Row(
                "  server CPU per minute, no tab open",
                today.engine_only_per_minute,
                main.engine_only_per_minute,
                "s",
                "(the engine's share)",
                True,
            ),
            Row(
                "progress behind the store, median",
                statistics.median(today.lags) if today.lags else float("nan"),
                statistics.median(main.lags) if main.lags else float("nan"),
                "s",
                "",
                True,
            ),
            Row(
                "progress behind the store, p95",
                percentile(today.lags, 0.95),
                percentile(main.lags, 0.95),
                "s",
                "",
                True,
            ),
            Row(
                "progress behind the store, worst",
                max(today.lags, default=float("nan")),
                max(main.lags, default=float("nan")),
                "s",
                f"main <= {TARGET_LAG_SECONDS:g} s",
                max(main.lags, default=float("inf")) <= TARGET_LAG_SECONDS,
            ),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--release", type=Path, default=DEFAULT_RELEASE_FOLDER)
    parser.add_argument("--seconds", type=float, default=60.0)
    arguments = parser.parse_args()
    both = versions(arguments.release)
    started = time.monotonic()
    figures: dict[str, LiveFigures] = {}
    emulator = start_emulator(EmulatorConfig(api_key=EMULATOR_KEY, seed=7))
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-live-") as folder,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
            try:
                for version in both:
                    figures[version.name] = run_version(
                        version, emulator, browser, Path(folder), arguments.seconds
                    )
            finally:
                browser.close()
    finally:
        emulator.stop()
    report(figures, arguments.seconds, time.monotonic() - started)


if __name__ == "__main__":
    main()
