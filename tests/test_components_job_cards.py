"""components.job_cards: a card per job, live while in flight, with retry once it ended."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.text import escape_markdown
from studio.db.schema import jobs
from studio.runtime import Runtime
from studio.states import IN_FLIGHT, WAITING_FOR_KEY, JobStatus
from tests.app_support import (
    APP_FILE,
    GALLERY,
    RUN_TIMEOUT,
    finish_seeded,
    live_jobs,
    open_app,
    open_app_studio,
    seed_images,
    seed_job,
)


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_jobs_in_flight_show_progress_in_words(studio: Runtime) -> None:
    seed_job(studio.store, "a fox being drawn", status=JobStatus.RUNNING, progress=45)
    seed_job(studio.store, "a fox waiting its turn", status=JobStatus.QUEUED)

    app = open_app(GALLERY)

    assert "In progress" in [header.value for header in app.subheader]
    progress = {job["words"]: job["progress"] for job in live_jobs(app)}
    assert progress["Generating 45 %"] == 45
    assert progress["Queued"] == 0
    # The browser shows the time elapsed against FoxAPI's estimate, ticking between polls.
    assert all(job["estimated"] == 45 and job["elapsed"] >= 0 for job in live_jobs(app))


def test_a_finished_job_leaves_the_live_cards_with_a_toast(studio: Runtime) -> None:
    [job] = [seed_job(studio.store, "a fox nearly done", progress=90)]
    app = open_app(GALLERY)
    assert live_jobs(app)

    finish_seeded(studio.store, job)
    app.run()

    assert not live_jobs(app)
    assert [toast.value for toast in app.toast] == ["Ready: “a fox nearly done” is in the gallery."]


def test_a_job_whose_typed_key_is_gone_waits_for_it(studio: Runtime) -> None:
    seed_job(studio.store, "sent with a key typed before a restart", key_id="key-0123456789abcdef")

    app = open_app(GALLERY)

    assert [job["words"] for job in live_jobs(app)] == [WAITING_FOR_KEY]


def test_failed_job_shows_the_reason_and_retries_after_confirming(studio: Runtime) -> None:
    failed = seed_job(
        studio.store,
        "a fox the model refused",
        status=JobStatus.FAILED,
        error_message="The prompt was refused by the content policy.",
    )
    app = open_app(GALLERY)
    reason = "Failed: The prompt was refused by the content policy."
    assert [error.value for error in app.error] == [escape_markdown(reason)]

    app.button(key=f"attention-{failed.id}-retry").click().run()
    assert not studio.store.jobs.jobs(IN_FLIGHT)  # nothing is sent before the confirmation
    assert any("sends the same request again" in caption.value for caption in app.caption)

    app.button(key=f"attention-{failed.id}-retry-confirm").click().run()

    [retried] = [job for job in studio.store.jobs.jobs() if job.retry_of == failed.id]
    assert retried.prompt == failed.prompt
    assert retried.task_id is not None  # accepted by the demo backend
    assert any(toast.value.startswith("Sent again") for toast in app.toast)
    assert f"attention-{failed.id}-retry" not in [button.key for button in app.button]


def test_outcome_unknown_says_what_happened_and_offers_retry(studio: Runtime) -> None:
    unknown = seed_job(
        studio.store,
        "a fox sent as the network dropped",
        status=JobStatus.UNKNOWN,
        error_message="FoxAPI did not answer in time. It was not sent again.",
    )

    app = open_app(GALLERY)

    assert [warning.value for warning in app.warning] == ["Outcome unknown"]
    assert any("not sent again" in caption.value for caption in app.caption)
    assert app.button(key=f"attention-{unknown.id}-retry").label == "Retry"


def test_recent_jobs_finish_with_their_images_and_a_toast(studio: Runtime) -> None:
    seed_images(studio.store, studio.archive, "a fox that is done")
    running = seed_job(studio.store, "a fox still drawing", progress=60)
    failed = seed_job(
        studio.store, "a fox refused", status=JobStatus.FAILED, error_message="Refused."
    )
    app = AppTest.from_file(str(APP_FILE), default_timeout=RUN_TIMEOUT)
    app.run()

    assert [job["progress"] for job in live_jobs(app)] == [60]
    assert [error.value for error in app.error] == [escape_markdown("Failed: Refused.")]
    assert any(image.proto.imgs[0].alt == "a fox that is done" for image in app.image)
    assert app.button(key=f"recent-generate-{failed.id}-retry")

    finish_seeded(studio.store, running)
    app.run()

    assert not live_jobs(app)
    assert [toast.value for toast in app.toast] == [
        "Ready: “a fox still drawing” is in the gallery."
    ]


def test_a_finished_job_says_what_it_did_not_keep(studio: Runtime) -> None:
    note = "The result was not a JPEG, PNG or WebP image."
    finished = []
    for prompt in ("an older fox", "the latest fox"):  # a card, then the latest results
        [item] = seed_images(studio.store, studio.archive, prompt)
        with studio.store.engine.begin() as connection:  # as the engine finishes such a job
            connection.execute(
                jobs.update().where(jobs.c.id == item.job.id).values(error_message=note)
            )
        finished.insert(0, item.job.id)
    app = AppTest.from_file(str(APP_FILE), default_timeout=RUN_TIMEOUT)
    app.run()

    shown = [caption.value for caption in app.caption]
    assert shown.count(escape_markdown(note)) == 2
