"""The one decoding policy for bytes from outside: results, uploads, inputs of an edit.

Pillow opens only JPEG, PNG and WebP here. Its other plugins never see upstream or
visitor bytes: EPS hands the file to Ghostscript (a separate program), and TIFF, BMP,
GIF and the rest parse containers the studio never asked for and never keeps.
"""

from __future__ import annotations

from io import BytesIO

from PIL import Image, JpegImagePlugin, PngImagePlugin, WebPImagePlugin

from studio import formats
from studio.errors import InvalidImage

# Pillow's names of the formats it may open from outside bytes: the formats the studio
# keeps (studio.formats.KNOWN), and no other.
DECODED_FORMATS: tuple[str, ...] = tuple(image_format.pillow_name for image_format in formats.KNOWN)
NOT_DECODED = "The result was not a JPEG, PNG or WebP image."

# The plugins behind DECODED_FORMATS, imported so that they are registered in Image.OPEN.
_PLUGINS = (JpegImagePlugin, PngImagePlugin, WebPImagePlugin)


class NotDecodable(InvalidImage):
    """Bytes in a format Pillow may not open here; `message` is NOT_DECODED."""

    def __init__(self, message: str = NOT_DECODED) -> None:
        super().__init__(message)


def open_image(data: bytes) -> Image.Image:
    """`data` opened (its header read, no pixels decoded) by a DECODED_FORMATS plugin.

    What `Image.open(BytesIO(data), formats=DECODED_FORMATS)` does, less Pillow's
    decompression-bomb check: that check refuses above twice its limit without saying
    the size, and callers compare the size with their own limit before decoding any
    pixel. Raises NotDecodable for any other format, and Pillow's own errors for a
    damaged file of an allowed one.
    """
    factory, _ = Image.OPEN[_format_of(data)]
    return factory(BytesIO(data), "")


def decode(data: bytes) -> Image.Image:
    """`data` opened by `Image.open` restricted to DECODED_FORMATS, bomb check included.

    For callers without a pixel limit of their own (the contact sheet, the emulator).
    Raises NotDecodable for any other format, Pillow's errors for a damaged file.
    """
    return Image.open(BytesIO(data), formats=[_format_of(data)])


def _format_of(data: bytes) -> str:
    """Which of DECODED_FORMATS `data` says it is, by its first bytes; else NotDecodable."""
    prefix = data[:16]
    for name in DECODED_FORMATS:
        accept = Image.OPEN[name][1]
        if accept is not None and accept(prefix) is True:
            return name
    raise NotDecodable
