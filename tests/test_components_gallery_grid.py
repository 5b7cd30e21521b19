"""components.gallery_grid: the grid of thumbnails, its pages and the selection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from components.frame import get_studio
from studio import links
from studio.runtime import Studio
from tests.app_support import (
    ALICE,
    BOB,
    GALLERY,
    app_as,
    open_app,
    open_app_studio,
    seed_images,
    shown_text,
    texts,
)

MARKUP = "**bold** <img src=x onerror=alert(1)> :red[red]"


def pager(app: AppTest) -> tuple[int, int]:
    """The page st.pagination shows, and how many there are."""
    [widget] = app.get("pagination")
    return widget.proto.value or widget.proto.default, widget.proto.num_pages


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Studio]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_empty_gallery_says_how_to_start(studio: Studio) -> None:
    app = open_app(GALLERY)

    assert [info.value for info in app.info if "No images yet" in info.value] == [
        "No images yet. Generate your first on the Generate page."
    ]
    assert "q" not in [widget.key for widget in app.text_input]


def test_grid_shows_thumbnails_with_the_prompt_as_alt_text_and_as_plain_text(
    studio: Studio,
) -> None:
    seed_images(studio.store, studio.archive, MARKUP, aspect_ratio="16:9", output_format="png")

    app = open_app(GALLERY)

    [thumbnail] = app.image
    assert thumbnail.proto.imgs[0].alt == MARKUP
    assert thumbnail.value[0].startswith("data:image/webp;base64,")
    assert MARKUP in texts(app)  # st.text: never read as Markdown or HTML
    assert any("16:9" in caption.value and "PNG" in caption.value for caption in app.caption)


def test_pages_of_24_with_previous_and_next_in_the_url(studio: Studio) -> None:
    for n in range(30):
        seed_images(studio.store, studio.archive, f"lighthouse number {n}")

    app = open_app(GALLERY)
    assert len(app.image) == 24
    assert pager(app) == (1, 2)

    app = open_app(GALLERY, page="2")  # a link; pressing page 2 in a browser makes it

    assert len(app.image) == 6
    assert pager(app) == (2, 2)
    assert "lighthouse number 0" in texts(app)  # the oldest is last


def test_a_link_past_the_last_page_shows_the_last_page(studio: Studio) -> None:
    for n in range(26):
        seed_images(studio.store, studio.archive, f"lighthouse number {n}")

    app = open_app(GALLERY, page="9", mode="nonsense")

    assert len(app.image) == 2
    assert pager(app) == (2, 2)


def test_selected_images_can_be_downloaded_together(studio: Studio) -> None:
    items = seed_images(studio.store, studio.archive, "three foxes", count=3)
    app = open_app(GALLERY)
    idle = app.button(key="gallery-download-none")
    assert idle.label == "Download selected (0)"
    assert idle.disabled

    app.checkbox(key=f"select-image-{items[0].image.id}").check().run()
    app.checkbox(key=f"select-image-{items[2].image.id}").check().run()

    [download] = [
        button for button in app.get("link_button") if "Download selected" in button.proto.label
    ]
    assert download.proto.label == "Download selected (2)"
    assert not download.proto.disabled
    ids = f"{items[0].image.id},{items[2].image.id}"
    digest = links.zip_digest([items[0].image.sha256, items[2].image.sha256])
    assert download.proto.url.startswith(f"/api/zip/{ids}/{digest}?viewer=local&expires=")


def test_the_selection_has_a_contact_sheet_once_images_are_selected(studio: Studio) -> None:
    items = seed_images(studio.store, studio.archive, "three foxes", count=3)
    app = open_app(GALLERY)
    [popover] = [element for element in app.get("popover") if "Contact sheet" in str(element.proto)]
    assert popover.proto.popover.disabled

    app.checkbox(key=f"select-image-{items[1].image.id}").check().run()

    [popover] = [element for element in app.get("popover") if "Contact sheet" in str(element.proto)]
    assert not popover.proto.popover.disabled
    sheets = [button.proto.label for button in app.get("download_button")]
    assert sheets == ["PNG", "PDF"]


# Teams --------------------------------------------------------------------------------


def test_a_signed_in_gallery_opens_on_mine_with_everyone_beside_it(studio: Studio) -> None:
    seed_images(studio.store, studio.archive, "alice's lighthouse", owner=ALICE)

    bob = app_as(BOB, GALLERY)
    assert bob.button_group(key="whose").value == "Mine"
    assert "alice's lighthouse" not in texts(bob)
    bob.button_group(key="whose").set_value("Everyone").run()
    assert "alice's lighthouse" in texts(bob)

    alice = app_as(ALICE, GALLERY)
    assert "alice's lighthouse" in texts(alice)


def test_private_galleries_show_bob_nothing_of_alices(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_PRIVATE_GALLERIES", "true")
    st.cache_resource.clear()
    fresh = get_studio()
    [item] = seed_images(fresh.store, fresh.archive, "alice's secret lighthouse", owner=ALICE)

    bob = app_as(BOB, GALLERY)
    assert not bob.get("button_group")  # no Everyone to choose
    assert "secret lighthouse" not in shown_text(bob)
    deep_link = app_as(BOB, GALLERY, image=str(item.image.id))
    assert [warning.value for warning in deep_link.warning] == ["This image is not yours to see."]
    assert "secret lighthouse" not in shown_text(deep_link)
