"""The Generate page in AppTest, sending to the demo backend the app starts itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import finish_seeded, live_jobs, open_app, open_app_studio, seed_images, seed_job
from streamlit.testing.v1 import AppTest

from components import submission
from components.text import escape_markdown
from studio.errors import OutcomeUnknown
from studio.request import ASPECT_RATIOS, GenerationRequest
from studio.runtime import Studio
from studio.states import JobStatus

MARKUP = "**bold** <img src=x onerror=alert(1)>"


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Studio]:
    yield from open_app_studio(tmp_path, monkeypatch)


def _submit(app: AppTest, prompt: str) -> AppTest:
    app.text_area(key="generate_prompt").set_value(prompt)
    return app.button(key="FormSubmitter:generate-Generate").click().run()


def test_the_form_offers_every_ratio_format_and_count(studio: Studio) -> None:
    app = open_app()

    assert [title.value for title in app.title] == ["Generate"]
    ratio = app.button_group(key="generate_ratio")
    assert ratio.value == "1:1"
    assert len(ratio.options) == len(ASPECT_RATIOS) == 13
    assert app.button_group(key="generate_format").value == "auto"
    assert app.button_group(key="generate_count").value == 1
    assert "1 image will be drawn. The demo backend bills nothing." in [
        caption.value for caption in app.caption
    ]

    app.button_group(key="generate_count").set_value(3).run()

    assert "3 images will be drawn. The demo backend bills nothing." in [
        caption.value for caption in app.caption
    ]


def test_an_empty_prompt_is_refused_under_the_form(studio: Studio) -> None:
    app = _submit(open_app(), "   ")

    assert [error.value for error in app.error] == [
        escape_markdown("Prompt: Type a prompt describing the image.")
    ]
    assert studio.store.jobs() == []


def test_a_prompt_over_the_limit_is_refused_and_kept(studio: Studio) -> None:
    too_long = "fox " * 1000 + "x"  # 4,001 characters

    app = _submit(open_app(), too_long)

    [error] = app.error
    assert "4,001 characters" in error.value
    assert "4,000" in error.value
    assert app.text_area(key="generate_prompt").value == too_long
    assert studio.store.jobs() == []


def test_a_prompt_is_sent_to_the_demo_backend_and_shows_as_a_card(studio: Studio) -> None:
    app = open_app()
    app.button_group(key="generate_ratio").set_value("16:9")
    app.button_group(key="generate_format").set_value("png")
    app.button_group(key="generate_count").set_value(2).run()

    _submit(app, MARKUP)

    assert not app.exception
    [job] = studio.store.jobs()
    assert job.prompt == MARKUP
    assert job.request.aspect_ratio == "16:9"
    assert job.request.output_format == "png"
    assert job.request.num_outputs == 2
    assert job.task_id is not None  # FoxAPI (here the demo backend) accepted it
    assert [toast.value for toast in app.toast] == [
        f"Sent: “{escape_markdown(MARKUP)}” (nothing is billed on the demo backend)"
    ]
    # The card shows the prompt as text (the browser sets it with textContent).
    assert [job["prompt"] for job in live_jobs(app)] == [MARKUP]
    # The sidebar counts the job just sent.
    assert {m.label: m.value for m in app.sidebar.metric}["Jobs in flight"] == "1"
    # The form keeps its values: the next variant is one edit away.
    assert app.text_area(key="generate_prompt").value == MARKUP
    assert app.button_group(key="generate_ratio").value == "16:9"
    assert not app.error


def test_a_double_click_sends_once(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    # The second click of a double click arrives within moments; make "moments" generous
    # so a slow machine cannot turn it into two deliberate clicks.
    monkeypatch.setattr(submission, "DUPLICATE_WINDOW", 600.0)
    app = _submit(open_app(), "a fox at the window")

    app.button(key="FormSubmitter:generate-Generate").click().run()

    assert len(studio.store.jobs()) == 1
    _submit(app, "a fox at the door")  # a changed prompt is a new request
    assert len(studio.store.jobs()) == 2


def test_foxapi_refusals_appear_in_plain_words_and_keep_the_form(studio: Studio) -> None:
    assert studio.demo is not None
    studio.demo.config.balance = 0  # the emulator answers 402 from now on
    app = _submit(open_app(), "a fox with an empty wallet")

    [error] = app.error
    assert "balance is too low" in error.value
    assert app.text_area(key="generate_prompt").value == "a fox with an empty wallet"
    assert studio.store.jobs() == []  # nothing billed, nothing kept

    studio.demo.config.balance = None
    studio.demo.config.rate_limit_next_submits = 5
    _submit(app, "a fox in a hurry")
    [error] = app.error
    assert "FoxAPI is busy \\(rate limited\\)" in error.value


def test_recent_jobs_finish_with_their_images_and_a_toast(studio: Studio) -> None:
    [item] = seed_images(studio.store, studio.archive, "a fox that is done")
    running = seed_job(studio.store, "a fox still drawing", progress=60)
    failed = seed_job(
        studio.store, "a fox refused", status=JobStatus.FAILED, error_message="Refused."
    )
    app = AppTest.from_file(str(Path(__file__).parent.parent / "app.py"), default_timeout=30)
    app.session_state[submission.recent_jobs.key] = [running.id, failed.id, item.job.id]
    app.run()

    assert [job["progress"] for job in live_jobs(app)] == [60]
    assert "Your recent jobs" in [header.value for header in app.subheader]
    assert any(image.proto.imgs[0].alt == "a fox that is done" for image in app.image)
    assert app.button(key=f"recent-generate-{failed.id}-retry")

    finish_seeded(studio.store, running)
    app.run()

    assert not live_jobs(app)
    assert [toast.value for toast in app.toast] == [
        "Ready: “a fox still drawing” is in the gallery."
    ]


def test_an_uncertain_outcome_is_a_warning_and_is_not_sent_again(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The emulator cannot time out a POST on demand, so the engine's answer is given here.
    message = "FoxAPI did not answer in time. It may have received the request; not resent."
    sent = []

    def uncertain(request: GenerationRequest, credentials: object) -> None:
        sent.append(request)
        job = studio.store.create_job(
            request, backend="demo", key_id="demo", lease_owner="test", lease_seconds=30
        )
        studio.store.mark_outcome_unknown(job.id, message)
        raise OutcomeUnknown(message, job_id=job.id)

    monkeypatch.setattr(studio.engine, "submit", uncertain)
    monkeypatch.setattr(submission, "DUPLICATE_WINDOW", 600.0)
    app = _submit(open_app(), "a fox in the fog")

    # By the form: what happened. Under it: the job kept for it, with a Retry button.
    assert [warning.value for warning in app.warning] == [
        escape_markdown(message),
        "Outcome unknown",
    ]
    assert not app.error
    app.button(key="FormSubmitter:generate-Generate").click().run()
    assert len(sent) == 1
    assert app.warning[0].value == escape_markdown(message)
