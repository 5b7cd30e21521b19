"""Styles: saved snippets toggled on under the prompt, added to it when it is sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.runtime import Runtime
from tests.app_support import open_app, open_app_studio, submit_generation
from tests.conftest import posts


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_a_saved_style_toggled_on_is_added_to_the_prompt(studio: Runtime) -> None:
    app = open_app()
    app.text_input(key="style_name").set_value("brand palette")
    app.text_area(key="style_text").set_value("warm orange and charcoal, flat vector")
    app.button(key="style-save").click().run()
    [style] = studio.service.gallery.styles()

    app.button_group(key="generate_styles").set_value([style.id]).run()
    app = submit_generation(app, "a fox")

    assert studio.demo is not None
    assert [body["prompt"] for body in posts(studio.demo)] == [  # type: ignore[index]
        "a fox, warm orange and charcoal, flat vector"
    ]


def test_a_style_without_words_is_refused_where_it_was_typed(studio: Runtime) -> None:
    app = open_app()
    app.text_input(key="style_name").set_value("empty")
    app.button(key="style-save").click().run()

    assert any("style's words" in error.value for error in app.error)
    assert studio.service.gallery.styles() == []


def test_only_your_own_styles_can_be_deleted_and_shared_ones_show_to_all(
    studio: Runtime,
) -> None:
    mine = studio.service.gallery.add_style(name="mine", text="soft light", shared=False)
    theirs = studio.store.gallery.add_style("someone-else", "theirs", "film grain", shared=True)
    studio.store.gallery.add_style("someone-else", "private", "hidden words", shared=False)

    assert [style.name for style in studio.service.gallery.styles()] == ["mine", "theirs"]
    assert not studio.service.gallery.remove_style(theirs)
    assert studio.service.gallery.remove_style(mine)
    assert [style.name for style in studio.service.gallery.styles()] == ["theirs"]
    assert studio.service.gallery.with_styles("a fox", [theirs]) == "a fox, film grain"
