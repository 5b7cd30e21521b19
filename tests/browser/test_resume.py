"""A server stopped with a job in flight finishes that job when it starts again."""

from __future__ import annotations

import signal
import time

import pytest
from playwright.sync_api import Page, expect

from studio.emulator import RunningEmulator
from tests.browser.support import (
    JOB_TIMEOUT,
    StudioServers,
    images_named,
    open_page,
    send_generation,
    stored_jobs,
)
from tests.conftest import posts

pytestmark = pytest.mark.browser

PROMPT = "A harbour at night, boats with lanterns"
TASK_SECONDS = 5.0  # long enough that the job is still in flight when the server stops


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_job_in_flight_finishes_after_a_restart_without_a_second_post(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator, how: signal.Signals
) -> None:
    upstream.config.duration_plan = [TASK_SECONDS]
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    send_generation(page, PROMPT, count=2)
    expect(page.get_by_role("progressbar").first).to_be_visible()

    exit_code = server.stop(how)

    # uvicorn shuts down gracefully on SIGTERM, then re-raises it: both end "by signal".
    assert exit_code == -how
    assert [job.in_flight for job in stored_jobs(server.data_dir)] == [True]
    server = studio_servers.start(server.data_dir)
    # The restarted server finishes the job on its own, before any browser connects.
    deadline = time.monotonic() + JOB_TIMEOUT / 1000
    while any(job.in_flight for job in stored_jobs(server.data_dir)):
        assert time.monotonic() < deadline, "the job did not finish without a browser"
        time.sleep(0.2)
    open_page(page, server.url("/gallery"), "Gallery")
    expect(images_named(page, PROMPT)).to_have_count(2, timeout=JOB_TIMEOUT)
    expect(page.get_by_text("Needs attention")).to_have_count(0)
    assert len(posts(upstream)) == 1
