"""components.prompt_form: the Generate and Edit forms, checked before anything is sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from components.text import escape_markdown
from studio.runtime import Runtime
from tests.app_support import (
    EDIT,
    add_urls,
    apply_edit,
    inputs_heading,
    live_jobs,
    open_app,
    open_app_studio,
    submit_generation,
)

MARKUP = "**bold** <img src=x onerror=alert(1)>"


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_an_empty_prompt_is_refused_under_the_form(studio: Runtime) -> None:
    app = submit_generation(open_app(), "   ")

    assert [error.value for error in app.error] == [
        escape_markdown("Prompt: Type a prompt describing the image.")
    ]
    assert studio.store.jobs.jobs() == []


def test_a_prompt_over_the_limit_is_refused_and_kept(studio: Runtime) -> None:
    too_long = "fox " * 1000 + "x"  # 4,001 characters

    app = submit_generation(open_app(), too_long)

    [error] = app.error
    assert "4,001 characters" in error.value
    assert "4,000" in error.value
    assert app.text_area(key="generate_prompt").value == too_long
    assert studio.store.jobs.jobs() == []


def test_a_prompt_is_sent_to_the_demo_backend_and_shows_as_a_card(studio: Runtime) -> None:
    app = open_app()
    app.button_group(key="generate_ratio").set_value("16:9")
    app.button_group(key="generate_format").set_value("png")
    app.button_group(key="generate_count").set_value(2).run()

    submit_generation(app, MARKUP)

    assert not app.exception
    [job] = studio.store.jobs.jobs()
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


def test_the_edit_form_has_no_aspect_ratio(studio: Runtime) -> None:
    app = open_app(EDIT)

    assert [title.value for title in app.title] == ["Edit"]
    assert app.text_area(key="edit_prompt").label == "Describe the change"
    assert "edit_ratio" not in [group.key for group in app.button_group]
    assert [group.key for group in app.button_group] == ["edit_format", "edit_count"]
    assert inputs_heading(app) == "**Input images** (0 of 3)"


def test_an_edit_without_input_images_is_refused(studio: Runtime) -> None:
    app = apply_edit(open_app(EDIT), "make it night")

    assert [error.value for error in app.error] == [
        "Input images\\: Add at least one image to edit\\: a link, an upload or a gallery image\\."
    ]
    assert studio.store.jobs.jobs() == []


def test_an_empty_description_is_named_as_the_form_names_it(studio: Runtime) -> None:
    app = add_urls(open_app(EDIT), "https://example.com/fox.png")

    apply_edit(app, "")

    assert [error.value for error in app.error] == [
        "Describe the change\\: Type a prompt describing the image\\."
    ]
    assert studio.store.jobs.jobs() == []


def test_the_prompt_fields_start_empty_with_an_example_that_says_so(studio: Runtime) -> None:
    generate, edit = open_app(), open_app(EDIT)

    for field in (generate.text_area(key="generate_prompt"), edit.text_area(key="edit_prompt")):
        assert field.value == ""
        assert field.placeholder.startswith("e.g. ")
