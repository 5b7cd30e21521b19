"""components.gallery_grid: the grid of thumbnails, its pages and the selection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from components.frame import get_studio
from studio import links
from studio.runtime import Runtime
from tests.app_support import (
    ALICE,
    BOB,
    GALLERY,
    app_as,
    gallery_prompts,
    gallery_tiles,
    handed_over,
    open_app,
    open_app_studio,
    seed_images,
    select_in_gallery,
    send_event,
    shown_text,
)

MARKUP = "**bold** <img src=x onerror=alert(1)> :red[red]"


def pager(app: AppTest) -> tuple[int, int]:
    """The page the pickers above and below the grid show, and how many there are."""
    above, below = app.get("pagination")
    shown = [(widget.proto.value or widget.proto.default) for widget in (above, below)]
    assert shown[0] == shown[1]
    assert above.proto.num_pages == below.proto.num_pages
    return shown[0], above.proto.num_pages


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_empty_gallery_says_how_to_start(studio: Runtime) -> None:
    app = open_app(GALLERY)

    assert [info.value for info in app.info if "No images yet" in info.value] == [
        "No images yet. Generate your first on the Generate page."
    ]
    assert "q" not in [widget.key for widget in app.text_input]


def test_grid_shows_thumbnails_with_the_prompt_as_alt_text_and_as_plain_text(
    studio: Runtime,
) -> None:
    seed_images(studio.store, studio.archive, MARKUP, aspect_ratio="16:9", output_format="png")

    app = open_app(GALLERY)

    [tile] = gallery_tiles(app)
    assert tile["prompt"] == MARKUP  # set as text and alt text by the browser, never HTML
    assert tile["url"].startswith("data:image/webp;base64,")  # no browser: no links
    assert tile["details"] == "Text to image · 16:9 · PNG"


def test_pages_of_24_with_previous_and_next_in_the_url(studio: Runtime) -> None:
    for n in range(30):
        seed_images(studio.store, studio.archive, f"lighthouse number {n}")

    app = open_app(GALLERY)
    assert len(gallery_tiles(app)) == 24
    assert pager(app) == (1, 2)

    app = open_app(GALLERY, page="2")  # a link; pressing page 2 in a browser makes it

    assert len(gallery_tiles(app)) == 6
    assert pager(app) == (2, 2)
    assert gallery_tiles(app)[-1]["prompt"] == "lighthouse number 0"  # the oldest is last


def test_the_pager_under_the_grid_turns_the_page_too(studio: Runtime) -> None:
    for n in range(30):
        seed_images(studio.store, studio.archive, f"lighthouse number {n}")
    app = open_app(GALLERY)

    _above, below = app.get("pagination")
    below.set_value(2).run()

    assert pager(app) == (2, 2)
    assert app.query_params["page"] == "2"
    assert len(gallery_tiles(app)) == 6


def test_a_link_past_the_last_page_shows_the_last_page(studio: Runtime) -> None:
    for n in range(26):
        seed_images(studio.store, studio.archive, f"lighthouse number {n}")

    app = open_app(GALLERY, page="9", mode="nonsense")

    assert len(gallery_tiles(app)) == 2
    assert pager(app) == (2, 2)


def test_selected_images_can_be_downloaded_together(studio: Runtime) -> None:
    items = seed_images(studio.store, studio.archive, "three foxes", count=3)
    app = open_app(GALLERY)
    idle = app.button(key="gallery-download-none")
    assert idle.label == "Download (0)"
    assert idle.disabled

    select_in_gallery(app, items[0])
    select_in_gallery(app, items[2])

    [download] = [button for button in app.get("link_button") if "Download" in button.proto.label]
    assert download.proto.label == "Download (2)"
    assert not download.proto.disabled
    ids = f"{items[0].image.id},{items[2].image.id}"
    digest = links.zip_digest([items[0].image.sha256, items[2].image.sha256])
    assert download.proto.url.startswith(f"/api/zip/{ids}/{digest}?viewer=local&expires=")


def test_the_selection_has_a_contact_sheet_once_images_are_selected(studio: Runtime) -> None:
    items = seed_images(studio.store, studio.archive, "three foxes", count=3)
    app = open_app(GALLERY)
    [popover] = [element for element in app.get("popover") if "Contact sheet" in str(element.proto)]
    assert popover.proto.popover.disabled

    select_in_gallery(app, items[1])

    [popover] = [element for element in app.get("popover") if "Contact sheet" in str(element.proto)]
    assert not popover.proto.popover.disabled
    sheets = [button.proto.label for button in app.get("download_button")]
    assert sheets == ["PNG", "PDF"]


def test_the_selection_presents_once_images_are_selected(studio: Runtime) -> None:
    items = seed_images(studio.store, studio.archive, "three foxes", count=3)
    app = open_app(GALLERY)
    assert app.button(key="gallery-present-none").disabled  # a button, not a dead link

    select_in_gallery(app, items[2])
    select_in_gallery(app, items[0])

    [present] = [button for button in app.get("link_button") if button.proto.label == "Present"]
    assert present.proto.url == f"/present?images={items[0].image.id},{items[2].image.id}"


# Teams --------------------------------------------------------------------------------


def test_a_signed_in_gallery_opens_on_mine_with_everyone_beside_it(studio: Runtime) -> None:
    seed_images(studio.store, studio.archive, "alice's lighthouse", owner=ALICE)

    bob = app_as(BOB, GALLERY)
    assert bob.button_group(key="whose").value == "Mine"
    assert "alice's lighthouse" not in gallery_prompts(bob)
    bob.button_group(key="whose").set_value("Everyone").run()
    assert "alice's lighthouse" in gallery_prompts(bob)

    alice = app_as(ALICE, GALLERY)
    assert "alice's lighthouse" in gallery_prompts(alice)


def test_private_galleries_show_bob_nothing_of_alices(
    studio: Runtime, monkeypatch: pytest.MonkeyPatch
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


def test_a_range_then_one_out_and_clear(studio: Runtime) -> None:
    items = seed_images(studio.store, studio.archive, "four herons", count=4)
    app = open_app(GALLERY)

    select_in_gallery(app, *items[:3])  # a shift-click's range
    assert handed_over(app, "gallery_tiles")[0]["selected"] == sorted(
        item.image.id for item in items[:3]
    )
    assert app.button(key="gallery-compare").disabled is False
    select_in_gallery(app, items[1], selected=False)
    assert handed_over(app, "gallery_tiles")[0]["selected"] == sorted(
        [items[0].image.id, items[2].image.id]
    )

    app.button(key="gallery-clear-selection").click().run()
    assert handed_over(app, "gallery_tiles")[0]["selected"] == []
    assert app.button(key="gallery-compare").disabled


def test_a_click_on_a_picture_opens_it_in_the_dialog(studio: Runtime) -> None:
    _first, second = seed_images(studio.store, studio.archive, "two herons", count=2)
    app = open_app(GALLERY)

    send_event(app, "gallery_tiles", "open", second.image.id)

    assert app.query_params["image"] == str(second.image.id)
    assert "two herons" in [text.value for text in app.text]  # the dialog's prompt
