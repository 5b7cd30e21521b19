"""Lettering: letters in WenQuanYi Micro Hei, emoji in Noto Emoji, never the box (tofu)."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont, features

from studio.lettering import TEXT_FONT, Lettering, clusters, lettering, wrap

SIZE = 32
PAPER, INK = (255, 255, 255), (0, 0, 0)


def lettered(text: str) -> Image.Image:
    canvas = Image.new("RGB", (SIZE * 12, SIZE * 2), PAPER)
    Lettering(SIZE).draw(ImageDraw.Draw(canvas), (4, 4), text, INK)
    return canvas


def in_letters_font(text: str) -> Image.Image:
    """`text` drawn by the letters' font alone: a box (.notdef, tofu) for each character
    it lacks."""
    canvas = Image.new("RGB", (SIZE * 12, SIZE * 2), PAPER)
    font = ImageFont.truetype(TEXT_FONT, SIZE)
    ImageDraw.Draw(canvas).text((4, 4), text, font=font, fill=INK)
    return canvas


def differ(first: Image.Image, second: Image.Image) -> bool:
    return ImageChops.difference(first, second).getbbox() is not None


@pytest.mark.parametrize("emoji", ["🦊", "❄️", "☕", "👍🏽", "👩‍💻", "🇯🇵", "1️⃣"])
def test_an_emoji_is_drawn_as_a_picture_not_as_the_box(emoji: str) -> None:
    drawn = lettered(emoji)

    assert differ(drawn, Image.new("RGB", drawn.size, PAPER))  # not blank
    assert differ(drawn, in_letters_font("\U0010ffff"))  # one box
    assert differ(drawn, in_letters_font(emoji))  # boxes, as before Noto Emoji


def test_different_emoji_look_different() -> None:
    assert differ(lettered("🦊"), lettered("🐺"))
    assert differ(lettered("❄️"), lettered("☀️"))


def test_text_without_emoji_is_drawn_exactly_as_the_letters_font_draws_it() -> None:
    text = "1. 雪の中の赤い狐 a red fox, 고양이"
    alone = Image.new("RGB", (SIZE * 20, SIZE * 2), PAPER)
    ImageDraw.Draw(alone).text((4, 4), text, font=ImageFont.truetype(TEXT_FONT, SIZE), fill=INK)
    lettering = Image.new("RGB", alone.size, PAPER)
    Lettering(SIZE).draw(ImageDraw.Draw(lettering), (4, 4), text, INK)

    assert not differ(alone, lettering)


def test_emoji_sit_on_the_letters_baseline_within_their_measured_box() -> None:
    lettering = Lettering(SIZE)
    text = "fox 🦊 in the snow ❄️ 雪"
    canvas = Image.new("RGB", (SIZE * 14, SIZE * 3), PAPER)
    lettering.draw(ImageDraw.Draw(canvas), (0, SIZE), text, INK)
    left, top, right, bottom = lettering.getbbox(text)

    inked = ImageChops.difference(canvas, Image.new("RGB", canvas.size, PAPER)).getbbox()

    assert inked is not None
    assert inked[0] >= left and inked[2] <= right + 1
    assert inked[1] >= SIZE + top - 1 and inked[3] <= SIZE + bottom + 1
    assert right == pytest.approx(lettering.getlength(text), abs=SIZE * 0.2)


def test_an_emoji_sequence_is_never_cut() -> None:
    assert clusters("a👩‍💻b") == ["a", "👩‍💻", "b"]
    assert clusters("🇯🇵🇫🇷") == ["🇯🇵", "🇫🇷"]
    assert clusters("❄️1️⃣👍🏽") == ["❄️", "1️⃣", "👍🏽"]
    assert clusters("雪 ♥") == ["雪", " ", "♥"]


@pytest.mark.skipif(not features.check_feature("raqm"), reason="ZWJ sequences need libraqm")
def test_a_zwj_sequence_is_one_picture_wide() -> None:
    lettering = Lettering(SIZE)

    assert lettering.getlength("👩‍💻") == pytest.approx(lettering.getlength("👩"))


def test_lines_break_between_words_where_they_can() -> None:
    font = lettering(16)
    words = ["a", "red", "fox", "jumps", "over", "the", "lazy", "dog", "in", "the", "snow"]
    lines = wrap(" ".join(words), font, 120, 5)
    assert len(lines) > 1
    assert [word for line in lines for word in line.split(" ")] == words
    assert all(font.getlength(line) <= 120 for line in lines)


def test_text_without_spaces_breaks_between_characters_and_is_cut_with_an_ellipsis() -> None:
    font = lettering(16)
    lines = wrap("雪の中の赤い狐" * 20, font, 120, 2)
    assert len(lines) == 2 and lines[-1].endswith("…")
    assert all(font.getlength(line) <= 120 for line in lines)
