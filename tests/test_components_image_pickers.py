"""components.image_pickers: the Edit page's input images from links, uploads and the gallery."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from components import feed, image_pickers
from studio.request import Mode
from studio.runtime import Runtime
from studio.states import JobStatus
from tests.app_support import (
    EDIT,
    add_urls,
    apply_edit,
    image_bytes,
    inputs_heading,
    live_jobs,
    open_app,
    open_app_studio,
    seed_images,
)
from tests.engine_support import wait_until_finished


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_a_bad_url_is_refused_before_anything_is_sent(studio: Runtime) -> None:
    app = add_urls(
        open_app(EDIT),
        "ftp://example.com/fox.png\nhttps://example.com/fox.png\njavascript:alert(1)",
    )

    errors = [error.value for error in app.error]
    assert len(errors) == 2
    assert "ftp" in errors[0]
    assert "javascript" in errors[1]
    assert all("Use a full link starting with https" in error for error in errors)
    assert inputs_heading(app) == "**Input images** (1 of 3)"
    # The refused lines stay in the box, to be corrected.
    assert app.text_area(key="edit_urls").value == "ftp://example.com/fox.png\njavascript:alert(1)"
    assert [image.value[0] for image in app.image] == ["https://example.com/fox.png"]
    assert studio.demo is not None
    assert studio.demo.log == []  # nothing reached FoxAPI


def test_a_fourth_image_is_refused_with_a_message(studio: Runtime) -> None:
    urls = "\n".join(f"https://example.com/{n}.png" for n in range(4))

    app = add_urls(open_app(EDIT), urls)

    assert inputs_heading(app) == "**Input images** (3 of 3)"
    assert any("at most 3 input images" in error.value for error in app.error)

    app.button(key="edit-input-remove-url:https://example.com/0.png").click().run()
    assert inputs_heading(app) == "**Input images** (2 of 3)"


def test_uploads_are_checked_by_content(studio: Runtime) -> None:
    app = open_app(EDIT)
    uploader = app.file_uploader[0]
    uploader.upload("notes.png", b"this is a text file, not a picture", "image/png")
    uploader.upload("fox.png", image_bytes(size=(300, 200)), "image/png")
    app.run()

    assert [error.value for error in app.error] == [
        "“notes\\.png” is not a PNG, JPEG or WebP image\\."
    ]
    assert inputs_heading(app) == "**Input images** (1 of 3)"
    assert "fox.png" in [text.value for text in app.text]


def test_a_gallery_image_is_edited_through_the_demo_backend(studio: Runtime) -> None:
    [item] = seed_images(studio.store, studio.archive, "a lighthouse at dusk")
    app = open_app(EDIT)
    app.button(key=f"edit-use-{item.image.id}").click().run()
    assert inputs_heading(app) == "**Input images** (1 of 3)"

    apply_edit(app, "make it night time")

    assert not app.exception
    assert not app.error
    [job] = [job for job in studio.store.jobs.jobs() if job.mode is Mode.EDIT]
    assert job.prompt == "make it night time"
    [url] = job.request.image_urls
    assert studio.demo is not None
    assert url.startswith(studio.demo.base_url)  # the archived file, uploaded to the backend
    assert job.request.aspect_ratio is None
    assert live_jobs(app)  # its card, live under the form


def test_a_demo_edit_of_an_address_it_will_not_fetch_says_so_plainly(studio: Runtime) -> None:
    app = add_urls(open_app(EDIT), "https://example.com/fox.png")

    assert image_pickers.DEMO_LEFT_OUT in [caption.value for caption in app.caption]

    app = apply_edit(app, "Make it night")
    [job] = studio.store.jobs.jobs()
    assert wait_until_finished(studio.store, job.id, timeout=30) is JobStatus.DONE
    app.run()
    assert feed.DEMO_PLACEHOLDER_NOTE in [caption.value for caption in app.caption]


def test_the_upload_field_says_images_can_be_dropped_or_pasted(studio: Runtime) -> None:
    app = open_app(EDIT)

    [uploader] = app.get("file_uploader")
    assert "drop them here, or paste one anywhere on this page" in uploader.proto.label
    assert "Drag images onto this field" in uploader.proto.help
    assert "Ctrl+V" in uploader.proto.help
