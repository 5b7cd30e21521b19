"""components.gallery_grid: the grid of thumbnails, its pages and the selection."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from studio.runtime import Studio
from tests.app_support import GALLERY, open_app, open_app_studio, seed_images, texts

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
    assert download.proto.url.startswith(f"/api/zip/{ids}?viewer=local&expires=")
