"""The Gallery with 50 and with 5,000 archived images: rerun time and server memory.

Run from the project root (it is a module, so `studio` imports without path tricks):

    python -m bench.gallery [--runs 30] [--large 5000]

Two temporary data folders each get a real SQLite store and a real archive, laid out as
the app opens them: one with 50 archived images, one with 5,000. Twelve distinct pictures
(the demo backend's drawings with photographic grain, so thumbnails weigh tens of kB like
real ones) go through `Archive.save` once each; done jobs of one to four images, made
with plain Store calls, then share those files, laid out so that the first page of the
gallery shows the same tiles at either size.

Rerun time: AppTest drives `app.py` onto the Gallery page (page 1, no filters) and
reruns it. AppTest runs the script on Streamlit's own `ScriptRunner`, the class a real
server runs each session's script on, so the bench times `ScriptRunner._run_script`
itself: the server-side work of one full rerun (page selection, app.py, the page, widget
bookkeeping), free of browser and network noise and of AppTest's own parsing of the
output (its round trip is printed too, for reference). What a real server adds on top,
serialising the deltas to the websocket, depends on the 24 tiles shown, not on the size
of the archive. The two stores take turns over five rounds (the app reopened on each
store, two warm-up runs, then a fifth of `--runs` timed reruns), so load from anything
else on the machine falls on both sizes alike; the figure is the median of all of them.
The script thread's CPU time is printed beside it: on a shared machine it shows how much
of a difference is the rerun's own work and how much is waiting for a core.

Memory: a real `streamlit run app.py` server (demo backend) on the large store, measured
with psutil (resident set of the server and any children). "Idle" is read after one
warm-up browser session has loaded the Gallery and closed; "loaded" after three more
sessions (Playwright contexts on Debian's Chromium) have each opened pages 1 to 10 by
clicking Next, read while those sessions are still connected. Each reading is the median
of several samples taken after a short settling pause.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import logging
import math
import os
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import streamlit as st
from PIL import Image
from streamlit import config
from streamlit.logger import set_log_level
from streamlit.runtime.scriptrunner.script_runner import ScriptRunner
from streamlit.testing.v1 import AppTest

from studio.archive import Archive
from studio.credentials import DEMO_KEY_ID
from studio.emulator import drawing
from studio.records import ArchivedFile
from studio.request import GenerationRequest
from studio.states import JobEvent
from studio.store import Store
from studio.task import Task, TaskStatus
from tests.browser.support import CHROMIUM_ARGS, streamlit_command

ROOT = Path(__file__).resolve().parent.parent
APP_FILE = ROOT / "app.py"
GALLERY_PAGE = "pages/gallery.py"
PAGE_SIZE = 24
SMALL = 50
ROUNDS = 5  # the sizes take turns, so passing load on the machine falls on both
WARM_UP_RUNS = 2
DISTINCT_PICTURES = 12
RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:2", "2:3")
OUTPUTS_CYCLE = (4, 2, 1, 3)  # images per job, in turn
SEED_OWNER = "bench-seed"
TARGET_RERUN_RATIO = 1.2
TARGET_MEMORY_RATIO = 1.5
SESSIONS = 3
PAGES_PER_SESSION = 10
START_TIMEOUT = 60.0  # seconds
BROWSER_TIMEOUT = 60_000  # ms
SETTLE_SECONDS = 3.0
SAMPLES = 5
CHROMIUM = "/usr/bin/chromium"
SUBJECTS = (
    "a red fox in fresh snow",
    "a lighthouse at dusk, watercolour",
    "an owl on a mossy branch",
    "a tram crossing a rainy city square",
    "a bowl of lemons on a blue cloth",
    "mountains above a quiet lake",
)


@dataclass(frozen=True)
class RerunFigures:
    images: int
    runs: int
    median: float  # seconds of wall clock per rerun
    fastest: float
    cpu_median: float  # seconds of CPU time in the script thread per rerun
    round_trip_median: float  # AppTest's whole run() call, for reference


@dataclass(frozen=True)
class MemoryFigures:
    idle: int  # bytes
    loaded: int
    after_close: int


# The store ------------------------------------------------------------------------


def pictures(archive: Archive) -> list[ArchivedFile]:
    """A handful of distinct archived pictures, each saved once through the archive."""
    saved = []
    for index in range(DISTINCT_PICTURES):
        ratio = RATIOS[index % len(RATIOS)]
        drawn = drawing.draw_generated(
            SUBJECTS[index % len(SUBJECTS)], index, drawing.result_size(ratio)
        )
        grain = Image.effect_noise(drawn.size, 40).convert("RGB")
        photo = Image.blend(drawn.convert("RGB"), grain, 0.25)
        saved.append(archive.save(drawing.encode(photo, "jpeg")))
    return saved


def jobs_plan(total: int) -> list[int]:
    """Images per job for `total` images, newest job first."""
    plan: list[int] = []
    left = total
    while left:
        outputs = min(OUTPUTS_CYCLE[len(plan) % len(OUTPUTS_CYCLE)], left)
        plan.append(outputs)
        left -= outputs
    return plan


def fill(store: Store, files: list[ArchivedFile], total: int) -> None:
    """Done jobs holding `total` archived images, made oldest first.

    A job's prompt, mode, ratio and pictures follow its place counted from the newest, so
    the first page of the gallery shows the same tiles in a store of any size.
    """
    plan = jobs_plan(total)
    newer_images = list(itertools.accumulate(plan, initial=0))  # images in newer jobs
    for rank in reversed(range(len(plan))):
        outputs = plan[rank]
        fields: dict[str, Any] = {"num_outputs": outputs}
        if rank % 5 == 4:
            fields["image_urls"] = [f"https://cdn.example.invalid/input/{rank}.png"]
        else:
            fields["aspect_ratio"] = RATIOS[rank % len(RATIOS)]
        prompt = f"{SUBJECTS[rank % len(SUBJECTS)]}, take {rank}"
        job = store.jobs.create_job(
            GenerationRequest.build(prompt=prompt, **fields),
            backend="demo",
            key_id=DEMO_KEY_ID,
            lease_owner=SEED_OWNER,
            lease_seconds=600,
        )
        task_id = f"task-bench-{job.id}"
        store.jobs.mark_submitted(
            job.id,
            JobEvent.TASK_PENDING,
            Task(id=task_id, status=TaskStatus.PENDING),
            owner=SEED_OWNER,
            lease_seconds=600,
        )
        urls = tuple(f"https://cdn.example.invalid/{task_id}/{n}.jpg" for n in range(outputs))
        store.jobs.record_results(
            job.id,
            Task(id=task_id, status=TaskStatus.COMPLETED, progress=100, result_urls=urls),
            owner=SEED_OWNER,
        )
        for image in store.work.pending_images(job.id):
            picture = files[(newer_images[rank] + image.position) % len(files)]
            store.work.archive_image(image.id, picture)
        store.jobs.finish_job(job.id, JobEvent.SAVED, owner=SEED_OWNER)


# Rerun time -----------------------------------------------------------------------


@dataclass(frozen=True)
class ScriptRun:
    seconds: float  # wall clock
    cpu_seconds: float  # CPU time of the script thread


@contextlib.contextmanager
def timed_script_runs() -> Iterator[list[ScriptRun]]:
    """Every ScriptRunner._run_script call made while the block runs, timed."""
    runs: list[ScriptRun] = []
    original: Callable[..., None] = ScriptRunner._run_script

    def timed(runner: ScriptRunner, rerun_data: Any) -> None:
        started, cpu_started = time.perf_counter(), time.thread_time()
        try:
            original(runner, rerun_data)
        finally:
            runs.append(ScriptRun(time.perf_counter() - started, time.thread_time() - cpu_started))

    ScriptRunner._run_script = timed  # type: ignore[method-assign]
    try:
        yield runs
    finally:
        ScriptRunner._run_script = original  # type: ignore[method-assign]


def gallery_app(images: int) -> AppTest:
    """AppTest on the Gallery's first page, checked to show it, after the warm-up runs."""
    app = AppTest.from_file(str(APP_FILE), default_timeout=START_TIMEOUT)
    app.run()
    app.switch_page(GALLERY_PAGE)
    app.run()
    if app.exception or len(app.image) != min(images, PAGE_SIZE):
        raise RuntimeError(f"The Gallery did not show its first page: {app.exception}")
    for _ in range(WARM_UP_RUNS):
        app.run()
    return app


def time_reruns(stores: dict[int, Path], runs: int) -> list[RerunFigures]:
    """Rerun the Gallery on each store in turn, over a few rounds.

    Taking turns puts passing load on the machine on both sizes alike. The app opens its
    studio on STUDIO_DATA_DIR, once per round and store.
    """
    script_runs: dict[int, list[ScriptRun]] = {images: [] for images in stores}
    round_trips: dict[int, list[float]] = {images: [] for images in stores}
    per_round = math.ceil(runs / ROUNDS)
    for _ in range(ROUNDS):
        for images, data_dir in stores.items():
            os.environ["STUDIO_DATA_DIR"] = str(data_dir)
            st.cache_resource.clear()  # the next run opens the studio on this store
            app = gallery_app(images)
            with timed_script_runs() as durations:
                for _ in range(per_round):
                    started = time.perf_counter()
                    app.run()
                    round_trips[images].append(time.perf_counter() - started)
            if app.exception or len(durations) != per_round:
                raise RuntimeError(f"A rerun went wrong: {app.exception}")
            script_runs[images] += durations
    st.cache_resource.clear()  # stops the studio's engine and demo backend
    return [
        RerunFigures(
            images=images,
            runs=len(script_runs[images]),
            median=statistics.median(run.seconds for run in script_runs[images]),
            fastest=min(run.seconds for run in script_runs[images]),
            cpu_median=statistics.median(run.cpu_seconds for run in script_runs[images]),
            round_trip_median=statistics.median(round_trips[images]),
        )
        for images in stores
    ]


# Memory ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def app_server(data_dir: Path, log_path: Path) -> Iterator[tuple[str, psutil.Process]]:
    """`streamlit run app.py` on a free port with the demo backend; its URL and process."""
    port = free_port()
    env = {
        **os.environ,
        "STUDIO_DATA_DIR": str(data_dir),
        "STUDIO_DATABASE_URL": "",
        "FOXAPI_API_KEY": "",  # ignore any secrets.toml: the demo backend
    }
    command = streamlit_command(port, APP_FILE)
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base_url}/_stcore/health", timeout=1).text == "ok":
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("The app did not start:\n" + log_path.read_text())
                time.sleep(0.2)
            yield base_url, psutil.Process(process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def resident_bytes(process: psutil.Process) -> int:
    """The settled resident set of the process and its children."""
    time.sleep(SETTLE_SECONDS)
    samples = []
    for _ in range(SAMPLES):
        members = [process, *process.children(recursive=True)]
        samples.append(sum(member.memory_info().rss for member in members))
        time.sleep(0.5)
    return int(statistics.median(samples))


def open_gallery_page(page: Any, base_url: str, number: int, pages: int) -> None:
    """Show page `number` of the grid: by URL for the first, by clicking Next after that."""
    from playwright.sync_api import expect

    main = page.get_by_test_id("stMain")
    if number == 1:
        page.goto(f"{base_url}/gallery?page=1")
    else:
        main.get_by_role("button", name="Next").click()
    expect(main).to_contain_text(f"Page {number} of {pages}", timeout=BROWSER_TIMEOUT)
    if number > 1 and f"page={number}" not in page.url:
        raise RuntimeError(f"The URL does not say page {number}: {page.url}")
    page.wait_for_function(
        """count => {
            const tiles = [...document.querySelectorAll('[data-testid="stMain"] img')]
                .filter(image => image.src.startsWith('data:'));
            return tiles.length >= count && tiles.every(image => image.complete);
        }""",
        arg=PAGE_SIZE,
        timeout=BROWSER_TIMEOUT,
    )


def measure_memory(data_dir: Path, log_path: Path, images: int) -> MemoryFigures:
    from playwright.sync_api import sync_playwright

    pages = math.ceil(images / PAGE_SIZE)
    with app_server(data_dir, log_path) as (base_url, process), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            warm_up = browser.new_context(viewport={"width": 1400, "height": 1000})
            open_gallery_page(warm_up.new_page(), base_url, 1, pages)
            warm_up.close()
            idle = resident_bytes(process)
            sessions = [
                browser.new_context(viewport={"width": 1400, "height": 1000})
                for _ in range(SESSIONS)
            ]
            for context in sessions:
                page = context.new_page()
                for number in range(1, PAGES_PER_SESSION + 1):
                    open_gallery_page(page, base_url, number, pages)
            loaded = resident_bytes(process)
            for context in sessions:
                context.close()
            after_close = resident_bytes(process)
        finally:
            browser.close()
    return MemoryFigures(idle=idle, loaded=loaded, after_close=after_close)


# Report ---------------------------------------------------------------------------


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def report(small: RerunFigures, large: RerunFigures, memory: MemoryFigures, seconds: float) -> None:
    print(
        f"Gallery page 1 (24 tiles, no filters); {small.runs} timed reruns per size in {ROUNDS} "
        f"alternating rounds, each after {WARM_UP_RUNS} warm-up runs; {seconds:.0f} s wall time."
    )
    print()
    header = ("images", "rerun median", "fastest", "CPU median", "AppTest round trip")
    print("{:>7} {:>13} {:>10} {:>11} {:>19}".format(*header))
    for row in (small, large):
        print(
            f"{row.images:>7,} {row.median * 1000:>10.1f} ms {row.fastest * 1000:>7.1f} ms"
            f" {row.cpu_median * 1000:>8.1f} ms {row.round_trip_median * 1000:>16.1f} ms"
        )
    print("Rerun: ScriptRunner._run_script, wall clock; CPU: the script thread's CPU time.")
    print()
    print(f"Server memory, {large.images:,} images, demo backend (RSS incl. children)")
    print(f"  idle, app loaded by one warm-up session: {megabytes(memory.idle):>9}")
    print(
        f"  {SESSIONS} sessions open, {PAGES_PER_SESSION} pages each:       "
        f"{megabytes(memory.loaded):>9}"
    )
    print(f"  after those sessions closed:             {megabytes(memory.after_close):>9}")
    rerun_ratio = large.median / small.median
    cpu_ratio = large.cpu_median / small.cpu_median
    memory_ratio = memory.loaded / memory.idle
    print()
    print("Targets")
    print(
        f"  {large.images:,}-image rerun {large.median * 1000:.1f} ms = "
        f"{rerun_ratio:.2f}x the {small.images}-image rerun "
        f"({small.median * 1000:.1f} ms) <= {TARGET_RERUN_RATIO:g}x: "
        f"{verdict(rerun_ratio <= TARGET_RERUN_RATIO)}"
    )
    print(f"    (CPU time in the script thread: {cpu_ratio:.2f}x)")
    print(
        f"  memory with {SESSIONS} sessions {megabytes(memory.loaded)} = {memory_ratio:.2f}x idle "
        f"({megabytes(memory.idle)}) <= {TARGET_MEMORY_RATIO:g}x: "
        f"{verdict(memory_ratio <= TARGET_MEMORY_RATIO)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Gallery rerun time and server memory.")
    parser.add_argument("--runs", type=int, default=30, help="timed reruns per size")
    parser.add_argument("--large", type=int, default=5000, help="images in the large store")
    arguments = parser.parse_args()
    enough = PAGE_SIZE * PAGES_PER_SESSION
    if arguments.runs < 1 or arguments.large < enough:
        parser.error(f"--runs must be at least 1 and --large at least {enough}.")
    if not Path(CHROMIUM).exists():
        parser.error(f"The memory measurement drives Chromium, expected at {CHROMIUM}.")
    started = time.monotonic()
    # Opening the studio outside a script run makes Streamlit warn, harmlessly, and the
    # demo backend's uvicorn logs through Streamlit's loggers: keep the output to figures.
    config.set_option("logger.level", "error")
    set_log_level(logging.ERROR)
    # AppTest runs the app in this process, which reads its settings from the environment.
    os.environ["STUDIO_DATABASE_URL"] = ""
    os.environ["FOXAPI_API_KEY"] = ""  # the demo backend
    with tempfile.TemporaryDirectory(prefix="bench-gallery-") as folder:
        stores = {SMALL: Path(folder) / "small", arguments.large: Path(folder) / "large"}
        for images, data_dir in stores.items():
            # The layout the app opens: studio.db and images/ in the data folder.
            store = Store(f"sqlite:///{data_dir / 'studio.db'}")
            archive = Archive(data_dir / "images")
            files = pictures(archive)
            fill(store, files, images)
            store.close()
        small, large = time_reruns(stores, arguments.runs)
        log_path = Path(folder) / "server.log"
        memory = measure_memory(stores[arguments.large], log_path, arguments.large)
    report(small, large, memory, time.monotonic() - started)


if __name__ == "__main__":
    main()
