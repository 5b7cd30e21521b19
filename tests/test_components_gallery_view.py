"""components.gallery_view: which part of the gallery shows, read from and written to the URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.people import LOCAL
from studio.runtime import Runtime
from tests.app_support import (
    GALLERY,
    gallery_prompts,
    gallery_tiles,
    open_app,
    open_app_studio,
    seed_images,
)


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_filters_come_from_the_url(studio: Runtime) -> None:
    seed_images(studio.store, studio.archive, "a red fox in the snow")
    seed_images(studio.store, studio.archive, "a lighthouse at dusk", favourite=True)
    seed_images(
        studio.store, studio.archive, "the fox, now at night", image_urls=["https://e.x/a.png"]
    )

    searched = open_app(GALLERY, q="fox")
    assert sorted(gallery_prompts(searched)) == ["a red fox in the snow", "the fox, now at night"]
    assert searched.text_input(key="q").value == "fox"

    edits = open_app(GALLERY, q="fox", mode="Edits")
    assert gallery_prompts(edits) == ["the fox, now at night"]
    assert edits.button_group(key="mode").value == "Edits"

    favourites = open_app(GALLERY, fav="true")
    assert gallery_prompts(favourites) == ["a lighthouse at dusk"]
    assert favourites.toggle(key="fav").value is True

    nothing = open_app(GALLERY, q="zebra")
    assert any("No images match" in info.value for info in nothing.info)


def test_changing_a_filter_writes_it_to_the_url_and_goes_back_to_page_one(studio: Runtime) -> None:
    seed_images(studio.store, studio.archive, "a red fox in the snow")
    seed_images(studio.store, studio.archive, "a lighthouse at dusk")
    app = open_app(GALLERY, page="2")

    app.text_input(key="q").set_value("lighthouse").run()

    # Streamlit writes the bound widgets to the URL in the browser (tests/browser).
    assert gallery_prompts(app) == ["a lighthouse at dusk"]


@pytest.mark.parametrize(
    "page",
    ["²", "9" * 5000, "-3", "2.5"],
    ids=["superscript-two", "5000-digits", "negative", "decimal"],
)
def test_a_page_number_that_is_not_one_shows_the_first_page(studio: Runtime, page: str) -> None:
    for n in range(25):
        seed_images(studio.store, studio.archive, f"lighthouse number {n}")

    app = open_app(GALLERY, page=page)  # no "This app has encountered an error"

    assert len(gallery_tiles(app)) == 24
    pager, _below = app.get("pagination")
    assert (pager.proto.value or pager.proto.default, pager.proto.num_pages) == (1, 2)


def test_a_search_longer_than_a_prompt_is_cut_with_a_note(studio: Runtime) -> None:
    seed_images(studio.store, studio.archive, "a red fox in the snow")
    limit = studio.settings.studio_max_prompt_chars
    huge = "fox" * 33_334  # 100,002 characters: too complex a pattern for SQLite in full

    app = open_app(GALLERY, q=huge)

    assert app.text_input(key="q").value == huge  # the link, as it came
    assert f"The search was cut to its first {limit} characters." in [
        caption.value for caption in app.caption
    ]
    assert any("No images match" in info.value for info in app.info)

    short = open_app(GALLERY, q="fox")
    assert gallery_prompts(short) == ["a red fox in the snow"]
    assert not any("was cut" in caption.value for caption in short.caption)


def test_a_board_in_the_url_shows_only_its_images(studio: Runtime) -> None:
    [fox] = seed_images(studio.store, studio.archive, "a red fox in the snow")
    seed_images(studio.store, studio.archive, "a lighthouse at dusk")
    board = studio.service.for_person(LOCAL).boards.create_board("Foxes", [fox.image.id])

    app = open_app(GALLERY, board=str(board.id))
    assert gallery_prompts(app) == ["a red fox in the snow"]
    assert app.selectbox(key="gallery-board").value == board.id

    app.selectbox(key="gallery-board").set_value(0).run()  # All images
    assert sorted(gallery_prompts(app)) == ["a lighthouse at dusk", "a red fox in the snow"]
    assert "board" not in app.query_params


@pytest.mark.parametrize("board", ["999", "x", "²"])
def test_a_board_that_is_not_theirs_shows_the_whole_gallery(studio: Runtime, board: str) -> None:
    seed_images(studio.store, studio.archive, "a red fox in the snow")

    app = open_app(GALLERY, board=board)

    assert gallery_prompts(app) == ["a red fox in the snow"]
