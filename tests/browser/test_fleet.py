"""A shared deployment, all real parts: two `streamlit run app.py` servers and the command
line on one PostgreSQL and one S3 bucket (moto) against one emulator.

Ten jobs go through each server's Generate page (Chromium) and ten through `python -m
studio generate` while the servers work; one server is killed with SIGKILL while its jobs
are still running. Every job is POSTed once, every image is one object in the bucket, and
both servers' galleries list every image. (The key's shared rate cap is proven in
test_jobs_engine.py, where nothing else loads the emulator's thread: here, the browser and
three processes on two cores delay when the emulator notes a request's arrival.)
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from components.gallery_view import PAGE_SIZE
from studio.emulator import EmulatorConfig, RunningEmulator, start_emulator
from studio.records import GalleryFilter
from studio.states import JobStatus
from studio.store import Store
from tests.browser.support import (
    _STUDIO_VARIABLES,
    PROJECT_ROOT,
    StudioServer,
    generate_button,
    new_tab,
    open_page,
    toast,
    wait_until_idle,
)
from tests.conftest import EMULATOR_KEY, S3_PREFIX
from tests.s3_support import S3Server

pytestmark = pytest.mark.browser

JOBS_PER_SENDER = 10
CAP = 5  # requests per second for the one key, across every process
SENT_MS = 15_000  # a sent job's toast shows within this on a busy machine
CLI_TIMEOUT = 60  # seconds for one `python -m studio generate`
FINISH_TIMEOUT = 60.0  # seconds, after the last job is sent, for every job to be done


@pytest.fixture
def fleet_emulator() -> Iterator[RunningEmulator]:
    # Tasks of about 3 s: a server killed right after sending still has jobs running.
    running = start_emulator(
        EmulatorConfig(estimated_time=3.0, duration_spread=0.2, api_key=EMULATOR_KEY, seed=7)
    )
    yield running
    running.stop()


@pytest.fixture
def fleet_environment(
    fleet_emulator: RunningEmulator, postgres_url: str, bucket: str, tmp_path: Path
) -> dict[str, str]:
    """What every process of the deployment reads: one database, one bucket, one key."""
    environment = {
        name: value for name, value in os.environ.items() if not _STUDIO_VARIABLES.match(name)
    }
    environment.update(
        FOXAPI_API_KEY=EMULATOR_KEY,
        FOXAPI_BASE_URL=fleet_emulator.base_url,
        STUDIO_DATABASE_URL=postgres_url,
        STUDIO_STORAGE_URL=f"s3://{bucket}/{S3_PREFIX}",
        STUDIO_URL_SECRET="one-secret-for-the-whole-deployment",
        STUDIO_MAX_REQUESTS_PER_SECOND=str(CAP),
    )
    return environment


@pytest.fixture
def servers(fleet_environment: dict[str, str], tmp_path: Path) -> Iterator[list[StudioServer]]:
    """Servers on the shared settings, each with a data folder of its own (nothing in it
    is shared: the store and the images are elsewhere); stopped afterwards."""
    started: list[StudioServer] = []

    try:
        for name in ("server-a", "server-b"):
            folder = tmp_path / name
            server = StudioServer(
                folder,
                fleet_environment | {"STUDIO_DATA_DIR": str(folder)},
                tmp_path / f"{name}.log",
            )
            started.append(server)
            server.start()
        yield started
    finally:
        for server in started:
            server.stop()


def send(page: Page, prompt: str, upstream: RunningEmulator) -> None:
    """Press Generate with `prompt` once and wait until it was sent: its toast shows, or
    its POST reached the upstream (a toast that came and went while the page was busy)."""
    wait_until_idle(page)
    page.get_by_role("textbox", name="Prompt", exact=True).fill(prompt)
    generate_button(page).click()
    try:
        expect(toast(page, "Sent").filter(has_text=prompt)).to_have_count(1, timeout=SENT_MS)
    except AssertionError:
        assert prompt in posted_prompts(upstream), f"pressing Generate never sent {prompt!r}"


def posted_prompts(upstream: RunningEmulator) -> Counter[str]:
    """How many generation POSTs the upstream received with each prompt."""
    return Counter(
        entry.body["prompt"]  # type: ignore[index]
        for entry in upstream.log
        if entry.method == "POST" and entry.path == "/v1/images/generations"
    )


def run_command_line(environment: dict[str, str], folder: Path, prompts: list[str]) -> list[str]:
    """`python -m studio generate` for each prompt, one process at a time; their failures."""
    failures = []
    for prompt in prompts:
        finished = subprocess.run(
            [sys.executable, "-m", "studio", "generate", prompt],
            cwd=PROJECT_ROOT,
            env=environment | {"STUDIO_DATA_DIR": str(folder)},
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        if finished.returncode != 0:
            failures.append(f"{prompt}: {finished.stdout}{finished.stderr}")
    return failures


def gallery_prompts(page: Page, server: StudioServer, total: int) -> list[str]:
    """The alt text (the prompt) of every image on every page of a server's gallery."""
    prompts: list[str] = []
    for number in range(1, math.ceil(total / PAGE_SIZE) + 1):
        open_page(page, server.url(f"/gallery?page={number}"), "Gallery")
        images = page.get_by_test_id("stMain").get_by_role("img")
        expect(images).to_have_count(min(PAGE_SIZE, total - len(prompts)))
        prompts += [str(image.get_attribute("alt")) for image in images.all()]
    return prompts


def test_two_servers_and_the_command_line_share_one_database_and_bucket(
    servers: list[StudioServer],
    page: Page,
    chromium: Browser,
    fleet_emulator: RunningEmulator,
    fleet_environment: dict[str, str],
    postgres_url: str,
    bucket: str,
    s3_server: S3Server,
    tmp_path: Path,
) -> None:
    server_a, server_b = servers
    prompts = {
        sender: [f"Fleet {sender} lantern {n}" for n in range(JOBS_PER_SENDER)]
        for sender in ("A", "B", "CLI")
    }
    everyone = [prompt for sent in prompts.values() for prompt in sent]
    command_line_failures: list[str] = []
    command_line = threading.Thread(
        target=lambda: command_line_failures.extend(
            run_command_line(fleet_environment, tmp_path / "cli", prompts["CLI"])
        )
    )
    tab_a = page  # photographed if the test fails
    context_b, tab_b, _console = new_tab(chromium)
    try:
        open_page(tab_a, server_a.url("/"), "Generate")
        open_page(tab_b, server_b.url("/"), "Generate")
        command_line.start()
        for prompt_a, prompt_b in zip(prompts["A"], prompts["B"], strict=True):
            send(tab_b, prompt_b, fleet_emulator)
            send(tab_a, prompt_a, fleet_emulator)
        # Server A's last jobs are still running upstream when it dies.
        server_a.stop(signal.SIGKILL)
        store = Store(postgres_url)
        orphaned = [
            job for job in store.jobs.jobs() if job.in_flight and job.prompt in prompts["A"]
        ]
        assert orphaned, "server A had finished every job before it was killed"
        command_line.join(timeout=CLI_TIMEOUT * JOBS_PER_SENDER)
        assert command_line_failures == []

        # Server B (and the command line while it ran) take over A's jobs and finish them.
        try:
            expect_all_done(store, everyone)
            archived = store.gallery.gallery(GalleryFilter(), limit=100, offset=0)
        finally:
            store.close()

        # Every job POSTed exactly once.
        assert posted_prompts(fleet_emulator) == Counter(everyone)
        # Every image archived, as exactly one object (one version) in the bucket.
        assert sorted(item.job.prompt for item in archived) == sorted(everyone)
        versions = s3_server.versions(bucket)
        assert [key for key, count in Counter(versions).items() if count > 1] == []
        originals = {f"{S3_PREFIX}/{item.image.file_path}" for item in archived}
        assert len(originals) == len(everyone)
        assert originals <= set(versions)

        # Both servers' galleries list every image: B, and A started again.
        server_a.start()
        assert sorted(gallery_prompts(tab_a, server_a, len(everyone))) == sorted(everyone)
        assert sorted(gallery_prompts(tab_b, server_b, len(everyone))) == sorted(everyone)
    finally:
        context_b.close()
        command_line.join(timeout=CLI_TIMEOUT)


def expect_all_done(store: Store, prompts: list[str]) -> None:
    deadline = time.monotonic() + FINISH_TIMEOUT
    while True:
        jobs = store.jobs.jobs(limit=1000)
        states = Counter(job.status for job in jobs)
        if len(jobs) == len(prompts) and states == Counter({JobStatus.DONE: len(prompts)}):
            return
        assert time.monotonic() < deadline, f"jobs not done after {FINISH_TIMEOUT} s: {states}"
        time.sleep(0.5)
