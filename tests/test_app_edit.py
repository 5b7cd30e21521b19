"""The Edit page in AppTest: input images from links, uploads and the gallery, then the edit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import image_bytes, live_jobs, open_app, open_app_studio, seed_images
from streamlit.testing.v1 import AppTest

from studio.request import Mode
from studio.runtime import Studio

EDIT = "pages/edit.py"


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Studio]:
    yield from open_app_studio(tmp_path, monkeypatch)


def _inputs_heading(app: AppTest) -> str:
    return next(m.value for m in app.markdown if m.value.startswith("**Input images**"))


def _add_urls(app: AppTest, text: str) -> AppTest:
    app.text_area(key="edit_urls").set_value(text)
    return app.button(key="edit-add-urls").click().run()


def _apply(app: AppTest, change: str) -> AppTest:
    app.text_area(key="edit_prompt").set_value(change)
    return app.button(key="FormSubmitter:edit-Apply edit").click().run()


def test_the_edit_form_has_no_aspect_ratio(studio: Studio) -> None:
    app = open_app(EDIT)

    assert [title.value for title in app.title] == ["Edit"]
    assert app.text_area(key="edit_prompt").label == "Describe the change"
    assert "edit_ratio" not in [group.key for group in app.button_group]
    assert [group.key for group in app.button_group] == ["edit_format", "edit_count"]
    assert _inputs_heading(app) == "**Input images** (0 of 3)"


def test_a_bad_url_is_refused_before_anything_is_sent(studio: Studio) -> None:
    app = _add_urls(
        open_app(EDIT),
        "ftp://example.com/fox.png\nhttps://example.com/fox.png\njavascript:alert(1)",
    )

    errors = [error.value for error in app.error]
    assert len(errors) == 2
    assert "ftp" in errors[0]
    assert "javascript" in errors[1]
    assert all("Use a full link starting with https" in error for error in errors)
    assert _inputs_heading(app) == "**Input images** (1 of 3)"
    # The refused lines stay in the box, to be corrected.
    assert app.text_area(key="edit_urls").value == "ftp://example.com/fox.png\njavascript:alert(1)"
    assert [image.value[0] for image in app.image] == ["https://example.com/fox.png"]
    assert studio.demo is not None
    assert studio.demo.log == []  # nothing reached FoxAPI


def test_a_fourth_image_is_refused_with_a_message(studio: Studio) -> None:
    urls = "\n".join(f"https://example.com/{n}.png" for n in range(4))

    app = _add_urls(open_app(EDIT), urls)

    assert _inputs_heading(app) == "**Input images** (3 of 3)"
    assert any("at most 3 input images" in error.value for error in app.error)

    app.button(key="edit-input-remove-url:https://example.com/0.png").click().run()
    assert _inputs_heading(app) == "**Input images** (2 of 3)"


def test_uploads_are_checked_by_content(studio: Studio) -> None:
    app = open_app(EDIT)
    uploader = app.file_uploader[0]
    uploader.upload("notes.png", b"this is a text file, not a picture", "image/png")
    uploader.upload("fox.png", image_bytes(size=(300, 200)), "image/png")
    app.run()

    assert [error.value for error in app.error] == [
        "“notes\\.png” is not a PNG, JPEG or WebP image\\."
    ]
    assert _inputs_heading(app) == "**Input images** (1 of 3)"
    assert "fox.png" in [text.value for text in app.text]


def test_an_edit_without_input_images_is_refused(studio: Studio) -> None:
    app = _apply(open_app(EDIT), "make it night")

    assert [error.value for error in app.error] == [
        "Input images\\: Add at least one image to edit\\: a link, an upload or a gallery image\\."
    ]
    assert studio.store.jobs() == []


def test_a_gallery_image_is_edited_through_the_demo_backend(studio: Studio) -> None:
    [item] = seed_images(studio.store, studio.archive, "a lighthouse at dusk")
    app = open_app(EDIT)
    app.button(key=f"edit-use-{item.image.id}").click().run()
    assert _inputs_heading(app) == "**Input images** (1 of 3)"

    _apply(app, "make it night time")

    assert not app.exception
    assert not app.error
    [job] = [job for job in studio.store.jobs() if job.mode is Mode.EDIT]
    assert job.prompt == "make it night time"
    [url] = job.request.image_urls
    assert studio.demo is not None
    assert url.startswith(studio.demo.base_url)  # the archived file, uploaded to the backend
    assert job.request.aspect_ratio is None
    assert live_jobs(app)  # its card, live under the form


def test_an_empty_description_is_named_as_the_form_names_it(studio: Studio) -> None:
    app = _add_urls(open_app(EDIT), "https://example.com/fox.png")

    _apply(app, "")

    assert [error.value for error in app.error] == [
        "Describe the change\\: Type a prompt describing the image\\."
    ]
    assert studio.store.jobs() == []
