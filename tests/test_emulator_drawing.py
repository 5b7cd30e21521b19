"""The emulator's pictures: the documented sizes, different per prompt and index, repeatable."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from studio.emulator.drawing import draw_edit, draw_generated, encode, nearest_ratio_size
from studio.request import RATIO_PIXELS


@pytest.mark.parametrize("ratio", list(RATIO_PIXELS))
def test_every_ratio_is_drawn_at_its_documented_size(ratio: str) -> None:
    assert draw_generated("a quiet bay", 0, RATIO_PIXELS[ratio]).size == RATIO_PIXELS[ratio]


def test_drawings_differ_by_prompt_and_index_and_repeat_exactly() -> None:
    size = (256, 256)

    def picture(prompt: str, index: int) -> bytes:
        return encode(draw_generated(prompt, index, size), "png")

    assert picture("a quiet bay", 0) == picture("a quiet bay", 0)
    assert picture("a quiet bay", 0) != picture("a quiet bay", 1)
    assert picture("a quiet bay", 0) != picture("a loud city", 0)


@pytest.mark.parametrize(
    ("input_size", "ratio"),
    [((600, 400), "3:2"), ((1000, 1000), "1:1"), ((1080, 1920), "9:16"), ((2000, 1000), "2:1")],
)
def test_an_edit_takes_the_documented_size_nearest_its_input(
    input_size: tuple[int, int], ratio: str
) -> None:
    size = nearest_ratio_size(*input_size)

    assert size == RATIO_PIXELS[ratio]
    assert draw_edit(Image.new("RGB", input_size), "dusk", 0, size).size == size


@pytest.mark.parametrize(
    ("output_format", "pil_format"),
    [(None, "JPEG"), ("jpg", "JPEG"), ("png", "PNG"), ("webp", "WEBP")],
)
def test_pictures_are_encoded_in_the_requested_format(
    output_format: str | None, pil_format: str
) -> None:
    data = encode(draw_generated("a fox", 0, (64, 64)), output_format)

    assert Image.open(io.BytesIO(data)).format == pil_format
