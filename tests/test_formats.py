"""studio.formats: one table of image formats, agreeing with Pillow and with FoxAPI."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from studio import formats
from studio.formats import JPEG, KNOWN, PNG, WEBP, ImageFormat


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("jpeg", JPEG),
        ("jpg", JPEG),
        ("JPEG", JPEG),
        (".jpg", JPEG),
        (" Jpg ", JPEG),
        ("png", PNG),
        ("PNG", PNG),
        ("webp", WEBP),
        ("WEBP", WEBP),
        ("gif", None),
        ("", None),
        (None, None),
    ],
)
def test_every_name_of_a_format_finds_that_format(
    name: str | None, expected: ImageFormat | None
) -> None:
    assert formats.find(name) is expected


def test_no_name_belongs_to_two_formats() -> None:
    names = [name for fmt in KNOWN for name in {fmt.kind, fmt.extension}]

    assert len(names) == len(set(names))


def test_every_output_format_foxapi_takes_is_one_the_studio_keeps() -> None:
    assert {formats.of(name) for name in formats.OUTPUT_FORMATS} == set(KNOWN)


def test_a_format_the_studio_does_not_keep_is_refused_by_name() -> None:
    with pytest.raises(KeyError):
        formats.of("gif")


@pytest.mark.parametrize(
    ("name", "label"),
    [
        (None, "Auto"),
        ("", "Auto"),
        ("auto", "Auto"),
        ("jpg", "JPG"),
        ("jpeg", "JPG"),
        ("png", "PNG"),
        ("webp", "WebP"),
        ("gif", "GIF"),
    ],
)
def test_labels_are_what_people_read(name: str | None, label: str) -> None:
    assert formats.label(name) == label


@pytest.mark.parametrize(
    ("output_format", "choice"),
    [("jpeg", "jpg"), ("jpg", "jpg"), ("png", "png"), ("webp", "webp"), (None, "auto")],
)
def test_a_requests_format_is_one_of_the_forms_choices(
    output_format: str | None, choice: str
) -> None:
    assert formats.form_choice(output_format) == choice
    assert choice in formats.FORM_CHOICES


@pytest.mark.parametrize(
    ("name", "mime_type"),
    [
        ("jpg", "image/jpeg"),
        ("jpeg", "image/jpeg"),
        ("png", "image/png"),
        ("webp", "image/webp"),
        ("gif", "application/octet-stream"),
        (None, "application/octet-stream"),
    ],
)
def test_mime_types(name: str | None, mime_type: str) -> None:
    assert formats.mime_type(name) == mime_type


def test_files_are_named_with_the_usual_extension() -> None:
    assert [formats.extension(name) for name in ("jpeg", "jpg", "png", "webp")] == [
        "jpg",
        "jpg",
        "png",
        "webp",
    ]


@pytest.mark.parametrize("fmt", KNOWN, ids=[fmt.kind for fmt in KNOWN])
def test_pillow_writes_and_reads_each_format_by_its_name_and_mime_type(fmt: ImageFormat) -> None:
    output = BytesIO()
    Image.new("RGB", (4, 4), (200, 80, 40)).save(output, fmt.pillow_name)

    with Image.open(BytesIO(output.getvalue())) as reopened:
        assert reopened.format == fmt.pillow_name
        assert formats.find(reopened.format) is fmt
    assert Image.MIME[fmt.pillow_name] == fmt.mime_type
