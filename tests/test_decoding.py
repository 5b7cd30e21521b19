"""The decoding policy: only JPEG, PNG and WebP are ever opened from outside bytes, and no
other plugin (EPS hands the bytes to Ghostscript) runs on them."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from studio import decoding, imaging
from studio.archive import Archive
from studio.contact_sheet import CELL, SheetItem, build, cell_origin
from studio.decoding import DECODED_FORMATS, NOT_DECODED, NotDecodable
from studio.errors import InvalidImage
from tests.decoding_support import (  # noqa: F401 (a fixture, used by name)
    REFUSED_FORMATS,
    Programs,
    encoded,
    no_programs_fixture,
)
from tests.disk_support import files_in


def test_the_policy_is_jpeg_png_and_webp() -> None:
    assert DECODED_FORMATS == ("JPEG", "PNG", "WEBP")


@pytest.mark.parametrize("pillow_format", DECODED_FORMATS)
def test_jpeg_png_and_webp_open(pillow_format: str) -> None:
    data = encoded(pillow_format)
    with decoding.open_image(data) as header, decoding.decode(data) as image:
        assert (header.format, header.size) == (pillow_format, (24, 16))
        assert (image.format, image.size) == (pillow_format, (24, 16))


@pytest.mark.parametrize("pillow_format", REFUSED_FORMATS)
def test_other_formats_are_refused_without_starting_a_program(
    pillow_format: str, no_programs: Programs
) -> None:
    data = encoded(pillow_format)
    for opener in (decoding.open_image, decoding.decode):
        with pytest.raises(NotDecodable) as refused:
            opener(data)
        assert refused.value.message == NOT_DECODED
    assert no_programs.started == []


@pytest.mark.parametrize("pillow_format", REFUSED_FORMATS)
def test_the_archive_keeps_no_result_in_another_format(
    pillow_format: str, no_programs: Programs, tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "images")
    data = encoded(pillow_format)
    with pytest.raises(NotDecodable):
        archive.save(data)
    for reader in (imaging.image_size, imaging.make_thumbnail):
        with pytest.raises(NotDecodable):
            reader(data)
    assert files_in(tmp_path) == []
    assert no_programs.started == []


@pytest.mark.parametrize("pillow_format", REFUSED_FORMATS)
def test_an_upload_in_another_format_is_refused_unopened(
    pillow_format: str, no_programs: Programs
) -> None:
    with pytest.raises(InvalidImage) as refused:
        imaging.clean_upload(encoded(pillow_format), f"picture.{pillow_format.lower()}")
    assert "PNG, JPEG" in refused.value.message
    assert no_programs.started == []


def test_a_contact_sheet_shows_a_panel_for_a_picture_it_may_not_open(
    no_programs: Programs,
) -> None:
    sheet = build("Sheet", [SheetItem(encoded("EPS"), "a fox", "1:1")], columns=1)
    x, y = cell_origin(0, 1)
    with Image.open(BytesIO(sheet)) as image:
        # The grey "missing" panel, where the picture (orange) would have been.
        assert image.convert("RGB").getpixel((x + CELL // 2, y + CELL // 2)) == (215, 208, 202)
    assert no_programs.started == []
