"""What the imaging and metadata tests share: pictures made and encoded, their chunks and
segments read back, the metadata written into them, and the photo tools that read it."""

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
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from studio.metadata import ImageMetadata

GPS_IFD = 0x8825


ORIENTATION = 0x0112


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


# The photo tools the downloads are written for, and the Debian packages .ci/run installs.
PHOTO_TOOL_PACKAGES = {
    "exiftool": "libimage-exiftool-perl",
    "exiv2": "exiv2",
    "pdftotext": "poppler-utils",
    "pdfinfo": "poppler-utils",
    "pdfimages": "poppler-utils",
    "pdffonts": "poppler-utils",
}


EXTENDED_XMP_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"


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
