"""Uploads are checked and scrubbed, thumbnails drawn, sizes read, and downloads named."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from io import BytesIO

import pytest
from PIL import Image, ImageFile, ImageOps, PngImagePlugin

from studio.errors import InvalidImage
from studio.imaging import (
    CleanImage,
    clean_upload,
    download_filename,
    image_size,
    make_thumbnail,
)
from tests.imaging_support import (
    GPS_IFD,
    GPS_LATITUDE,
    ORIENTATION,
    SRGB_PROFILE,
    XMP,
    encode,
    exif_with_gps,
    picture,
    pixels_of,
    webp_chunks,
)

MEGABYTE = 1024 * 1024


@pytest.fixture
def count_loads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Records the size of every image whose pixels Pillow starts to decode."""
    loads: list[tuple[int, int]] = []
    real_load = ImageFile.ImageFile.load

    def load(self: ImageFile.ImageFile) -> object:
        loads.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return loads


# clean_upload: what is refused, and why


def test_a_text_file_renamed_png_is_refused_by_its_content() -> None:
    with pytest.raises(InvalidImage) as caught:
        clean_upload(b"Shopping list:\n- eggs\n- milk\n", "notes.png")
    assert caught.value.message == "“notes.png” is not a PNG, JPEG or WebP image."
    assert str(caught.value) == caught.value.message


@pytest.mark.parametrize(
    ("pillow_format", "named"),
    [("GIF", "a GIF image"), ("BMP", "a BMP image"), ("TIFF", "a TIFF image")],
)
def test_other_image_formats_are_refused_by_name(pillow_format: str, named: str) -> None:
    data = encode(picture(), pillow_format)
    with pytest.raises(InvalidImage) as caught:
        clean_upload(data, "drawing.png")
    assert caught.value.message.startswith(f"“drawing.png” is {named}.")
    assert "PNG, JPEG and WebP" in caught.value.message


def test_an_iphone_heic_photo_is_named_as_such() -> None:
    header = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)
    with pytest.raises(InvalidImage, match="HEIC photo"):
        clean_upload(header, "IMG_0001.HEIC")


def test_an_oversized_file_is_refused_before_anything_else_with_its_size() -> None:
    with pytest.raises(InvalidImage) as caught:
        clean_upload(bytes(30 * MEGABYTE), "scan.png")
    assert caught.value.message.startswith("“scan.png” is 30.0 MB; the limit is 20 MB.")


def test_a_file_just_over_the_limit_never_reads_as_equal_to_it() -> None:
    with pytest.raises(InvalidImage, match=r"is 20\.1 MB; the limit is 20 MB"):
        clean_upload(bytes(20 * MEGABYTE + 1), "scan.png")


def test_a_file_exactly_at_the_size_limit_is_accepted() -> None:
    data = encode(picture(), "PNG")
    assert clean_upload(data, "fits.png", max_bytes=len(data)).width == 96


@pytest.mark.parametrize(
    ("pillow_format", "options"),
    [
        ("PNG", {}),
        ("JPEG", {"quality": 90}),
        ("WEBP", {"quality": 90}),
        ("WEBP", {"lossless": True}),
    ],
)
@pytest.mark.parametrize("kept", [0.6, 0.95])
def test_a_truncated_file_is_refused(
    pillow_format: str, options: dict[str, object], kept: float
) -> None:
    data = encode(picture((256, 256)), pillow_format, **options)
    with pytest.raises(InvalidImage) as caught:
        clean_upload(data[: int(len(data) * kept)], "half.img")
    assert "damaged or incomplete" in caught.value.message


def with_claimed_size(data: bytes, width: int, height: int) -> bytes:
    """The same PNG with an IHDR that claims another size (and a correct CRC)."""
    ihdr = b"IHDR" + struct.pack(">II", width, height) + data[24:29]
    return data[:8] + struct.pack(">I", 13) + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + data[33:]


@pytest.mark.parametrize(
    ("width", "height", "max_pixels"),
    [
        (20000, 20000, 40_000_000),  # over our limit
        (10000, 10000, 500_000_000),  # over Pillow's warning threshold
        (20000, 20000, 1_000_000_000),  # over Pillow's hard limit
    ],
)
def test_a_decompression_bomb_is_refused_without_decoding_it(
    width: int, height: int, max_pixels: int, count_loads: list[tuple[int, int]]
) -> None:
    bomb = with_claimed_size(encode(Image.new("1", (64, 64)), "PNG"), width, height)
    assert len(bomb) < 1000
    with pytest.raises(InvalidImage) as caught:
        clean_upload(bomb, "tiny.png", max_pixels=max_pixels)
    assert "pixels" in caught.value.message
    assert "Scale it down" in caught.value.message
    assert count_loads == []


def test_the_pixel_limit_message_gives_the_size() -> None:
    bomb = with_claimed_size(encode(Image.new("1", (64, 64)), "PNG"), 20000, 20000)
    with pytest.raises(InvalidImage) as caught:
        clean_upload(bomb, "tiny.png")
    assert caught.value.message == (
        "“tiny.png” is 20,000 by 20,000 pixels (400 megapixels); the limit is "
        "40 megapixels. Scale it down and try again."
    )


def test_an_animated_png_is_refused() -> None:
    frames = [picture(), picture().transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    data = encode(frames[0], "PNG", save_all=True, append_images=frames[1:])
    with pytest.raises(InvalidImage, match="animated"):
        clean_upload(data, "spinner.png")


# clean_upload: what comes out


@pytest.mark.parametrize(
    ("pillow_format", "options"),
    [
        ("JPEG", {"quality": 90}),
        ("PNG", {}),
        ("WEBP", {"quality": 90}),
        ("WEBP", {"lossless": True}),
    ],
)
def test_every_kind_of_metadata_is_stripped(pillow_format: str, options: dict[str, object]) -> None:
    extra: dict[str, object] = {"exif": exif_with_gps(), "xmp": XMP}
    if pillow_format == "JPEG":
        extra["comment"] = b"Taken at home"
    if pillow_format == "PNG":
        text = PngImagePlugin.PngInfo()
        text.add_text("Comment", "Taken at home")
        text.add_itxt("XML:com.adobe.xmp", XMP.decode())
        extra = {"exif": exif_with_gps(), "pnginfo": text}
    data = encode(picture(), pillow_format, **options, **extra)
    assert b"PhoneMaker" in data and b"home" in data.lower()

    cleaned = clean_upload(data, "photo")

    assert b"PhoneMaker" not in cleaned.data
    assert b"home" not in cleaned.data.lower()
    with Image.open(BytesIO(cleaned.data)) as image:
        image.load()
        assert not {"exif", "xmp", "comment", "Comment", "XML:com.adobe.xmp"} & set(image.info)
        assert dict(image.getexif()) == {}


def test_exif_orientation_is_applied_and_gps_is_gone() -> None:
    stored = picture((96, 64))
    data = encode(stored, "JPEG", quality=95, exif=exif_with_gps(orientation=6))
    with Image.open(BytesIO(data)) as original:
        assert original.getexif().get_ifd(GPS_IFD)[2] == GPS_LATITUDE

    cleaned = clean_upload(data, "IMG_2041.JPG")

    assert (cleaned.width, cleaned.height) == (64, 96)
    with Image.open(BytesIO(cleaned.data)) as image:
        assert image.size == (64, 96)
        assert image.getexif().get_ifd(GPS_IFD) == {}
        assert ORIENTATION not in image.getexif()
        # Orientation 6 turns the picture a quarter clockwise: the red corner goes top right.
        red, green, blue = image.getpixel((60, 3))
        assert red > 200 and green < 60 and blue < 60
    assert cleaned.data.count(b"Exif\x00\x00") == 0


def test_the_colour_profile_is_kept() -> None:
    data = encode(picture(), "JPEG", icc_profile=SRGB_PROFILE, exif=exif_with_gps())
    cleaned = clean_upload(data, "photo.jpg")
    with Image.open(BytesIO(cleaned.data)) as image:
        assert image.info.get("icc_profile") == SRGB_PROFILE


@pytest.mark.parametrize(
    ("pillow_format", "options", "content_type", "filename"),
    [
        ("PNG", {}, "image/png", "holiday.png"),
        ("JPEG", {"quality": 90}, "image/jpeg", "holiday.jpg"),
        ("WEBP", {"quality": 90}, "image/webp", "holiday.webp"),
    ],
)
def test_the_real_format_decides_type_and_extension(
    pillow_format: str, options: dict[str, object], content_type: str, filename: str
) -> None:
    data = encode(picture(), pillow_format, **options)
    cleaned = clean_upload(data, "C:\\Users\\ana\\holiday.gif")
    assert isinstance(cleaned, CleanImage)
    assert cleaned.content_type == content_type
    assert cleaned.filename == filename
    assert cleaned.extension == filename.rsplit(".", 1)[1]
    with Image.open(BytesIO(cleaned.data)) as image:
        assert image.format == pillow_format


@pytest.mark.parametrize(
    ("pillow_format", "options"),
    [("PNG", {}), ("WEBP", {"lossless": True})],
)
@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_lossless_uploads_keep_their_pixels_exactly(
    pillow_format: str, options: dict[str, object], mode: str
) -> None:
    data = encode(picture(mode=mode), pillow_format, **options)
    cleaned = clean_upload(data, "art.png")
    assert pixels_of(cleaned.data) == pixels_of(data)
    if pillow_format == "WEBP":
        assert b"VP8L" in [fourcc for fourcc, _ in webp_chunks(cleaned.data)]


def test_a_palette_png_keeps_its_transparency() -> None:
    image = picture().convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    data = encode(image, "PNG", transparency=3)
    cleaned = clean_upload(data, "icon.png")
    assert pixels_of(cleaned.data) == pixels_of(data)
    with Image.open(BytesIO(cleaned.data)) as cleaned_image:
        assert cleaned_image.info.get("transparency") == 3


def test_a_lossy_webp_stays_lossy() -> None:
    cleaned = clean_upload(encode(picture(), "WEBP", quality=80), "photo.webp")
    assert [fourcc for fourcc, _ in webp_chunks(cleaned.data)] == [b"VP8 "]


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("", "image.png"),
        ("../../etc/passwd", "passwd.png"),
        (".png", "image.png"),
        ("my.holiday.photo.jpeg", "my.holiday.photo.png"),
        ("Crème brûlée 🍮.png", "Crème brûlée 🍮.png"),
        ("x" * 300 + ".png", "x" * 120 + ".png"),
    ],
)
def test_the_result_keeps_the_users_base_name(filename: str, expected: str) -> None:
    assert clean_upload(encode(picture(), "PNG"), filename).filename == expected


# image_size


@pytest.mark.parametrize(
    ("pillow_format", "kind"), [("PNG", "png"), ("JPEG", "jpeg"), ("WEBP", "webp")]
)
def test_image_size_reads_the_header_only(
    pillow_format: str, kind: str, count_loads: list[tuple[int, int]]
) -> None:
    data = encode(picture((96, 64)), pillow_format)
    assert image_size(data) == (kind, 96, 64)
    assert count_loads == []


def test_image_size_reports_the_size_as_shown_after_exif_rotation() -> None:
    data = encode(picture((96, 64)), "JPEG", exif=exif_with_gps(orientation=8))
    assert image_size(data) == ("jpeg", 64, 96)


def test_image_size_refuses_what_is_not_an_image() -> None:
    with pytest.raises(InvalidImage):
        image_size(b"<html>Bad gateway</html>")


# make_thumbnail


def test_a_thumbnail_is_upright_small_and_carries_nothing_but_pixels() -> None:
    big = picture((1200, 800))
    data = encode(
        big,
        "JPEG",
        quality=95,
        exif=exif_with_gps(orientation=6),
        xmp=XMP,
        icc_profile=SRGB_PROFILE,
    )

    thumbnail = make_thumbnail(data, 300)

    fourccs = [fourcc for fourcc, _ in webp_chunks(thumbnail)]
    assert set(fourccs) <= {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
    with Image.open(BytesIO(thumbnail)) as image:
        assert image.format == "WEBP"
        assert image.size == (200, 300)
        assert not {"exif", "xmp", "icc_profile"} & set(image.info)
        red, green, blue = image.convert("RGB").getpixel((190, 5))
        assert red > 200 and green < 60 and blue < 60


def test_a_thumbnail_looks_like_the_picture() -> None:
    # Smooth content, as photos and renders are; noise would test the codec, not us.
    source = Image.merge(
        "RGB",
        [
            Image.linear_gradient("L").resize((1024, 768)),
            Image.radial_gradient("L").resize((1024, 768)),
            Image.linear_gradient("L").rotate(90).resize((1024, 768)),
        ],
    )
    thumbnail = make_thumbnail(encode(source, "PNG"), 256)
    with Image.open(BytesIO(thumbnail)) as image:
        reference = source.resize(image.size, Image.Resampling.LANCZOS)
        difference = [
            abs(a - b)
            for a, b in zip(image.convert("RGB").tobytes(), reference.tobytes(), strict=True)
        ]
    assert sum(difference) / len(difference) < 3


@pytest.mark.parametrize(
    "make",
    [
        lambda: picture((40, 30), "RGBA"),
        lambda: picture((40, 30), "RGBA").convert("LA"),
        lambda: picture((40, 30)).convert("P", palette=Image.Palette.ADAPTIVE),
        lambda: (
            picture((40, 30)).convert("L").point(lambda value: value * 200, "I").convert("I;16")
        ),
        lambda: picture((40, 30)).convert("1"),
    ],
    ids=["RGBA", "LA", "P", "I;16", "1"],
)
def test_a_small_image_of_any_mode_is_not_enlarged(make: Callable[[], Image.Image]) -> None:
    source = make()
    thumbnail = make_thumbnail(encode(source, "PNG"), 512)
    with Image.open(BytesIO(thumbnail)) as image:
        assert image.size == (40, 30)
        assert image.mode == ("RGBA" if "A" in source.mode else "RGB")


def test_a_sixteen_bit_image_is_scaled_not_clipped_to_white() -> None:
    dark = Image.new("I;16", (32, 32), 8000)  # 12 % grey in 16 bits
    thumbnail = make_thumbnail(encode(dark, "PNG"))
    with Image.open(BytesIO(thumbnail)) as image:
        red, green, blue = image.convert("RGB").getpixel((16, 16))
    assert 20 < red < 40 and red == green == blue


def test_a_thumbnail_of_garbage_is_refused_plainly() -> None:
    with pytest.raises(InvalidImage):
        make_thumbnail(b"not an image at all")


# download_filename


@pytest.mark.parametrize(
    ("prompt", "index", "extension", "expected"),
    [
        ("A red fox in snow", 2, "png", "a-red-fox-in-snow-2.png"),
        ("", 1, "png", "image-1.png"),
        ("   ", 1, "png", "image-1.png"),
        ("🦊🦊🦊", 1, "webp", "image-1.webp"),
        ("雪の中の狐", 3, "jpg", "image-3.jpg"),
        ("Crème brûlée à la Café!", 1, ".JPG", "creme-brulee-a-la-cafe-1.jpg"),
        ("../../etc/passwd", 3, "png", "etc-passwd-3.png"),
        ("a/b\\c:d*e?f", 1, "png", "a-b-c-d-e-f-1.png"),
        ("Fox 🦊 in snow", 4, "webp", "fox-in-snow-4.webp"),
    ],
)
def test_download_filename(prompt: str, index: int, extension: str, expected: str) -> None:
    assert download_filename(prompt, index, extension) == expected


def test_a_long_prompt_makes_a_name_cut_at_a_word() -> None:
    prompt = "A cinematic wide shot of a red fox walking through deep fresh snow at dawn"
    name = download_filename(prompt, 1, "png")
    assert name == "a-cinematic-wide-shot-of-a-red-fox-walking-through-deep-1.png"
    assert len(name.removesuffix("-1.png")) <= 60


def test_a_long_word_is_cut_at_the_limit() -> None:
    name = download_filename("x" * 500, 12, "png", max_chars=40)
    assert name == "x" * 40 + "-12.png"


@pytest.mark.parametrize("prompt", ["a" * 59 + " b", "-" * 80 + "fox", "fox " + "🦊" * 100])
def test_names_are_always_safe(prompt: str) -> None:
    name = download_filename(prompt, 1, "png")
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*-1\.png", name)
    assert len(name) <= 60 + len("-1.png")


def test_exif_transpose_matches_pillow_for_every_orientation() -> None:
    for orientation in range(1, 9):
        data = encode(picture((48, 32)), "PNG", exif=exif_with_gps(orientation))
        with Image.open(BytesIO(data)) as source:
            expected = ImageOps.exif_transpose(source)
        cleaned = clean_upload(data, "turned.png")
        assert pixels_of(cleaned.data) == (expected.mode, expected.size, expected.tobytes())
