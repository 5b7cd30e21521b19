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

from studio.runtime import Runtime
from studio.states import JobStatus
from tests.app_support import (
    GALLERY,
    handed_over,
    open_app,
    open_app_studio,
    seed_job,
)

MARKUP = "**bold** <img src=x onerror=alert(1)>"


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def _handed_over(app: AppTest) -> list[dict[str, Any]]:
    """What each live area on the page gives the browser."""
    return handed_over(app, "live_progress")


def test_the_browser_gets_each_job_in_flight_with_its_shape_words_and_times(
    studio: Runtime,
) -> None:
    running = seed_job(studio.store, MARKUP, progress=45, aspect_ratio="16:9", num_outputs=2)
    seed_job(studio.store, "a fox waiting its turn", status=JobStatus.QUEUED)

    app = open_app(GALLERY)

    [area] = _handed_over(app)
    assert area["poll"] == 1000  # asks the progress route once a second
    assert area["url"].startswith("/api/progress/all?")  # the gallery follows every job
    assert area["everyJob"]  # so a job sent from another tab shows there too
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


def test_each_card_of_the_feed_shows_its_own_job_and_all_share_one_request(
    studio: Runtime,
) -> None:
    older = seed_job(studio.store, "an older fox", progress=10)
    newer = seed_job(studio.store, "a newer fox", progress=20)

    app = open_app()

    areas = _handed_over(app)
    assert [[job["id"] for job in area["jobs"]] for area in areas] == [[newer.id], [older.id]]
    # One request a second for the page, answering for both cards' jobs.
    [url] = {area["url"] for area in areas}
    assert url.split("?")[0] == f"/api/progress/{newer.id},{older.id}"
    assert not any(area["everyJob"] for area in areas)  # another card's new job is no news


def test_no_job_in_flight_means_no_live_area(studio: Runtime) -> None:
    seed_job(studio.store, "a fox that failed", status=JobStatus.FAILED)

    app = open_app(GALLERY)

    assert _handed_over(app) == []
