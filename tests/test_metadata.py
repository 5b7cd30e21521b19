"""studio.metadata: downloads carry the prompt with their pixels intact, in the places each
photo tool reads it."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from studio.errors import InvalidImage
from studio.metadata import embed_metadata
from tests.imaging_support import (
    EXTENDED_XMP_HEADER,
    GPS_IFD,
    SRGB_PROFILE,
    XMP,
    encode,
    exif_with_gps,
    exiftool_fields,
    exiv2_fields,
    jpeg_segments,
    jpeg_xmp,
    metadata,
    photo_tool,
    picture,
    pixels_of,
    webp_chunks,
    xmp_fields,
)

IMAGE_DESCRIPTION = 0x010E


EXIF_HEADER = b"Exif\x00\x00"


PNG_XMP_KEYWORD = b"XML:com.adobe.xmp"


# XResolution, YResolution, ResolutionUnit, the Exif IFD; and JPEG's YCbCrPositioning.
NEW_EXIF_TAGS, YCBCR_POSITIONING = (0x011A, 0x011B, 0x0128, 0x8769), 0x0213


# Three signed input addresses of about 30 KB each, like the ones that broke Download.
LONG_INPUT_URLS = tuple(
    f"https://cdn.example.com/uploads/{index}/photo.png?token={'Ab9&x=' * 5_000}"
    for index in range(3)
)


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
