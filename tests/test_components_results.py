"""components.results: a result image, large, with what comes next (in the feed of Generate)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from studio.emulator import RunningEmulator
from studio.records import GalleryItem
from studio.runtime import Runtime
from tests.app_support import APP_FILE, RUN_TIMEOUT, handed_over, open_app_studio, seed_images
from tests.conftest import EMULATOR_KEY

FOXES = "Two foxes in a birch forest, morning mist"


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


@pytest.fixture
def keyed_studio(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator
) -> Iterator[Runtime]:
    yield from open_app_studio(
        tmp_path, monkeypatch, base_url=emulator.base_url, api_key=EMULATOR_KEY
    )


@pytest.fixture
def cautious_studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    """A studio that asks before a click bills more than two images."""
    monkeypatch.setenv("STUDIO_CONFIRM_ABOVE_IMAGES", "2")
    yield from open_app_studio(tmp_path, monkeypatch)


def _generate_page_after(items: list[GalleryItem]) -> AppTest:
    """The Generate page of a session that sent the job behind `items`, now done."""
    app = AppTest.from_file(str(APP_FILE), default_timeout=RUN_TIMEOUT)
    app.run()
    assert not app.exception, app.exception
    return app


def _key(item: GalleryItem, action: str) -> str:
    return f"recent-generate-result-{item.image.id}-{action}"


def test_the_latest_images_show_large_each_with_its_five_actions(studio: Runtime) -> None:
    items = seed_images(studio.store, studio.archive, FOXES, count=2, aspect_ratio="3:2")

    app = _generate_page_after(items)

    assert [image.proto.imgs[0].alt for image in app.image] == [FOXES, FOXES]
    for item in items:
        assert [app.button(key=_key(item, action)).label for action in ("open", "edit")] == [
            "Open",
            "Edit this image",
        ]
        assert app.button(key=_key(item, "favourite")).label == "Favourite"
        assert app.button(key=_key(item, "again")).label == "More like this"
        [download] = [b for b in app.get("download_button") if b.key == _key(item, "download")]
        assert download.proto.label == "Download"


def test_every_action_names_its_image_and_more_like_this_its_price(studio: Runtime) -> None:
    items = seed_images(studio.store, studio.archive, FOXES, count=2)

    app = _generate_page_after(items)

    name = f"image 2 of “{FOXES}”"
    assert app.button(key=_key(items[1], "open")).help == f"Open {name} with its settings"
    assert app.button(key=_key(items[1], "again")).help == (
        f"Send the request behind {name} again: 2 images, drawn by the demo backend for nothing"
    )


def test_with_a_key_more_like_this_says_foxapi_bills_it(keyed_studio: Runtime) -> None:
    items = seed_images(keyed_studio.store, keyed_studio.archive, FOXES, count=3)

    app = _generate_page_after(items)

    assert app.button(key=_key(items[0], "again")).help.endswith(": 3 images billed by FoxAPI")


def test_more_like_this_sends_the_same_request_again(studio: Runtime) -> None:
    items = seed_images(studio.store, studio.archive, FOXES, count=2, aspect_ratio="3:2")
    app = _generate_page_after(items)

    app.button(key=_key(items[0], "again")).click().run()

    first, again = sorted(studio.store.jobs.jobs(), key=lambda job: job.created_at)
    assert again.request == first.request
    assert again.task_id is not None  # accepted by the demo backend
    assert any(toast.value.startswith(f"Sent: “{FOXES}”") for toast in app.toast)


def test_favourite_marks_the_image_and_the_button_turns(studio: Runtime) -> None:
    items = seed_images(studio.store, studio.archive, FOXES, count=2)
    app = _generate_page_after(items)

    app.button(key=_key(items[1], "favourite")).click().run()

    favourites = [studio.service.gallery.image(item.image.id) for item in items]
    assert [item.image.favourite for item in favourites if item is not None] == [False, True]
    assert app.button(key=_key(items[1], "favourite")).label == "Unfavourite"


def test_open_shows_the_image_with_its_settings(studio: Runtime) -> None:
    items = seed_images(studio.store, studio.archive, FOXES, count=2)
    app = _generate_page_after(items)

    app.button(key=_key(items[1], "open")).click().run()

    assert app.query_params["image"] == str(items[1].image.id)
    copied = [copy["text"] for copy in handed_over(app, "copy_button")]
    assert copied == [FOXES]  # the dialog's prompt, with its Copy prompt button


def test_edit_this_image_opens_edit_with_it_as_input(studio: Runtime) -> None:
    items = seed_images(studio.store, studio.archive, FOXES, count=2)
    app = _generate_page_after(items)

    app.button(key=_key(items[0], "edit")).click().run()

    assert [title.value for title in app.title] == ["Edit"]
    assert "**Input images** (1 of 3)" in [markdown.value for markdown in app.markdown]


def test_more_like_this_above_the_threshold_waits_for_a_yes_priced_like_generate(
    cautious_studio: Runtime,
) -> None:
    studio = cautious_studio
    items = seed_images(studio.store, studio.archive, FOXES, count=3)
    app = _generate_page_after(items)

    app.button(key=_key(items[0], "again")).click().run()

    assert len(studio.store.jobs.jobs()) == 1  # nothing sent yet
    [warning] = app.warning
    assert warning.value == (
        "This sends 1 job: 3 images (drawn by the demo backend, nothing billed)."
    )
    app.button(key=_key(items[0], "again-confirm")).click().run()
    first, again = sorted(studio.store.jobs.jobs(), key=lambda job: job.created_at)
    assert again.request == first.request
    assert not app.warning
    assert not [button for button in app.button if button.key == _key(items[0], "again-confirm")]


def test_more_like_this_above_the_threshold_can_be_cancelled(cautious_studio: Runtime) -> None:
    studio = cautious_studio
    items = seed_images(studio.store, studio.archive, FOXES, count=3)
    app = _generate_page_after(items)
    app.button(key=_key(items[0], "again")).click().run()

    app.button(key=_key(items[0], "again-cancel")).click().run()

    assert len(studio.store.jobs.jobs()) == 1
    assert not app.warning
