"""components.lightbox: one image in a dialog, its settings, and what can be done with it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.lightbox import UPLOAD_ALT
from studio.db.schema import input_assets
from studio.records import InputKind, InputSource, JobOrigin
from studio.runtime import Runtime
from tests.app_support import (
    ALICE,
    BOB,
    GALLERY,
    app_as,
    handed_over,
    image_bytes,
    open_app,
    open_app_studio,
    seed_images,
)

MARKUP = "**bold** <img src=x onerror=alert(1)> :red[red]"


def _expanders(app: AppTest) -> list[str]:
    """The labels of the page's and dialog's expanders, but the sidebar's key field's and
    the Details every image has."""
    sidebar = {expander.label for expander in app.sidebar.expander}
    return [
        expander.label
        for expander in app.expander
        if expander.label not in sidebar and expander.label != "Details"
    ]


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_dialog_opened_from_the_url_shows_settings_and_actions(studio: Runtime) -> None:
    first, second = seed_images(
        studio.store, studio.archive, MARKUP, count=2, aspect_ratio="9:16", output_format="png"
    )
    app = open_app(GALLERY)
    app.query_params["image"] = str(first.image.id)  # /gallery?image=ID opens it
    app.run()

    assert MARKUP in [text.value for text in app.text]  # st.text: literal
    assert handed_over(app, "copy_button") == [{"label": "Copy prompt", "text": MARKUP}]
    settings = " ".join(markdown.value for markdown in app.markdown)
    assert "**Aspect ratio:** 9\\:16" in settings
    assert counters(app) == ["1 of 2"]  # one counter: where it is in the gallery
    [details] = [expander for expander in app.expander if expander.label == "Details"]
    folded = " ".join(markdown.value for markdown in details.markdown)
    assert "**Image of its job:** 1 of 2" in folded
    assert "**File:** PNG" in folded
    download = app.get("download_button")
    assert any(button.label == "Download" for button in download)
    assert app.toggle(key=f"lightbox-favourite-{first.image.id}").value is False

    app.toggle(key=f"lightbox-favourite-{first.image.id}").set_value(True).run()
    assert studio.store.gallery.image(first.image.id).image.favourite is True  # type: ignore[union-attr]

    app.button(key="lightbox-next").click().run()
    assert app.query_params["image"] == str(second.image.id)
    assert counters(app) == ["2 of 2"]


def counters(app: AppTest) -> list[str]:
    """The dialog's counters ("1 of 2"): Markdown that is only where the image is."""
    return [
        markdown.value for markdown in app.markdown if re.fullmatch(r"\d+ of \d+", markdown.value)
    ]


def test_the_task_id_is_only_under_details(studio: Runtime) -> None:
    [item] = seed_images(studio.store, studio.archive, "a lighthouse at dusk")
    task = item.job.task_id
    assert task
    app = open_app(GALLERY, image=str(item.image.id))

    [details] = [expander for expander in app.expander if expander.label == "Details"]
    assert task in " ".join(markdown.value for markdown in details.markdown).replace("\\", "")
    outside = [
        markdown.value.replace("\\", "")
        for markdown in app.markdown
        if markdown not in details.markdown
    ]
    assert not any(task in value for value in outside)


def test_reuse_settings_opens_generate_filled_in(studio: Runtime) -> None:
    [item] = seed_images(
        studio.store,
        studio.archive,
        "a lighthouse at dusk",
        aspect_ratio="3:2",
        output_format="webp",
    )
    app = open_app(GALLERY)
    app.query_params["image"] = str(item.image.id)
    app.run()

    app.button(key=f"lightbox-reuse-{item.image.id}").click().run()

    assert not app.exception
    assert [title.value for title in app.title] == ["Generate"]
    assert app.text_area(key="generate_prompt").value == "a lighthouse at dusk"
    assert app.button_group(key="generate_ratio").value == "3:2"
    assert app.button_group(key="generate_format").value == "webp"
    assert "image" not in app.query_params


def test_edit_this_image_opens_edit_with_it_as_input(studio: Runtime) -> None:
    [item] = seed_images(studio.store, studio.archive, "a lighthouse at dusk")
    app = open_app(GALLERY)
    app.query_params["image"] = str(item.image.id)
    app.run()

    app.button(key=f"lightbox-edit-{item.image.id}").click().run()

    assert [title.value for title in app.title] == ["Edit"]
    assert "**Input images** (1 of 3)" in [markdown.value for markdown in app.markdown]


def test_the_owner_moves_an_image_to_the_trash_and_others_cannot(studio: Runtime) -> None:
    first, second = seed_images(studio.store, studio.archive, "alice's owls", count=2, owner=ALICE)
    original = studio.archive.path(first.image.file_path or "")

    delete = f"lightbox-delete-image-{first.image.id}"
    bob = app_as(BOB, GALLERY, image=str(first.image.id))
    assert "alice's owls" in [text.value for text in bob.text]  # he sees it, open
    assert delete not in [button.key for button in bob.button]

    alice = app_as(ALICE, GALLERY, image=str(first.image.id))
    assert delete in [button.key for button in alice.button]
    alice.button(key=delete).click().run()

    assert studio.store.gallery.image(first.image.id) is None
    assert studio.store.gallery.trash.trashed_image(first.image.id) is not None
    assert original.exists()  # in the Trash, restorable: its files stay
    assert studio.store.gallery.image(second.image.id) is not None  # nothing else is touched
    assert "image" not in alice.query_params  # the dialog closed
    assert not any("no longer in the gallery" in info.value for info in alice.info)
    assert "Trash (1)" in [button.label for button in alice.button]


def test_an_image_opened_from_the_trash_says_so_and_restores(studio: Runtime) -> None:
    [item] = seed_images(studio.store, studio.archive, "a lost lighthouse")
    studio.service.gallery.trash.move([item.image.id])
    app = open_app(GALLERY)
    app.query_params["image"] = str(item.image.id)
    app.run()
    assert "This image is in the Trash." in [info.value for info in app.info]

    app.button(key="lightbox-restore").click().run()

    assert studio.store.gallery.image(item.image.id) is not None


def test_an_edit_shows_what_it_was_made_from_and_opens_it(studio: Runtime) -> None:
    [parent] = seed_images(studio.store, studio.archive, "a lighthouse at dusk")
    [child] = seed_images(
        studio.store,
        studio.archive,
        "the lighthouse at night",
        image_urls=["https://cdn.example.invalid/upload.png"],
        origin=JobOrigin(parent_image_ids=(parent.image.id,)),
    )
    app = open_app(GALLERY)
    app.query_params["image"] = str(child.image.id)
    app.run()

    assert "**Made from**" in [markdown.value for markdown in app.markdown]
    assert _expanders(app) == ["Before and after"]
    app.button(key=f"lineage-open-{parent.image.id}").click().run()

    assert app.query_params["image"] == str(parent.image.id)
    assert "**Edited into**" in [markdown.value for markdown in app.markdown]


def test_an_edit_of_an_upload_shows_the_upload_as_an_image_and_compares_with_it(
    studio: Runtime,
) -> None:
    [parent] = seed_images(studio.store, studio.archive, "a lighthouse at dusk")
    upload = studio.store.gallery.add_input_asset(
        studio.archive.save_input(image_bytes(size=(90, 60)))
    )
    inputs = (
        InputSource(InputKind.UPLOAD, upload.id),
        InputSource(InputKind.GALLERY, parent.image.id),
    )
    [child] = seed_images(
        studio.store,
        studio.archive,
        "the lighthouse at night",
        image_urls=["http://127.0.0.1:1/upload.png", "http://127.0.0.1:1/parent.png"],
        origin=JobOrigin(parent_image_ids=(parent.image.id,), inputs=inputs),
    )
    app = open_app(GALLERY)
    app.query_params["image"] = str(child.image.id)
    app.run()

    assert not app.exception
    alts = [image.proto.imgs[0].alt for image in app.image]
    # Made from: the upload, then the gallery image; then the upload again, as "Before".
    assert alts[-5:] == [
        "the lighthouse at night",  # the dialog's own image
        UPLOAD_ALT,
        "a lighthouse at dusk",
        UPLOAD_ALT,
        "the lighthouse at night",
    ]
    assert "Upload, 90 x 60 px" in [caption.value for caption in app.caption]
    # The upload's link was FoxAPI's: it is not shown as an address.
    assert "http://127.0.0.1:1/upload.png" not in [text.value for text in app.text]
    assert _expanders(app) == ["Before and after"]
    assert f"lineage-open-{parent.image.id}" in [button.key for button in app.button]


def test_an_edit_whose_upload_is_gone_still_opens(studio: Runtime) -> None:
    upload = studio.store.gallery.add_input_asset(studio.archive.save_input(image_bytes()))
    [child] = seed_images(
        studio.store,
        studio.archive,
        "the lighthouse at night",
        image_urls=["http://127.0.0.1:1/upload.png"],
        origin=JobOrigin(inputs=(InputSource(InputKind.UPLOAD, upload.id),)),
    )
    with studio.store.engine.begin() as conn:
        conn.execute(input_assets.delete())
    app = open_app(GALLERY)
    app.query_params["image"] = str(child.image.id)
    app.run()

    assert not app.exception
    captions = [caption.value for caption in app.caption]
    assert "Not shown: 1 input image, deleted since or not yours to see." in captions
    assert not _expanders(app)  # nothing to compare with


@pytest.mark.parametrize(
    ("setting", "says"),
    [("on", "Signed with content credentials by Image Studio (self-signed)"), ("off", None)],
)
def test_the_dialog_says_what_a_download_will_carry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, says: str | None
) -> None:
    monkeypatch.setenv("STUDIO_C2PA", setting)
    opened = open_app_studio(tmp_path, monkeypatch)
    studio = next(opened)
    [item] = seed_images(studio.store, studio.archive, "a signed fox")
    app = open_app(GALLERY)
    app.query_params["image"] = str(item.image.id)
    app.run()

    captions = [caption.value.replace("\\", "") for caption in app.caption]  # as shown
    if says:
        assert says in captions
    else:
        assert not any("content credentials" in caption for caption in captions)
    next(opened, None)
