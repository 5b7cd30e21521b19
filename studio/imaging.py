"""Image files: checking uploads and making thumbnails.

Uploads are checked completely before anything leaves the machine and re-encoded
without their metadata (a phone photo's EXIF can carry its GPS position). What a
download copy carries is written by studio.metadata.
"""

from __future__ import annotations

import math
import re
import struct
import unicodedata
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import PurePosixPath

from PIL import Image, ImageCms, ImageOps, JpegImagePlugin

from studio import decoding, formats
from studio.errors import InvalidImage
from studio.settings import DEFAULTS

MEGABYTE = 1024 * 1024


# What a refused file most likely is, by its first bytes, so the message can name it.
_OTHER_KINDS = {"gif": "a GIF image", "bmp": "a BMP image", "tiff": "a TIFF image"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class CleanImage:
    """An upload that passed every check, re-encoded without metadata."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int
    filename: str


def clean_upload(
    data: bytes,
    filename: str,
    *,
    max_bytes: int = DEFAULTS.studio_max_upload_bytes,
    max_pixels: int = DEFAULTS.studio_max_upload_pixels,
) -> CleanImage:
    """Check an uploaded file completely and return its pixels without metadata.

    Raises InvalidImage when the file is too big, is not really a PNG, JPEG or WebP
    image, is damaged, is animated, or has more than `max_pixels` pixels.
    """
    check_upload_size(len(data), filename, max_bytes)
    name = _base_name(filename)
    shown = _shown_name(name)
    kind = sniff(data)
    if kind is None:
        what = _describe_other(data)
        if what is None:
            raise InvalidImage(f"{shown} is not a PNG, JPEG or WebP image.")
        raise InvalidImage(
            f"{shown} is {what}. Only PNG, JPEG and WebP images can be used: "
            "save it in one of those formats and try again."
        )
    limit = _pixel_limit(max_pixels)
    too_many_pixels = InvalidImage(
        f"{shown} has more pixels than the {limit / 1_000_000:g} megapixels "
        "this studio accepts. Scale it down and try again."
    )
    damaged = InvalidImage(
        f"{shown} looks damaged or incomplete, so it cannot be read. "
        "Export or download it again and retry."
    )
    try:
        image = _read_header(data)
    except Image.DecompressionBombError:
        raise too_many_pixels from None
    except _UNREADABLE:
        raise damaged from None
    with image:
        width, height = image.size
        if width * height > limit:
            raise InvalidImage(
                f"{shown} is {width:,} by {height:,} pixels "
                f"({width * height / 1_000_000:,.0f} megapixels); the limit is "
                f"{limit / 1_000_000:g} megapixels. Scale it down and try again."
            )
        if kind != "jpeg" and getattr(image, "is_animated", False):
            raise InvalidImage(
                f"{shown} is animated. Choose a still image (export a single frame)."
            )
        try:
            image.load()  # decodes everything, so a truncated file fails here
        except Image.DecompressionBombError:
            raise too_many_pixels from None
        except _UNREADABLE:
            raise damaged from None
        encoded = _encode_without_metadata(image, kind, data)
    width, height = encoded.size
    image_format = formats.of(kind)
    return CleanImage(
        data=encoded.data,
        content_type=image_format.mime_type,
        extension=image_format.extension,
        width=width,
        height=height,
        filename=f"{_stem(name) or 'image'}.{image_format.extension}",
    )


def check_upload_size(size: int, filename: str, max_bytes: int) -> None:
    """Raise InvalidImage when a file of `size` bytes is over the limit.

    Callers holding a file on disk call this with its size first, so an oversized file
    is refused before any of it is read.
    """
    if size > max_bytes:
        raise InvalidImage(
            f"{_shown_name(_base_name(filename))} is {_megabytes_up(size)} MB; the limit is "
            f"{_megabytes(max_bytes)} MB. Choose a smaller file or save it at a lower quality."
        )


def image_size(data: bytes) -> tuple[str, int, int]:
    """Return (format, width, height) from the file's header, without decoding pixels.

    The format is Pillow's name in lower case: "png", "jpeg" or "webp" (any other format
    raises NotDecodable, see studio.decoding). Width and height are as the image is
    shown, that is after any EXIF rotation.
    """
    try:
        with _read_header(data) as image:
            width, height = image.size
            kind = (image.format or "").lower()
            # PNG reads EXIF that sits after the pixels only by decoding them all, so only
            # EXIF already read with the header is consulted.
            if "exif" in image.info and image.getexif().get(_ORIENTATION_TAG) in _QUARTER_TURNS:
                width, height = height, width
    except decoding.NotDecodable:
        raise
    except Image.DecompressionBombError:
        raise InvalidImage("This image has too many pixels to open safely.") from None
    except _UNREADABLE:
        raise InvalidImage("This file is not an image that can be read.") from None
    return ("jpeg" if kind == "mpo" else kind), width, height


def make_thumbnail(data: bytes, max_px: int = DEFAULTS.studio_thumbnail_px) -> bytes:
    """A WebP copy no longer than `max_px` on its longest side, upright, with no metadata.

    Colours are converted to sRGB first, because the thumbnail carries no colour profile.
    Smaller images keep their size.
    """
    try:
        with _read_header(data) as image:
            if image.width * image.height > _pixel_limit(DEFAULTS.studio_max_upload_pixels):
                raise InvalidImage("This image has too many pixels to open safely.")
            if isinstance(image, JpegImagePlugin.JpegImageFile):
                # Let the JPEG decoder scale down by a power of two: far less to decode.
                image.draft(None, (max_px, max_px))
            image.load()
            upright = _upright(image)
    except InvalidImage:
        raise
    except Image.DecompressionBombError:
        raise InvalidImage("This image has too many pixels to open safely.") from None
    except _UNREADABLE:
        raise InvalidImage("This file is not an image that can be read.") from None
    pixels = _to_srgb(upright)
    pixels.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
    pixels.info = {}
    output = BytesIO()
    pixels.save(output, "WEBP", quality=80, method=4)
    return output.getvalue()


def download_filename(prompt: str, index: int, extension: str, *, max_chars: int = 60) -> str:
    """A safe file name built from the prompt: "a-red-fox-in-snow-2.png".

    `index` is written as given (pass the number people see, counting from 1). The name
    uses ASCII letters, digits and hyphens only, so it is safe on every file system.
    """
    ascii_text = unicodedata.normalize("NFKD", prompt).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_chars:
        cut = slug[: max_chars + 1]
        # Prefer ending on a whole word when that keeps most of the room.
        boundary = cut.rfind("-")
        slug = cut[:boundary] if boundary >= max_chars // 2 else cut[:max_chars]
        slug = slug.strip("-")
    suffix = re.sub(r"[^a-z0-9]", "", extension.lower())
    name = f"{slug or 'image'}-{index}"
    return f"{name}.{suffix}" if suffix else name


# Reading and re-encoding


_ORIENTATION_TAG = 0x0112
_QUARTER_TURNS = {5, 6, 7, 8}
# What Pillow raises for a file it cannot parse or decode.
_UNREADABLE = (OSError, SyntaxError, ValueError, EOFError, zlib.error)


@dataclass(frozen=True)
class _Encoded:
    data: bytes
    size: tuple[int, int]


def _pixel_limit(max_pixels: int) -> int:
    """The caller's limit, never above Pillow's own safety limit when one is set."""
    pillow_limit = Image.MAX_IMAGE_PIXELS
    return min(max_pixels, pillow_limit) if pillow_limit else max_pixels


def _read_header(data: bytes) -> Image.Image:
    """Open `data` reading only its header, under the decoding policy (studio.decoding)."""
    return decoding.open_image(data)


def _upright(image: Image.Image) -> Image.Image:
    """A copy turned the way the EXIF orientation says; unreadable EXIF means upright."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # broken EXIF is common and must not cost the picture itself
        return image.copy()


def _encode_without_metadata(image: Image.Image, kind: str, original: bytes) -> _Encoded:
    """Re-encode the upright pixels in the same format, keeping no metadata at all.

    The ICC colour profile is kept: it is not about the person or the place, and
    without it the colours of wide-gamut photos (Display P3 from phones) would shift.
    Transparency is pixel data and is kept too. Everything else goes: EXIF with GPS,
    XMP, comments, text chunks.
    """
    icc_profile = image.info.get("icc_profile")
    transparency = image.info.get("transparency")
    sampling = JpegImagePlugin.get_sampling(image) if kind == "jpeg" else -1
    pixels = _upright(image)
    pixels.info = {}
    options: dict[str, object] = {}
    if icc_profile:
        options["icc_profile"] = icc_profile
    if kind == "png":
        if pixels.mode == "PA":
            pixels = pixels.convert("RGBA")
        elif transparency is not None:
            options["transparency"] = transparency
        options["optimize"] = True
    elif kind == "jpeg":
        options.update(quality=95, optimize=True)
        if sampling != -1:
            options["subsampling"] = sampling
    elif webp_is_lossless(original):
        options.update(lossless=True, method=4, exact=True)
    else:
        options.update(quality=95, method=4)
    output = BytesIO()
    pixels.save(output, formats.of(kind).pillow_name, **options)
    return _Encoded(output.getvalue(), pixels.size)


def _to_srgb(image: Image.Image) -> Image.Image:
    """RGB or RGBA pixels in sRGB, whatever the source mode and colour profile."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        image = image.convert("I").point(lambda value: value / 256, "L")
    target = "RGBA" if image.has_transparency_data else "RGB"
    icc_profile = image.info.get("icc_profile")
    # Only modes whose transparency, if any, is an alpha band the transform carries along.
    convertible = image.mode in ("RGB", "RGBA", "CMYK", "L") and "transparency" not in image.info
    if icc_profile and convertible:
        try:
            converted = ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(BytesIO(icc_profile)),
                ImageCms.createProfile("sRGB"),
                outputMode=target,
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            converted = None  # a profile that does not fit the pixels: show them as they are
        if converted is not None:  # (profileToProfile answers None only when in place)
            return converted
    return image.convert(target)


def sniff(data: bytes) -> str | None:
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _describe_other(data: bytes) -> str | None:
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _OTHER_KINDS["gif"]
    if data[:2] == b"BM":
        return _OTHER_KINDS["bmp"]
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return _OTHER_KINDS["tiff"]
    if data[4:8] == b"ftyp":
        if data[8:12] in _HEIF_BRANDS:
            return "a HEIC photo (the format iPhones use)"
        if data[8:12] in _AVIF_BRANDS:
            return "an AVIF image"
    return None


def _base_name(filename: str) -> str:
    name = PurePosixPath(filename.replace("\\", "/")).name
    return "".join(char for char in name if char.isprintable()).strip()


def _shown_name(name: str) -> str:
    return f"“{name}”" if name else "This file"


def _stem(name: str, max_chars: int = 120) -> str:
    stem, dot, _ = name.rpartition(".")
    return (stem if dot else name)[:max_chars].strip(" .")


def _megabytes(size: int) -> str:
    return f"{size / MEGABYTE:.1f}".removesuffix(".0")


def _megabytes_up(size: int) -> str:
    # Rounded up, so a file just over the limit never reads as equal to it.
    return f"{math.ceil(size / MEGABYTE * 10) / 10:.1f}"


def webp_is_lossless(data: bytes) -> bool:
    try:
        fourccs = {fourcc for fourcc, _ in webp_chunks(data)}
    except InvalidImage:
        return False
    return b"VP8L" in fourccs and b"VP8 " not in fourccs


def webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    (riff_size,) = struct.unpack("<I", data[4:8])
    end = 8 + riff_size
    if end > len(data) or riff_size < 4:
        raise InvalidImage("This WebP file is incomplete, so the prompt cannot be written into it.")
    chunks: list[tuple[bytes, bytes]] = []
    position = 12
    while position + 8 <= end:
        fourcc = data[position : position + 4]
        (size,) = struct.unpack("<I", data[position + 4 : position + 8])
        if position + 8 + size > end:
            raise InvalidImage(
                "This WebP file is incomplete, so the prompt cannot be written into it."
            )
        chunks.append((fourcc, data[position + 8 : position + 8 + size]))
        position += 8 + size + (size & 1)
    if not chunks:
        raise InvalidImage("This WebP file is empty, so the prompt cannot be written into it.")
    return chunks
