"""Compare: two to four selected images side by side, what differs marked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from components.text import escape_markdown
from studio.runtime import Runtime
from tests.app_support import open_app, open_app_studio, seed_images, select_in_gallery

GALLERY = "pages/gallery.py"


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_compare_is_offered_for_two_to_four_selected_images(studio: Runtime) -> None:
    items = [seed_images(studio.store, studio.archive, f"fox {n}")[0] for n in range(5)]
    app = open_app(GALLERY)
    compare = app.button(key="gallery-compare")
    assert compare.disabled

    for count, item in enumerate(items, start=1):
        select_in_gallery(app, item)
        assert app.button(key="gallery-compare").disabled is not (2 <= count <= 4), count


def test_the_settings_that_differ_are_marked(studio: Runtime) -> None:
    [wide] = seed_images(studio.store, studio.archive, "a fox, wide", aspect_ratio="16:9")
    [square] = seed_images(studio.store, studio.archive, "a fox, square", aspect_ratio="1:1")
    app = open_app(GALLERY)
    select_in_gallery(app, wide)
    select_in_gallery(app, square)

    app.button(key="gallery-compare").click().run()

    lines = [markdown.value for markdown in app.markdown if markdown.value.startswith("**")]
    assert "**Prompt:** :orange-background[a fox, wide]" in lines
    assert f"**Aspect ratio:** :orange-background[{escape_markdown('16:9')}]" in lines
    assert f"**Aspect ratio:** :orange-background[{escape_markdown('1:1')}]" in lines
    assert "**Format:** PNG" in lines  # the same for both: not marked
    assert not any("Made:** :orange" in line for line in lines)
    assert [image.proto.imgs[0].alt for image in app.image][-2:] == ["a fox, wide", "a fox, square"]
