"""components.submission: one send per click, and its outcome in plain words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from components import submission
from components.text import escape_markdown
from studio.emulator import RunningEmulator
from studio.errors import OutcomeUnknown
from studio.request import GenerationRequest
from studio.runtime import Runtime
from tests.app_support import open_app, open_app_studio, submit_generation
from tests.conftest import EMULATOR_KEY, posts


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_a_double_click_sends_once(studio: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    # The second click of a double click arrives within moments; make "moments" generous
    # so a slow machine cannot turn it into two deliberate clicks.
    monkeypatch.setattr(submission, "DUPLICATE_WINDOW", 600.0)
    app = submit_generation(open_app(), "a fox at the window")

    app.button(key="generate-send").click().run()

    assert len(studio.store.jobs.jobs()) == 1
    submit_generation(app, "a fox at the door")  # a changed prompt is a new request
    assert len(studio.store.jobs.jobs()) == 2


def test_foxapi_refusals_appear_in_plain_words_and_keep_the_form(studio: Runtime) -> None:
    assert studio.demo is not None
    studio.demo.config.balance = 0  # the emulator answers 402 from now on
    app = submit_generation(open_app(), "a fox with an empty wallet")

    [error] = app.error
    assert "balance is too low" in error.value
    assert app.text_area(key="generate_prompt").value == "a fox with an empty wallet"
    assert studio.store.jobs.jobs() == []  # nothing billed, nothing kept

    studio.demo.config.balance = None
    studio.demo.config.rate_limit_next_submits = 5
    submit_generation(app, "a fox in a hurry")
    [error] = app.error
    assert "FoxAPI is busy \\(rate limited\\)" in error.value


def test_an_uncertain_outcome_is_a_warning_and_is_not_sent_again(
    studio: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The emulator cannot time out a POST on demand, so the engine's answer is given here.
    message = "FoxAPI did not answer in time. It may have received the request; not resent."
    sent = []

    def uncertain(request: GenerationRequest, credentials: object, **_owner: object) -> None:
        sent.append(request)
        job = studio.store.jobs.create_job(
            request, backend="demo", key_id="demo", lease_owner="test", lease_seconds=30
        )
        studio.store.jobs.mark_outcome_unknown(job.id, message)
        raise OutcomeUnknown(message, job_id=job.id)

    monkeypatch.setattr(studio.engine, "submit", uncertain)
    monkeypatch.setattr(submission, "DUPLICATE_WINDOW", 600.0)
    app = submit_generation(open_app(), "a fox in the fog")

    # By the form: what happened. Under it: the job kept for it, with a Retry button.
    assert [warning.value for warning in app.warning] == [
        escape_markdown(message),
        "Outcome unknown",
    ]
    assert not app.error
    app.button(key="generate-send").click().run()
    assert len(sent) == 1
    assert app.warning[0].value == escape_markdown(message)


@pytest.fixture
def limited_studio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator
) -> Iterator[Runtime]:
    """A server with a key ("FoxAPI" is an emulator) and a daily limit of 2 images."""
    monkeypatch.setenv("STUDIO_DAILY_IMAGE_LIMIT", "2")
    yield from open_app_studio(
        tmp_path, monkeypatch, base_url=emulator.base_url, api_key=EMULATOR_KEY
    )


def test_the_form_says_what_is_left_and_refuses_more_before_anything_is_sent(
    limited_studio: Runtime, emulator: RunningEmulator
) -> None:
    app = open_app()
    assert any("2 of 2 images left today" in caption.value for caption in app.caption)
    app.button_group(key="generate_count").set_value(3).run()
    submit_generation(app, "three foxes")

    [error] = app.error
    assert error.value == "2 of 2 images left today; this request is for 3\\."
    assert posts(emulator) == [] and limited_studio.store.jobs.jobs() == []
