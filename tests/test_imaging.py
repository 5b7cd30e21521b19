"""Uploads are checked and scrubbed; downloads carry the prompt with their pixels intact."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ElementTree
import zlib
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image, ImageCms, ImageFile, ImageOps, PngImagePlugin

from studio.errors import InvalidImage
from studio.imaging import (
    CleanImage,
    clean_upload,
    download_filename,
    image_size,
    make_thumbnail,
)
from studio.metadata import ImageMetadata, embed_metadata

MEGABYTE = 1024 * 1024
GPS_IFD = 0x8825
ORIENTATION = 0x0112
IMAGE_DESCRIPTION = 0x010E
GPS_LATITUDE = (52.0, 22.0, 41.0)
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><secret>Home address</secret></x:xmpmeta>'
SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
NAMESPACES = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "imagestudio": "urn:image-studio:ns:1.0/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "xmpNote": "http://ns.adobe.com/xmp/note/",
}
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
EXIF_HEADER = b"Exif\x00\x00"
PNG_XMP_KEYWORD = b"XML:com.adobe.xmp"
# The photo tools the downloads are written for, and the Debian packages .ci/run installs.
PHOTO_TOOL_PACKAGES = {
    "exiftool": "libimage-exiftool-perl",
    "exiv2": "exiv2",
    "pdftotext": "poppler-utils",
    "pdfinfo": "poppler-utils",
    "pdfimages": "poppler-utils",
    "pdffonts": "poppler-utils",
}
# XResolution, YResolution, ResolutionUnit, the Exif IFD; and JPEG's YCbCrPositioning.
NEW_EXIF_TAGS, YCBCR_POSITIONING = (0x011A, 0x011B, 0x0128, 0x8769), 0x0213
EXTENDED_XMP_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"
# Three signed input addresses of about 30 KB each, like the ones that broke Download.
LONG_INPUT_URLS = tuple(
    f"https://cdn.example.com/uploads/{index}/photo.png?token={'Ab9&x=' * 5_000}"
    for index in range(3)
)


def picture(size: tuple[int, int] = (96, 64), mode: str = "RGB") -> Image.Image:
    """A noisy picture with a red top-left corner, so orientation and pixels can be told."""
    noise = random.Random(7)
    image = Image.new("RGB", size)
    image.putdata(
        [
            (noise.randrange(256), noise.randrange(256), noise.randrange(256))
            for _ in range(size[0] * size[1])
        ]
    )
    image.paste((255, 0, 0), (0, 0, size[0] // 4, size[1] // 4))
    if mode == "RGBA":
        image.putalpha(Image.linear_gradient("L").resize(size))
    return image.convert(mode)


def encode(image: Image.Image, pillow_format: str, **options: object) -> bytes:
    output = BytesIO()
    image.save(output, pillow_format, **options)
    return output.getvalue()


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = GPS_LATITUDE
    gps[3] = "E"
    gps[4] = (4.0, 53.0, 12.0)
    return exif


def pixels_of(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(BytesIO(data)) as image:
        image.load()
        return image.mode, image.size, image.tobytes()


def webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    chunks = []
    position = 12
    while position < len(data):
        fourcc = data[position : position + 4]
        (size,) = struct.unpack("<I", data[position + 4 : position + 8])
        chunks.append((fourcc, data[position + 8 : position + 8 + size]))
        position += 8 + size + (size & 1)
    assert position == len(data)
    return chunks


def png_chunk_types(data: bytes) -> list[bytes]:
    types = []
    position = 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        chunk_type = data[position + 4 : position + 8]
        body = data[position + 4 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(body) & 0xFFFFFFFF == crc, chunk_type
        types.append(chunk_type)
        position += 12 + length
    return types


def metadata(prompt: str = "A red fox in snow", **changes: object) -> ImageMetadata:
    values: dict[str, object] = {
        "prompt": prompt,
        "model": "grok-imagine-image",
        "mode": "generate",
        "aspect_ratio": "16:9",
        "output_format": "png",
        "num_outputs": 4,
        "image_index": 2,
        "task_id": "task-unified-1757165031-uyujaw3d",
        "created_at": "2025-09-06T13:23:51+00:00",
        "width": 1408,
        "height": 768,
    }
    return ImageMetadata(**{**values, **changes})


def xmp_fields(
    xmp: bytes | str, extended: bytes | None = None
) -> tuple[str, dict[str, object], str]:
    """(dc:description, the image_studio JSON, the IPTC source type) from an XMP packet.

    With `extended` (a JPEG's reassembled extended XMP), properties may be in either part.
    """
    text = xmp.decode("utf-8") if isinstance(xmp, bytes) else xmp
    packet = text[text.index("<x:xmpmeta") : text.index("</x:xmpmeta>") + len("</x:xmpmeta>")]
    roots = [ElementTree.fromstring(packet)]  # noqa: S314 (a packet these tests just wrote)
    if extended is not None:
        roots.append(ElementTree.fromstring(extended))  # noqa: S314 (the same)

    def find(path: str) -> ElementTree.Element:
        (found,) = [
            element for root in roots if (element := root.find(path, NAMESPACES)) is not None
        ]
        return found

    description = find(".//dc:description/rdf:Alt/rdf:li")
    studio = find(".//imagestudio:image_studio")
    source = find(".//Iptc4xmpExt:DigitalSourceType")
    return description.text or "", json.loads(studio.text or ""), source.text or ""


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of every segment before the scan, checking each length field."""
    assert data[:2] == b"\xff\xd8"
    segments = []
    position = 2
    while data[position + 1] != 0xDA:
        assert data[position] == 0xFF
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        assert length >= 2
        segments.append((data[position + 1], data[position + 4 : position + 2 + length]))
        position += 2 + length
    return segments


def jpeg_xmp(data: bytes) -> tuple[bytes, bytes | None]:
    """The main XMP packet and, if it names one, the extended XMP reassembled (XMP part 3)."""
    app1 = [payload for marker, payload in jpeg_segments(data) if marker == 0xE1]
    (standard,) = [p.removeprefix(XMP_HEADER) for p in app1 if p.startswith(XMP_HEADER)]
    portions = [
        p.removeprefix(EXTENDED_XMP_HEADER) for p in app1 if p.startswith(EXTENDED_XMP_HEADER)
    ]
    named = re.search(rb"<xmpNote:HasExtendedXMP>([0-9A-F]{32})<", standard)
    if named is None:
        assert portions == []
        return standard, None
    guid = named.group(1)
    assert portions and all(portion[:32] == guid for portion in portions)
    (full_length,) = {struct.unpack(">I", portion[32:36])[0] for portion in portions}
    extended = bytearray(full_length)
    covered = 0
    for portion in portions:
        (offset,) = struct.unpack(">I", portion[36:40])
        extended[offset : offset + len(portion) - 40] = portion[40:]
        covered += len(portion) - 40
    assert covered == full_length
    assert hashlib.md5(extended).hexdigest().upper().encode() == guid  # noqa: S324 (the spec's GUID)
    return standard, bytes(extended)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, payload) of every chunk, after checking each chunk's CRC."""
    png_chunk_types(data)
    chunks = []
    position = 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        chunks.append(
            (data[position + 4 : position + 8], data[position + 8 : position + 8 + length])
        )
        position += 12 + length
    return chunks


def exif_description(image: Image.Image) -> str:
    """EXIF ImageDescription as UTF-8 (Pillow decodes EXIF text as Latin-1)."""
    return str(image.getexif()[IMAGE_DESCRIPTION]).encode("latin-1").decode("utf-8")


def photo_tool(name: str) -> str:
    """The path of exiftool or exiv2: missing, it skips the test, or fails it in CI."""
    path = shutil.which(name)
    if path is None:
        reason = (
            f"{name} is not installed (Debian's {PHOTO_TOOL_PACKAGES[name]}, which .ci/run "
            "installs)."
        )
        required = [
            variable
            for variable in ("CI", "STUDIO_REQUIRE_PHOTO_TOOLS")
            if os.environ.get(variable, "").strip().lower() not in ("", "0", "false")
        ]
        if required:
            pytest.fail(f"{reason} {required[0]} is set, so this is a failure.")
        pytest.skip(reason)
    return path


def exiftool_fields(path: Path, *tags: str) -> dict[str, object]:
    """What exiftool reads from `path`: each of `tags` (group:name) that it finds."""
    done = subprocess.run(
        [
            photo_tool("exiftool"),
            "-json",
            "-G1",
            "-charset",
            "utf8",
            *(f"-{t}" for t in tags),
            path,
        ],
        capture_output=True,
        check=True,
    )
    (fields,) = json.loads(done.stdout)
    return {key: value for key, value in fields.items() if key != "SourceFile"}


def exiv2_fields(path: Path, *keys: str) -> dict[str, str]:
    """What exiv2 reads from `path`: each of `keys` (Exif.Image.X, Xmp.dc.x) it finds."""
    done = subprocess.run(
        [photo_tool("exiv2"), "-q", "-Pkv", *(f"-K{key}" for key in keys), path],
        capture_output=True,
        check=False,  # exiv2 exits 1 when a key is absent: the comparison says which
    )
    fields = {}
    for line in done.stdout.decode("utf-8").splitlines():
        key, _, value = line.partition(" ")
        fields[key] = value.strip()
    return fields


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


# embed_metadata


EMBED_CASES = [
    pytest.param("PNG", "RGB", {}, id="png"),
    pytest.param("PNG", "RGBA", {}, id="png-rgba"),
    pytest.param("JPEG", "RGB", {"quality": 90}, id="jpeg"),
    pytest.param("JPEG", "RGB", {"quality": 90, "exif": exif_with_gps(6)}, id="jpeg-exif"),
    pytest.param("WEBP", "RGB", {"quality": 80}, id="webp-lossy"),
    pytest.param("WEBP", "RGB", {"lossless": True}, id="webp-lossless"),
    pytest.param("WEBP", "RGBA", {"lossless": True}, id="webp-lossless-alpha"),
    pytest.param("WEBP", "RGBA", {"quality": 80}, id="webp-lossy-alpha"),
    pytest.param("WEBP", "RGB", {"quality": 80, "icc_profile": SRGB_PROFILE}, id="webp-icc"),
]
PROMPTS = [
    pytest.param("A red fox in snow, 35mm", id="ascii"),
    pytest.param('Renard roux 🦊 dans la neige — ça glisse, <b>"雪"</b> & co', id="non-ascii"),
    pytest.param("Café au lait, crème brûlée", id="latin-1"),
]


def read_back(data: bytes) -> tuple[str, dict[str, object]]:
    """(prompt, image_studio dict) as another program would read them from the file.

    Every place the file carries them must agree: the XMP everywhere, the text chunks of
    a PNG, the EXIF description of a JPEG or WebP.
    """
    with Image.open(BytesIO(data)) as image:
        if image.format == "JPEG":
            assert image.info["xmp"] == jpeg_xmp(data)[0]
            description, studio, _ = xmp_fields(*jpeg_xmp(data))
        else:
            description, studio, _ = xmp_fields(image.info["xmp"])
        if image.format == "PNG":
            parameters = str(image.info["parameters"])
            assert parameters.rsplit("\n", 1)[0] == description
            assert json.loads(str(image.info["image_studio"])) == studio
        else:
            assert exif_description(image) == description
    return description, studio


@pytest.mark.parametrize(("pillow_format", "mode", "options"), EMBED_CASES)
@pytest.mark.parametrize("prompt", PROMPTS)
def test_embedded_metadata_reads_back_and_the_pixels_are_untouched(
    pillow_format: str, mode: str, options: dict[str, object], prompt: str
) -> None:
    original = encode(picture(mode=mode), pillow_format, **options)
    info = metadata(prompt, input_images=("https://example.com/a,b.png",))

    copy = embed_metadata(original, info)

    assert pixels_of(copy) == pixels_of(original)
    assert read_back(copy) == (prompt, info.as_dict())
    with Image.open(BytesIO(original)) as before, Image.open(BytesIO(copy)) as after:
        assert after.format == before.format
        exif_after = after.getexif()
        if pillow_format != "PNG":
            del exif_after[IMAGE_DESCRIPTION]  # ours: the rest is the file's own, kept
            if not before.getexif():  # new EXIF: with the tags the standard requires
                assert set(NEW_EXIF_TAGS) <= set(exif_after)
                for tag in (*NEW_EXIF_TAGS, YCBCR_POSITIONING):
                    exif_after.pop(tag, None)
        assert exif_after == before.getexif()
        assert exif_after.get_ifd(GPS_IFD) == before.getexif().get_ifd(GPS_IFD)
        assert after.info.get("icc_profile") == before.info.get("icc_profile")
    with Image.open(BytesIO(copy)) as image:
        image.verify()


def test_png_metadata_is_in_valid_chunks_before_the_pixels() -> None:
    copy = embed_metadata(encode(picture(), "PNG"), metadata("Café 🦊"))
    types = png_chunk_types(copy)
    assert types[0] == b"IHDR" and types[-1] == b"IEND"
    assert types.index(b"iTXt") < types.index(b"IDAT")
    with Image.open(BytesIO(copy)) as image:
        image.verify()


def test_png_parameters_follow_the_automatic1111_layout() -> None:
    info = metadata("A red fox in snow\nwide shot")
    with Image.open(BytesIO(embed_metadata(encode(picture(), "PNG"), info))) as image:
        assert image.info["parameters"] == (
            "A red fox in snow\nwide shot\n"
            "Model: grok-imagine-image, Size: 1408x768, Aspect ratio: 16:9, Format: png, "
            "Task: task-unified-1757165031-uyujaw3d, Created: 2025-09-06T13:23:51+00:00, "
            "Mode: generate, Image: 2 of 4"
        )


def test_parameters_leave_out_a_size_not_yet_known() -> None:
    text = metadata(width=0, height=0).parameters_text()
    assert text.endswith(
        "\nModel: grok-imagine-image, Aspect ratio: 16:9, Format: png, "
        "Task: task-unified-1757165031-uyujaw3d, Created: 2025-09-06T13:23:51+00:00, "
        "Mode: generate, Image: 2 of 4"
    )


def test_a_value_with_a_comma_is_quoted_so_the_list_still_parses() -> None:
    text = metadata(mode="edit", input_images=("https://x.test/a,b.png",)).parameters_text()
    assert text.endswith('Mode: edit, Image: 2 of 4, Input images: "https://x.test/a,b.png"')


def test_jpeg_gets_a_comment_and_keeps_jfif_and_exif_first() -> None:
    original = encode(picture(), "JPEG", exif=exif_with_gps())
    assert original[2:4] == b"\xff\xe0"
    info = metadata("Café 🦊")
    copy = embed_metadata(original, info)
    assert copy[2:4] == b"\xff\xe0"
    assert copy.index(b"Exif\x00\x00") < copy.index(b"http://ns.adobe.com/xap/1.0/\x00")
    with Image.open(BytesIO(copy)) as image:
        assert image.info["comment"].decode("utf-8") == info.parameters_text()


@pytest.mark.parametrize("pillow_format", ["PNG", "JPEG", "WEBP"])
@pytest.mark.parametrize("own_exif", [False, True], ids=["plain", "own-exif"])
def test_embedding_again_replaces_the_earlier_metadata(pillow_format: str, own_exif: bool) -> None:
    options: dict[str, object] = {"xmp": XMP}
    if own_exif:
        options["exif"] = exif_with_gps()
    original = encode(picture(), pillow_format, **options)
    once = embed_metadata(original, metadata("second"))
    copy = embed_metadata(embed_metadata(original, metadata("first")), metadata("second"))
    assert read_back(copy)[0] == "second"
    assert b"first" not in copy
    assert b"Home address" not in copy
    assert pixels_of(copy) == pixels_of(original)
    # Nothing piles up: embedding over our own metadata gives the very same file.
    assert embed_metadata(once, metadata("second")) == once


def test_png_xmp_is_one_uncompressed_itxt_chunk_before_the_pixels() -> None:
    info = metadata("狐狸 in snow, café")
    copy = embed_metadata(embed_metadata(encode(picture(), "PNG"), metadata("first")), info)
    chunks = png_chunks(copy)
    (position,) = [
        index
        for index, (chunk_type, payload) in enumerate(chunks)
        if payload.startswith(PNG_XMP_KEYWORD + b"\x00")
    ]
    assert position < [chunk_type for chunk_type, _ in chunks].index(b"IDAT")
    chunk_type, payload = chunks[position]
    assert chunk_type == b"iTXt"
    # Compression flag and method 0, empty language tag and translated keyword.
    assert payload[len(PNG_XMP_KEYWORD) : len(PNG_XMP_KEYWORD) + 5] == bytes(5)
    description, record, _ = xmp_fields(payload[len(PNG_XMP_KEYWORD) + 5 :])
    assert (description, record) == ("狐狸 in snow, café", info.as_dict())


def test_a_files_own_exif_is_kept_and_only_its_description_replaced() -> None:
    exif = exif_with_gps(6)
    exif[IMAGE_DESCRIPTION] = "Holiday at home"
    exif.get_ifd(0x8769)[0x9003] = "2024:07:01 10:00:00"  # DateTimeOriginal, in the Exif IFD
    original = encode(picture(), "JPEG", exif=exif)
    copy = embed_metadata(original, metadata("狐狸 in snow, café"))
    assert b"Holiday" not in copy
    app1 = [payload for marker, payload in jpeg_segments(copy) if marker == 0xE1]
    assert [payload.startswith(EXIF_HEADER) for payload in app1] == [True, False]
    with Image.open(BytesIO(original)) as before, Image.open(BytesIO(copy)) as after:
        assert exif_description(after) == "狐狸 in snow, café"
        kept, had = after.getexif(), before.getexif()
        assert {tag: kept[tag] for tag in had if tag != IMAGE_DESCRIPTION} == {
            tag: had[tag] for tag in had if tag != IMAGE_DESCRIPTION
        }
        for ifd in (GPS_IFD, 0x8769):
            assert kept.get_ifd(ifd) == had.get_ifd(ifd)
    assert pixels_of(copy) == pixels_of(original)


def test_a_new_jpeg_exif_segment_comes_first_after_jfif() -> None:
    copy = embed_metadata(encode(picture(), "JPEG"), metadata())
    markers = [(marker, payload[:6]) for marker, payload in jpeg_segments(copy)]
    assert markers[0][0] == 0xE0 and markers[1] == (0xE1, EXIF_HEADER)


@pytest.mark.parametrize("pillow_format", ["PNG", "JPEG", "WEBP"])
@pytest.mark.parametrize("prompt", ["A red fox in snow, 35mm", "狐狸 in snow, café"])
def test_exiftool_and_exiv2_read_the_prompt(
    pillow_format: str, prompt: str, tmp_path: Path
) -> None:
    original = encode(picture(), pillow_format)
    path = tmp_path / f"fox.{pillow_format.lower()}"
    path.write_bytes(embed_metadata(original, metadata(prompt)))

    exif = pillow_format != "PNG"
    assert exiftool_fields(path, "XMP-dc:Description", "IFD0:ImageDescription") == {
        "XMP-dc:Description": prompt,
        **({"IFD0:ImageDescription": prompt} if exif else {}),
    }
    assert exiv2_fields(path, "Xmp.dc.description", "Exif.Image.ImageDescription") == {
        "Xmp.dc.description": f'lang="x-default" {prompt}',
        **({"Exif.Image.ImageDescription": prompt} if exif else {}),
    }
    assert pixels_of(path.read_bytes()) == pixels_of(original)


@pytest.mark.parametrize(
    ("options", "alpha"),
    [({"quality": 80}, False), ({"lossless": True}, False), ({"lossless": True}, True)],
)
def test_a_simple_webp_becomes_extended_with_the_right_flags(
    options: dict[str, object], alpha: bool
) -> None:
    original = encode(picture((97, 63), "RGBA" if alpha else "RGB"), "WEBP", **options)
    assert webp_chunks(original)[0][0] in (b"VP8 ", b"VP8L")
    copy = embed_metadata(original, metadata())
    chunks = webp_chunks(copy)
    # VP8X, the pixels (alpha included), then EXIF and XMP, as the container spec orders them.
    assert [fourcc for fourcc, _ in chunks] == [
        b"VP8X",
        *dict(webp_chunks(original)),
        b"EXIF",
        b"XMP ",
    ]
    header = chunks[0][1]
    assert header[0] == 0x08 | 0x04 | (0x10 if alpha else 0)
    width = int.from_bytes(header[4:7], "little") + 1
    height = int.from_bytes(header[7:10], "little") + 1
    assert (width, height) == (97, 63)


@pytest.mark.parametrize(("pillow_format", "options"), [("JPEG", {}), ("PNG", {}), ("WEBP", {})])
def test_an_edit_with_90_kb_of_input_addresses_keeps_them_all(
    pillow_format: str, options: dict[str, object]
) -> None:
    original = encode(picture(), pillow_format, **options)
    prompt = "Make it night & add <stars>"
    info = metadata(prompt, mode="edit", aspect_ratio=None, input_images=LONG_INPUT_URLS)
    assert len(" ".join(LONG_INPUT_URLS)) > 90_000

    copy = embed_metadata(original, info)

    assert pixels_of(copy) == pixels_of(original)
    description, record = read_back(copy)
    assert description == prompt
    assert record == info.as_dict()
    assert record["input_images"] == list(LONG_INPUT_URLS)
    with Image.open(BytesIO(copy)) as image:
        image.verify()


def test_jpeg_xmp_too_big_for_a_segment_is_split_as_extended_xmp() -> None:
    info = metadata("A fox at night", mode="edit", aspect_ratio=None, input_images=LONG_INPUT_URLS)
    copy = embed_metadata(encode(picture(), "JPEG"), info)

    standard, extended = jpeg_xmp(copy)
    assert extended is not None
    # What photo tools show stays in the main packet; the full record is in the extension.
    assert b"image_studio" not in standard and b"A fox at night" in standard
    assert not extended.startswith(b"<?xpacket")
    description, record, source = xmp_fields(standard, extended)
    assert (description, record) == ("A fox at night", info.as_dict())
    assert source.endswith("/compositeWithTrainedAlgorithmicMedia")
    extension_segments = [
        payload
        for marker, payload in jpeg_segments(copy)
        if payload.startswith(EXTENDED_XMP_HEADER)
    ]
    assert len(extension_segments) > 1  # the record alone is larger than a segment


def test_a_jpeg_comment_that_cannot_fit_names_the_input_count_and_keeps_the_settings() -> None:
    info = metadata("A fox at night", mode="edit", aspect_ratio=None, input_images=LONG_INPUT_URLS)
    copy = embed_metadata(encode(picture(), "JPEG"), info)
    (comment,) = [payload for marker, payload in jpeg_segments(copy) if marker == 0xFE]
    assert comment.decode("utf-8") == (
        "A fox at night\nModel: grok-imagine-image, Size: 1408x768, Format: png, "
        "Task: task-unified-1757165031-uyujaw3d, Created: 2025-09-06T13:23:51+00:00, "
        "Mode: edit, Image: 2 of 4, Input images: 3 (addresses in the XMP)"
    )


def test_a_prompt_too_long_for_a_jpeg_segment_is_whole_in_the_extended_xmp() -> None:
    prompt = "🦊 fox & hare " * 12_000
    original = encode(picture(), "JPEG")
    copy = embed_metadata(original, metadata(prompt))
    description, studio, _ = xmp_fields(*jpeg_xmp(copy))
    assert description.endswith("…")
    assert prompt.startswith(description.removesuffix("…"))
    assert studio["prompt"] == prompt
    (comment,) = [payload for marker, payload in jpeg_segments(copy) if marker == 0xFE]
    assert comment.decode("utf-8").endswith("Mode: generate, Image: 2 of 4")
    assert comment.decode("utf-8").split("\n")[0].endswith("…")
    with Image.open(BytesIO(copy)) as image:
        description = exif_description(image)
    assert description.endswith("…") and prompt.startswith(description.removesuffix("…"))
    assert pixels_of(copy) == pixels_of(original)


def test_embedding_again_over_split_xmp_leaves_no_old_part() -> None:
    large = metadata("first", mode="edit", aspect_ratio=None, input_images=LONG_INPUT_URLS)
    original = encode(picture(), "JPEG")
    copy = embed_metadata(embed_metadata(original, large), metadata("second"))
    assert jpeg_xmp(copy)[1] is None
    assert b"first" not in copy and b"cdn.example.com" not in copy
    assert [marker for marker, _ in jpeg_segments(copy)].count(0xFE) == 1
    assert read_back(copy) == ("second", metadata("second").as_dict())
    assert pixels_of(copy) == pixels_of(original)


# What exiftool's -validate asks of any JPEG's IFD0; facts the API does not give, so absent.
JPEG_IFD0_UNKNOWNS = {
    f"Missing required JPEG IFD0 tag 0x{tag:04x} {name}"
    for tag, name in [
        (0x011A, "XResolution"),
        (0x011B, "YResolution"),
        (0x0128, "ResolutionUnit"),
        (0x0213, "YCbCrPositioning"),
    ]
}


@pytest.mark.parametrize("pillow_format", ["PNG", "JPEG", "WEBP"])
def test_exiftool_reads_the_whole_record_from_a_large_edit(
    pillow_format: str, tmp_path: Path
) -> None:
    info = metadata("A fox at night", mode="edit", aspect_ratio=None, input_images=LONG_INPUT_URLS)
    path = tmp_path / f"edit.{pillow_format.lower()}"
    path.write_bytes(embed_metadata(encode(picture(), pillow_format), info))

    def exiftool(*args: str) -> str:
        done = subprocess.run(
            [photo_tool("exiftool"), *args, str(path)], capture_output=True, check=True
        )
        return done.stdout.decode("utf-8")

    warnings = set(exiftool("-validate", "-warning", "-a", "-s3").splitlines()[1:])
    assert warnings <= (JPEG_IFD0_UNKNOWNS if pillow_format == "JPEG" else set())
    assert exiftool("-s3", "-XMP-dc:Description") == "A fox at night\n"
    assert json.loads(exiftool("-b", "-XMP-imagestudio:Image_studio")) == info.as_dict()


@pytest.mark.parametrize("variable", ["CI", "STUDIO_REQUIRE_PHOTO_TOOLS"])
def test_a_missing_photo_tool_fails_in_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    for name in ("CI", "STUDIO_REQUIRE_PHOTO_TOOLS"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(pytest.skip.Exception, match="Debian's exiv2"):
        photo_tool("exiv2")
    monkeypatch.setenv(variable, "true")
    with pytest.raises(pytest.fail.Exception, match=f"{variable} is set"):
        photo_tool("exiv2")


def test_an_edit_is_labelled_as_edited_by_a_model() -> None:
    generated = embed_metadata(encode(picture(), "JPEG"), metadata())
    edited = embed_metadata(
        encode(picture(), "JPEG"), metadata(mode="edit", input_images=("https://x.test/a.png",))
    )
    assert xmp_fields(Image.open(BytesIO(generated)).info["xmp"])[2].endswith(
        "/trainedAlgorithmicMedia"
    )
    assert xmp_fields(Image.open(BytesIO(edited)).info["xmp"])[2].endswith(
        "/compositeWithTrainedAlgorithmicMedia"
    )


@pytest.mark.parametrize("data", [b"GIF89a" + bytes(40), b"\x89PNG\r\n\x1a\n" + bytes(10)])
def test_embedding_into_what_is_not_a_complete_image_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidImage):
        embed_metadata(data, metadata())


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
