"""components.live_progress: what the browser gets to draw jobs in flight between page runs.

The drawing itself (placeholders, bars, ticking time) happens in the browser and is
tested there (tests/browser); here, what the page hands it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from components import submission
from studio.runtime import Studio
from studio.states import JobStatus
from tests.app_support import (
    APP_FILE,
    GALLERY,
    RUN_TIMEOUT,
    handed_over,
    open_app,
    open_app_studio,
    seed_job,
)

MARKUP = "**bold** <img src=x onerror=alert(1)>"


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Studio]:
    yield from open_app_studio(tmp_path, monkeypatch)


def _handed_over(app: AppTest) -> list[dict[str, Any]]:
    """What each live area on the page gives the browser."""
    return handed_over(app, "live_progress")


def test_the_browser_gets_each_job_in_flight_with_its_shape_words_and_times(
    studio: Studio,
) -> None:
    running = seed_job(studio.store, MARKUP, progress=45, aspect_ratio="16:9", num_outputs=2)
    seed_job(studio.store, "a fox waiting its turn", status=JobStatus.QUEUED)

    app = open_app(GALLERY)

    [area] = _handed_over(app)
    assert area["poll"] == 1000  # asks the progress route once a second
    assert area["url"].startswith("/api/progress/all?")  # the gallery follows every job
    shown = {job["id"]: job for job in area["jobs"]}
    drawing = shown[running.id]
    assert drawing["prompt"] == MARKUP  # set as text by the browser, never as HTML
    assert drawing["settings"] == "Text to image · 16:9 · Auto · 2 images"
    assert (drawing["images"], drawing["width"], drawing["height"]) == (2, 1408, 768)
    assert (drawing["words"], drawing["progress"], drawing["in_flight"]) == (
        "Generating 45 %",
        45,
        True,
    )
    assert drawing["estimated"] == 45
    assert drawing["elapsed"] >= 0


def test_a_page_following_its_own_jobs_asks_only_for_those(studio: Studio) -> None:
    mine = seed_job(studio.store, "a fox I sent", progress=10)
    seed_job(studio.store, "a fox someone else sent", progress=20)
    app = AppTest.from_file(str(APP_FILE), default_timeout=RUN_TIMEOUT)
    app.session_state[submission.recent_jobs.key] = [mine.id]

    app.run()

    [area] = _handed_over(app)
    assert area["url"].startswith(f"/api/progress/{mine.id}?")
    assert [job["id"] for job in area["jobs"]] == [mine.id]


def test_no_job_in_flight_means_no_live_area(studio: Studio) -> None:
    seed_job(studio.store, "a fox that failed", status=JobStatus.FAILED)

    app = open_app(GALLERY)

    assert _handed_over(app) == []
