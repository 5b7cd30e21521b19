"""Everything the studio knows about image formats, in one place.

A format has several names: Pillow's ("jpeg"), the file extension ("jpg"), the MIME
type, and the label people read ("JPG"). FoxAPI's `output_format` accepts "jpg" and
"jpeg" alike; the form offers "auto" for leaving it out.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageFormat:
    kind: str  # Pillow's format name, lower case
    extension: str
    mime_type: str
    label: str

    @property
    def pillow_name(self) -> str:
        return self.kind.upper()


JPEG = ImageFormat("jpeg", "jpg", "image/jpeg", "JPG")
PNG = ImageFormat("png", "png", "image/png", "PNG")
WEBP = ImageFormat("webp", "webp", "image/webp", "WebP")
# The formats the studio keeps, accepts as uploads and writes metadata into.
KNOWN: tuple[ImageFormat, ...] = (JPEG, PNG, WEBP)

# FoxAPI's `output_format` values.
OUTPUT_FORMATS: tuple[str, ...] = ("jpg", "jpeg", "png", "webp")
AUTO = "auto"  # the form's choice for sending no format (FoxAPI then makes a JPEG)
FORM_CHOICES: tuple[str, ...] = (AUTO, JPEG.extension, PNG.extension, WEBP.extension)

_BY_NAME = {name: fmt for fmt in KNOWN for name in (fmt.kind, fmt.extension)}


def find(name: str | None) -> ImageFormat | None:
    """The format called `name` by Pillow, by extension or by FoxAPI; None if unknown."""
    return _BY_NAME.get((name or "").strip().lower().lstrip("."))


def of(name: str) -> ImageFormat:
    """The format called `name`; KeyError for a format the studio does not keep."""
    found = find(name)
    if found is None:
        raise KeyError(name)
    return found


def mime_type(name: str | None) -> str:
    found = find(name)
    return found.mime_type if found else "application/octet-stream"


def extension(name: str) -> str:
    found = find(name)
    return found.extension if found else name


def label(name: str | None) -> str:
    """What people read: "Auto" when no format was asked for, else "JPG", "PNG", "WebP"."""
    if not name or name == AUTO:
        return "Auto"
    found = find(name)
    return found.label if found else name.upper()


def form_choice(output_format: str | None) -> str:
    """The form's choice for a request's format (FoxAPI's "jpeg" is the form's "jpg")."""
    found = find(output_format)
    return found.extension if found else AUTO
