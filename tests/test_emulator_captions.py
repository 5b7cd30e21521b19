"""Text on the emulator's pictures: captions in any script the studio's users type, emoji
included."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from studio.emulator.captions import draw_caption, draw_placeholder


def captioned(prompt: str, size: tuple[int, int] = (512, 512)) -> Image.Image:
    image = Image.new("RGB", size, (90, 120, 150))
    draw_caption(image, prompt)
    return image


def differ(first: Image.Image, second: Image.Image) -> bool:
    return ImageChops.difference(first, second).getbbox() is not None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("猫", "犬"),
        ("夜", "朝"),
        ("ねこ", "いぬ"),
        ("고양이", "강아지"),
        ("cat", "dog"),
        ("fox 🦊", "fox 🐺"),
        ("snow ❄️", "snow ☀️"),
        ("👩‍💻", "👨‍🍳"),
    ],
)
def test_different_letters_are_drawn_differently_not_as_the_same_box(
    first: str, second: str
) -> None:
    assert differ(captioned(first), captioned(second))


@pytest.mark.parametrize(
    ("short_prompt", "long_prompt"),
    [("夜の港", "夜の港と灯台" * 40), ("fox 🦊 雪", "fox 🦊 in the snow ❄️ 雪の狐 👩‍💻" * 12)],
)
def test_a_long_prompt_stays_on_two_lines_inside_the_picture(
    short_prompt: str, long_prompt: str
) -> None:
    short = captioned(short_prompt)
    long = captioned(long_prompt)

    changed = ImageChops.difference(long, captioned("")).getbbox()

    assert changed is not None
    _, top, right, bottom = changed
    assert right < 512 * 0.6
    # Two lines high at most: no taller than twice a one-line caption plus the spacing.
    short_box = ImageChops.difference(short, captioned("")).getbbox()
    assert short_box is not None
    assert bottom - top < 2 * (short_box[3] - short_box[1]) + 8


def test_a_blank_prompt_leaves_no_caption() -> None:
    assert not differ(captioned("   "), Image.new("RGB", (512, 512), (90, 120, 150)))


def test_the_placeholder_depends_on_its_size_alone() -> None:
    assert draw_placeholder((300, 200)).tobytes() == draw_placeholder((300, 200)).tobytes()
    assert draw_placeholder((300, 200)).size == (300, 200)
