"""EXIF: the prompt as ImageDescription in a file's own EXIF, or in new EXIF that
carries what the standard requires (so `exiftool -validate` finds nothing missing).

EXIF is a TIFF block: a header, then IFDs (a count, 12-byte entries, the next IFD's
offset) whose values either fit in an entry's last four bytes or sit elsewhere in the
block at the offset given there.
"""

from __future__ import annotations

import struct

_TIFF_HEADERS = {b"II*\x00": "<", b"MM\x00*": ">"}
_TIFF_ASCII = 2
_EXIF_IMAGE_DESCRIPTION = 0x010E
_IFD_ENTRY = 12
# Types and tags of new EXIF (Exif 2.32, CIPA DC-008).
_SHORT, _LONG, _RATIONAL, _UNDEFINED = 3, 4, 5, 7
_X_RESOLUTION, _Y_RESOLUTION, _RESOLUTION_UNIT = 0x011A, 0x011B, 0x0128
_YCBCR_POSITIONING, _EXIF_IFD = 0x0213, 0x8769
_EXIF_VERSION, _COMPONENTS, _FLASHPIX_VERSION = 0x9000, 0x9101, 0xA000
_COLOR_SPACE, _PIXEL_X, _PIXEL_Y = 0xA001, 0xA002, 0xA003
_INCHES, _CENTRED, _SRGB = 2, 1, 1
_DEFAULT_PPI = 72  # what the standard gives as the default resolution


def with_description(
    tiff: bytes | None,
    prompt: str,
    *,
    max_bytes: int | None = None,
    size: tuple[int, int] = (0, 0),
    jpeg: bool = False,
) -> bytes | None:
    """EXIF (a TIFF block) that is `tiff`, or new, with the prompt as ImageDescription.

    New EXIF has the tags the standard requires (see `_required`) for a picture of
    `size` (0: unknown), `jpeg` or not.

    EXIF says ImageDescription is ASCII, but photo tools (exiftool, exiv2, and so
    digiKam) read and write UTF-8 there, as the Metadata Working Group recommends; that
    is how a prompt like "狐狸 in snow, café" survives. Only IFD0 is rewritten, moved to
    the end of the block with the description after it: every other IFD and value keeps
    its offset, so GPS, maker notes and the thumbnail stay byte for byte. The earlier
    IFD0 and description are blanked, or cut off when they end the block (as ours do), so
    embedding again leaves no old prompt behind. With `max_bytes` (a JPEG segment's room)
    the prompt is shortened with "…" to fit. None when `tiff` cannot be read, which is
    left as it is (the XMP carries the prompt anyway).
    """
    block = bytearray(tiff or _required(size, jpeg=jpeg))
    endian = _TIFF_HEADERS.get(bytes(block[:4]))
    if endian is None or len(block) < 8:
        return None
    (ifd0,) = struct.unpack(endian + "I", block[4:8])
    entries: list[bytes] = []
    next_ifd = b"\x00\x00\x00\x00"
    if ifd0:
        if ifd0 < 8 or ifd0 + 2 > len(block):
            return None
        (count,) = struct.unpack(endian + "H", block[ifd0 : ifd0 + 2])
        ifd0_end = ifd0 + 2 + count * _IFD_ENTRY + 4
        if ifd0_end > len(block):
            return None
        entries = [
            bytes(block[start : start + _IFD_ENTRY])
            for start in range(ifd0 + 2, ifd0_end - 4, _IFD_ENTRY)
        ]
        next_ifd = bytes(block[ifd0_end - 4 : ifd0_end])
        old_value = _out_of_line_description(entries, endian, len(block))
        block[ifd0:ifd0_end] = bytes(ifd0_end - ifd0)
        if old_value is not None:
            block[old_value[0] : old_value[1]] = bytes(old_value[1] - old_value[0])
        if ifd0_end == len(block) or old_value == (ifd0_end, len(block)):
            del block[ifd0:]  # IFD0 ends the block, as this function writes it: no pile-up
        entries = [entry for entry in entries if _ifd_tag(entry, endian) != _EXIF_IMAGE_DESCRIPTION]
    if len(block) % 2:
        block.append(0)  # an IFD starts on a word boundary
    start = len(block)
    ifd_size = 2 + (len(entries) + 1) * _IFD_ENTRY + 4
    text = prompt.replace("\x00", "")
    if max_bytes is not None:
        text = shortened(text, max_bytes - start - ifd_size - 1)
    value = text.encode("utf-8") + b"\x00"
    if len(value) <= 4:
        field = value.ljust(4, b"\x00")
    else:
        field = struct.pack(endian + "I", start + ifd_size)
    ours = struct.pack(endian + "HHI", _EXIF_IMAGE_DESCRIPTION, _TIFF_ASCII, len(value)) + field
    entries = sorted([*entries, ours], key=lambda entry: _ifd_tag(entry, endian))
    block[4:8] = struct.pack(endian + "I", start)
    block += struct.pack(endian + "H", len(entries)) + b"".join(entries) + next_ifd
    if len(value) > 4:
        block += value
    if max_bytes is not None and len(block) > max_bytes:
        return None
    return bytes(block)


def _ifd_tag(entry: bytes, endian: str) -> int:
    return int(struct.unpack(endian + "H", entry[:2])[0])


def _out_of_line_description(
    entries: list[bytes], endian: str, block_size: int
) -> tuple[int, int] | None:
    """Where an ImageDescription too long for its entry has its text: (start, end)."""
    for entry in entries:
        tag, kind, count, offset = struct.unpack(endian + "HHII", entry)
        described = tag == _EXIF_IMAGE_DESCRIPTION and kind == _TIFF_ASCII
        if described and count > 4 and offset + count <= block_size:
            return offset, offset + count
    return None


def shortened(text: str, limit: int) -> str:
    """`text`, or its longest start plus "…", whose UTF-8 takes at most `limit` bytes."""
    if len(text.encode("utf-8")) <= limit:
        return text
    room = max(limit - len("…".encode()), 0)
    return text.encode("utf-8")[:room].decode("utf-8", "ignore") + "…"


def _required(size: tuple[int, int], *, jpeg: bool) -> bytes:
    """New little-endian EXIF with the tags the standard requires and no description.

    IFD0: the resolution (72 ppi, the standard's default) and, in a JPEG, how chroma
    samples are placed; its Exif IFD: the version, colour space (sRGB, as the model's
    web images are) and pixel size, and in a JPEG the component order. IFD0 comes last,
    as with_description moves it there anyway.
    """
    exif_entries = [
        _entry(_EXIF_VERSION, _UNDEFINED, 4, b"0232"),
        _entry(_FLASHPIX_VERSION, _UNDEFINED, 4, b"0100"),
        _entry(_COLOR_SPACE, _SHORT, 1, struct.pack("<HH", _SRGB, 0)),
    ]
    if jpeg:
        exif_entries.append(_entry(_COMPONENTS, _UNDEFINED, 4, b"\x01\x02\x03\x00"))
    width, height = size
    if width > 0 and height > 0:
        exif_entries.append(_entry(_PIXEL_X, _LONG, 1, struct.pack("<I", width)))
        exif_entries.append(_entry(_PIXEL_Y, _LONG, 1, struct.pack("<I", height)))
    exif_ifd = _ifd(exif_entries)
    rationals = 8 + len(exif_ifd)  # XResolution's value, then YResolution's
    ifd0 = rationals + 16
    entries = [
        _entry(_X_RESOLUTION, _RATIONAL, 1, struct.pack("<I", rationals)),
        _entry(_Y_RESOLUTION, _RATIONAL, 1, struct.pack("<I", rationals + 8)),
        _entry(_RESOLUTION_UNIT, _SHORT, 1, struct.pack("<HH", _INCHES, 0)),
        _entry(_EXIF_IFD, _LONG, 1, struct.pack("<I", 8)),
    ]
    if jpeg:
        entries.append(_entry(_YCBCR_POSITIONING, _SHORT, 1, struct.pack("<HH", _CENTRED, 0)))
    resolution = struct.pack("<II", _DEFAULT_PPI, 1)
    return b"II*\x00" + struct.pack("<I", ifd0) + exif_ifd + resolution * 2 + _ifd(entries)


def _entry(tag: int, kind: int, count: int, field: bytes) -> bytes:
    return struct.pack("<HHI", tag, kind, count) + field


def _ifd(entries: list[bytes]) -> bytes:
    """An IFD of `entries` (sorted by tag, as TIFF asks) with no IFD after it."""
    ordered = sorted(entries, key=lambda entry: _ifd_tag(entry, "<"))
    return struct.pack("<H", len(ordered)) + b"".join(ordered) + struct.pack("<I", 0)
