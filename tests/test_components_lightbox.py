"""components.lightbox: one image in a dialog, its settings, and what can be done with it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.runtime import Studio
from tests.app_support import GALLERY, open_app, open_app_studio, seed_images

MARKUP = "**bold** <img src=x onerror=alert(1)> :red[red]"


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Studio]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_dialog_opened_from_the_url_shows_settings_and_actions(studio: Studio) -> None:
    first, second = seed_images(
        studio.store, studio.archive, MARKUP, count=2, aspect_ratio="9:16", output_format="png"
    )
    app = open_app(GALLERY)
    app.query_params["image"] = str(first.image.id)  # /gallery?image=ID opens it
    app.run()

    assert [code.value for code in app.code] == [MARKUP]  # st.code: literal, with a copy button
    settings = " ".join(markdown.value for markdown in app.markdown)
    assert "**Aspect ratio:** 9\\:16" in settings
    assert "**Image:** 1 of 2" in settings
    download = app.get("download_button")
    assert any(button.label == "Download" for button in download)
    assert app.toggle(key=f"lightbox-favourite-{first.image.id}").value is False

    app.toggle(key=f"lightbox-favourite-{first.image.id}").set_value(True).run()
    assert studio.store.image(first.image.id).image.favourite is True  # type: ignore[union-attr]

    app.button(key="lightbox-next").click().run()
    assert app.query_params["image"] == str(second.image.id)
    assert "**Image:** 2 of 2" in " ".join(markdown.value for markdown in app.markdown)


def test_reuse_settings_opens_generate_filled_in(studio: Studio) -> None:
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


def test_edit_this_image_opens_edit_with_it_as_input(studio: Studio) -> None:
    [item] = seed_images(studio.store, studio.archive, "a lighthouse at dusk")
    app = open_app(GALLERY)
    app.query_params["image"] = str(item.image.id)
    app.run()

    app.button(key=f"lightbox-edit-{item.image.id}").click().run()

    assert [title.value for title in app.title] == ["Edit"]
    assert "**Input images** (1 of 3)" in [markdown.value for markdown in app.markdown]
