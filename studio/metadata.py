"""What a download copy carries: the prompt and settings, written into the file.

Downloads keep their pixels byte for byte: the prompt and settings are added at the
container level (PNG chunks, JPEG segments, WebP chunks), never by re-encoding. Every
format gets the same XMP, which exiftool and exiv2 (and so digiKam) read; JPEG and WebP
also get the prompt as EXIF ImageDescription, and PNG the AUTOMATIC1111 `parameters` text.

Only JPEG limits the room: a segment holds at most 64 KB, and an edit's input image
addresses alone can be longer. XMP that does not fit is split the way XMP part 3
(Extended XMP) says, so the whole record survives; see `_jpeg_xmp_segments`.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import zlib
from bisect import bisect_right
from dataclasses import asdict, dataclass
from itertools import accumulate

from studio.errors import InvalidImage
from studio.exif import shortened, with_description
from studio.imaging import PNG_SIGNATURE, sniff, webp_chunks
from studio.request import Mode

_JPEG_APP1, _JPEG_COM, _JPEG_SOS = 0xE1, 0xFE, 0xDA
_PNG_TEXT_CHUNKS = {b"tEXt", b"iTXt", b"zTXt"}
_PNG_XMP_KEYWORD = b"XML:com.adobe.xmp"  # XMP part 3: an uncompressed iTXt chunk
_PNG_TEXT_KEYS = {b"parameters", b"image_studio", _PNG_XMP_KEYWORD}
_JPEG_XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
_JPEG_EXTENDED_XMP_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"
_JPEG_MAX_SEGMENT = 65533  # a segment's length field counts itself and tops out at 65535
_JPEG_MAX_XMP = _JPEG_MAX_SEGMENT - len(_JPEG_XMP_HEADER)
_XMP_GUID_LENGTH = 32  # an MD5 digest in upper-case hexadecimal
# An extended segment: its header, the GUID, the full length and this portion's offset.
_JPEG_EXTENDED_PORTION = _JPEG_MAX_SEGMENT - len(_JPEG_EXTENDED_XMP_HEADER) - _XMP_GUID_LENGTH - 8
_PARAMETERS_START = b"Model: "  # how the settings line of parameters_text begins
_PNG_MAX_CHUNK = 2**31 - 1
_WEBP_MAX_RIFF = 2**32 - 2  # the RIFF size field is 32 bits, and chunks are padded to even
_JPEG_MAX_EXTENDED = 2**32 - 1  # the full length field is 32 bits
_WEBP_XMP_FLAG = 0x04
_WEBP_EXIF_FLAG = 0x08
_WEBP_ALPHA_FLAG = 0x10
# Chunks that must come before EXIF (and so before XMP) in an extended WebP file.
_WEBP_BEFORE_EXIF = {b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L"}
_EXIF_HEADER = b"Exif\x00\x00"  # how a JPEG APP1 segment (and some WebP files) start EXIF
_XMP_NAMESPACE = "urn:image-studio:ns:1.0/"
_XMP_NOTE_NAMESPACE = "http://ns.adobe.com/xmp/note/"
_IPTC_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class ImageMetadata:
    """What made an image. `image_index` counts from 1, as people do ("image 2 of 4")."""

    prompt: str
    model: str
    mode: str
    aspect_ratio: str | None
    output_format: str | None
    num_outputs: int
    image_index: int
    task_id: str | None
    created_at: str
    width: int
    height: int
    input_images: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        values: dict[str, object] = asdict(self)
        values["input_images"] = list(self.input_images)
        return values

    def parameters_text(self) -> str:
        """The prompt, then one line of settings in the AUTOMATIC1111 "parameters" style."""
        return f"{self.prompt}\n{self._settings_line(' '.join(self.input_images))}"

    def _settings_line(self, input_images: str) -> str:
        """The settings line of `parameters_text`, with `input_images` as the last value.

        Only what the API tells: it has no steps, sampler, CFG scale or seed, so the line
        has none, and a size not yet known (0) is left out rather than written as 0x0.
        """
        settings: list[tuple[str, str]] = [("Model", self.model)]
        if self.width > 0 and self.height > 0:
            settings.append(("Size", f"{self.width}x{self.height}"))
        if self.aspect_ratio:
            settings.append(("Aspect ratio", self.aspect_ratio))
        if self.output_format:
            settings.append(("Format", self.output_format))
        if self.task_id:
            settings.append(("Task", self.task_id))
        settings.append(("Created", self.created_at))
        settings.append(("Mode", self.mode))
        settings.append(("Image", f"{self.image_index} of {self.num_outputs}"))
        if self.input_images:
            settings.append(("Input images", input_images))
        return ", ".join(f"{key}: {_parameter_value(value)}" for key, value in settings)


def embed_metadata(data: bytes, metadata: ImageMetadata) -> bytes:
    """Return a copy of `data` that carries `metadata`, with the pixels untouched.

    PNG gets `parameters`, `image_studio` and XMP text chunks; JPEG an EXIF description,
    an XMP packet and a comment; WebP an EXIF description and an XMP chunk. An earlier
    XMP packet or EXIF description, or our own earlier text chunks, are replaced rather
    than repeated; the rest of a file's EXIF is kept.
    """
    kind = sniff(data)
    if kind == "png":
        return _embed_png(data, metadata)
    if kind == "jpeg":
        return _embed_jpeg(data, metadata)
    if kind == "webp":
        return _embed_webp(data, metadata)
    raise InvalidImage("Only PNG, JPEG and WebP images can carry the prompt.")


def _parameter_value(value: str) -> str:
    """Quote a value the way AUTOMATIC1111 does when it would break the comma list."""
    flat = " ".join(value.split())
    return json.dumps(flat, ensure_ascii=False) if ("," in flat or '"' in flat) else flat


# PNG


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, whole chunk as stored) for each chunk up to and including IEND."""
    chunks: list[tuple[bytes, bytes]] = []
    position = len(PNG_SIGNATURE)
    while position + 12 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        chunk_type = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            break
        chunks.append((chunk_type, data[position:end]))
        position = end
        if chunk_type == b"IEND":
            return chunks
    raise InvalidImage("This PNG file is incomplete, so the prompt cannot be written into it.")


def _png_chunk(chunk_type: bytes, payload: bytes) -> bytes:
    if len(payload) > _PNG_MAX_CHUNK:
        raise _metadata_too_large()
    crc = zlib.crc32(chunk_type + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + chunk_type + payload + struct.pack(">I", crc)


def _png_text_chunk(key: str, text: str) -> bytes:
    keyword = key.encode("latin-1")
    try:
        return _png_chunk(b"tEXt", keyword + b"\x00" + text.encode("latin-1"))
    except UnicodeEncodeError:
        return _png_itxt_chunk(keyword, text.encode("utf-8"))


def _png_itxt_chunk(keyword: bytes, utf8_text: bytes) -> bytes:
    # The keyword, then: not compressed, no language tag, no translated keyword.
    return _png_chunk(b"iTXt", keyword + b"\x00\x00\x00\x00\x00" + utf8_text)


def _embed_png(data: bytes, metadata: ImageMetadata) -> bytes:
    chunks = _png_chunks(data)
    kept = [
        raw
        for chunk_type, raw in chunks
        if not (chunk_type in _PNG_TEXT_CHUNKS and raw[8:].split(b"\x00", 1)[0] in _PNG_TEXT_KEYS)
    ]
    ours = (
        _png_text_chunk("parameters", metadata.parameters_text())
        + _png_text_chunk("image_studio", _metadata_json(metadata))
        + _png_itxt_chunk(_PNG_XMP_KEYWORD, _xmp_packet(metadata))
    )
    # Before the first IDAT rather than at the end: readers that stop at the pixels
    # (Pillow's Image.open among them) then still see the prompt.
    first_pixels = next(
        (index for index, raw in enumerate(kept) if raw[4:8] == b"IDAT"), len(kept) - 1
    )
    kept.insert(first_pixels, ours)
    return PNG_SIGNATURE + b"".join(kept)


# JPEG


def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """(marker, whole segment) for each segment before the scan, then the rest verbatim."""
    segments: list[tuple[int, bytes]] = []
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            break
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == _JPEG_SOS:
            return segments, data[position:]
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        end = position + 2 + length
        if length < 2 or end > len(data):
            break
        segments.append((marker, data[position:end]))
        position = end
    raise InvalidImage("This JPEG file is damaged, so the prompt cannot be written into it.")


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def _embed_jpeg(data: bytes, metadata: ImageMetadata) -> bytes:
    segments, scan = _jpeg_segments(data)
    kept = [(marker, raw) for marker, raw in segments if not _replaced_by_ours(marker, raw[4:])]
    kept = _with_jpeg_exif(kept, metadata)
    ours = b"".join(_jpeg_segment(_JPEG_APP1, payload) for payload in _jpeg_xmp_segments(metadata))
    ours += _jpeg_segment(_JPEG_COM, _jpeg_comment(metadata))
    # After the leading APPn segments, so JFIF's APP0 and EXIF's APP1 stay first.
    insert_at = 0
    while insert_at < len(kept) and 0xE0 <= kept[insert_at][0] <= 0xEF:
        insert_at += 1
    raws = [raw for _, raw in kept]
    raws.insert(insert_at, ours)
    return data[:2] + b"".join(raws) + scan


def _with_jpeg_exif(
    segments: list[tuple[int, bytes]], metadata: ImageMetadata
) -> list[tuple[int, bytes]]:
    """`segments` with the prompt in the EXIF segment: the file's own one, or a new one.

    A new segment goes first, after JFIF's APP0 when there is one, as EXIF asks.
    """
    position = next(
        (
            index
            for index, (marker, raw) in enumerate(segments)
            if marker == _JPEG_APP1 and raw[4:].startswith(_EXIF_HEADER)
        ),
        None,
    )
    existing = None if position is None else segments[position][1][4 + len(_EXIF_HEADER) :]
    room = _JPEG_MAX_SEGMENT - len(_EXIF_HEADER)
    size = (metadata.width, metadata.height)
    tiff = with_description(existing, metadata.prompt, max_bytes=room, size=size, jpeg=True)
    if tiff is None:
        return segments
    segment = (_JPEG_APP1, _jpeg_segment(_JPEG_APP1, _EXIF_HEADER + tiff))
    if position is not None:
        return [*segments[:position], segment, *segments[position + 1 :]]
    after_jfif = 1 if segments and segments[0][0] == 0xE0 else 0
    return [*segments[:after_jfif], segment, *segments[after_jfif:]]


def _jpeg_xmp_segments(metadata: ImageMetadata) -> list[bytes]:
    """APP1 payloads: the XMP packet, split per XMP part 3 when it exceeds one segment.

    When split, the main ("standard") packet keeps what photo tools show (the prompt as
    dc:description, the tool, the source type) plus `xmpNote:HasExtendedXMP`, and the
    extended XMP holds the complete image_studio record, prompt and every input address
    included. Only a prompt too long for a segment on its own is shortened (with "…") in
    dc:description; the record keeps it whole.
    """
    packet = _xmp_packet(metadata)
    if len(packet) <= _JPEG_MAX_XMP:
        return [_JPEG_XMP_HEADER + packet]
    # No packet wrapper: XMP part 3 serialises extended XMP as plain x:xmpmeta.
    extended = _xmp_document(_xmp_record(metadata), packet_wrapper=False)
    if len(extended) > _JPEG_MAX_EXTENDED:
        raise _metadata_too_large()
    guid = hashlib.md5(extended, usedforsecurity=False).hexdigest().upper()
    note = f"   <xmpNote:HasExtendedXMP>{guid}</xmpNote:HasExtendedXMP>\n"
    summary = _xmp_summary(metadata) + note
    room = _JPEG_MAX_XMP - len(_xmp_document(_xmp_description("") + summary))
    standard = _xmp_document(_xmp_description(_prompt_within(metadata.prompt, room)) + summary)
    prefix = _JPEG_EXTENDED_XMP_HEADER + guid.encode("ascii") + struct.pack(">I", len(extended))
    portions = [
        prefix + struct.pack(">I", offset) + extended[offset : offset + _JPEG_EXTENDED_PORTION]
        for offset in range(0, len(extended), _JPEG_EXTENDED_PORTION)
    ]
    return [_JPEG_XMP_HEADER + standard, *portions]


def _jpeg_comment(metadata: ImageMetadata) -> bytes:
    """`parameters_text` as a comment, fitted to one segment.

    A comment cannot be split, so when it would not fit, the input addresses give way to
    their count (the XMP lists them in full), then the prompt is shortened with "…". The
    settings line stays whole, so a later embed still recognises the comment as ours.
    """
    text = metadata.parameters_text().encode("utf-8")
    if len(text) <= _JPEG_MAX_SEGMENT:
        return text
    count = len(metadata.input_images)
    line = "\n" + metadata._settings_line(f"{count} (addresses in the XMP)")
    room = _JPEG_MAX_SEGMENT - len(line.encode("utf-8"))
    return (shortened(metadata.prompt, room) + line).encode("utf-8")


def _replaced_by_ours(marker: int, payload: bytes) -> bool:
    """Any XMP packet (a file holds one), and a comment we wrote earlier."""
    if marker == _JPEG_APP1:
        return payload.startswith((_JPEG_XMP_HEADER, _JPEG_EXTENDED_XMP_HEADER))
    if marker == _JPEG_COM:
        return payload.rpartition(b"\n")[2].startswith(_PARAMETERS_START)
    return False


# WebP


def _webp_chunk(fourcc: bytes, payload: bytes) -> bytes:
    padding = b"\x00" if len(payload) & 1 else b""
    return fourcc + struct.pack("<I", len(payload)) + payload + padding


def _webp_canvas(fourcc: bytes, payload: bytes) -> tuple[int, int, bool]:
    """Width, height and alpha of a simple (VP8 or VP8L) WebP file, from its bitstream."""
    if fourcc == b"VP8 " and len(payload) >= 10 and payload[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", payload[6:10])
        return width & 0x3FFF, height & 0x3FFF, False
    if fourcc == b"VP8L" and len(payload) >= 5 and payload[0] == 0x2F:
        (bits,) = struct.unpack("<I", payload[1:5])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    raise InvalidImage("This WebP file is damaged, so the prompt cannot be written into it.")


def _webp_after(chunks: list[tuple[bytes, bytes]], fourccs: set[bytes]) -> int:
    """The position just after the last chunk named in `fourccs`."""
    return max(index for index, (fourcc, _) in enumerate(chunks) if fourcc in fourccs) + 1


def _with_webp_exif(chunks: list[tuple[bytes, bytes]], metadata: ImageMetadata) -> int:
    """Put the prompt in the EXIF chunk of `chunks` (in place); the VP8X flag it needs.

    The file's own EXIF chunk is edited where it is; a new one goes after the pixels.
    """
    position = next((index for index, (fourcc, _) in enumerate(chunks) if fourcc == b"EXIF"), None)
    # Some writers start the chunk with JPEG's "Exif\0\0"; the format wants bare TIFF.
    existing = None if position is None else chunks[position][1].removeprefix(_EXIF_HEADER)
    tiff = with_description(existing, metadata.prompt, size=(metadata.width, metadata.height))
    if tiff is None:
        return _WEBP_EXIF_FLAG if position is not None else 0
    if position is None:
        chunks.insert(_webp_after(chunks, _WEBP_BEFORE_EXIF), (b"EXIF", tiff))
    else:
        chunks[position] = (b"EXIF", tiff)
    return _WEBP_EXIF_FLAG


def _embed_webp(data: bytes, metadata: ImageMetadata) -> bytes:
    chunks = [(fourcc, payload) for fourcc, payload in webp_chunks(data) if fourcc != b"XMP "]
    exif_flag = _with_webp_exif(chunks, metadata)
    first, payload = chunks[0]
    if first == b"VP8X":
        header = bytes((payload[0] | _WEBP_XMP_FLAG | exif_flag,)) + payload[1:]
        chunks[0] = (b"VP8X", header)
    else:
        # A simple file has no room for metadata: wrap it in the extended format.
        width, height, alpha = _webp_canvas(first, payload)
        flags = _WEBP_XMP_FLAG | exif_flag | (_WEBP_ALPHA_FLAG if alpha else 0)
        header = (
            bytes((flags, 0, 0, 0))
            + (width - 1).to_bytes(3, "little")
            + (height - 1).to_bytes(3, "little")
        )
        chunks.insert(0, (b"VP8X", header))
    chunks.insert(
        _webp_after(chunks, {*_WEBP_BEFORE_EXIF, b"EXIF"}), (b"XMP ", _xmp_packet(metadata))
    )
    body = b"WEBP" + b"".join(_webp_chunk(fourcc, payload) for fourcc, payload in chunks)
    if len(body) > _WEBP_MAX_RIFF:
        raise _metadata_too_large()
    return b"RIFF" + struct.pack("<I", len(body)) + body


# XMP


def _metadata_json(metadata: ImageMetadata) -> str:
    return json.dumps(metadata.as_dict(), ensure_ascii=False, separators=(",", ":"))


def _xml_text(text: str) -> str:
    cleaned = _XML_INVALID.sub("", text)
    return cleaned.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xmp_packet(metadata: ImageMetadata) -> bytes:
    """Everything in one packet, as WebP carries it and JPEG does when it fits."""
    properties = _xmp_description(metadata.prompt) + _xmp_summary(metadata)
    return _xmp_document(properties + _xmp_record(metadata))


def _xmp_document(properties: str, *, packet_wrapper: bool = True) -> bytes:
    """An XMP serialisation of `properties` (rdf:Description children, already escaped)."""
    document = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n'
        f'    xmlns:xmpNote="{_XMP_NOTE_NAMESPACE}"\n'
        f'    xmlns:imagestudio="{_XMP_NAMESPACE}">\n'
        f"{properties}"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
    )
    if packet_wrapper:
        document = (
            '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            f'{document}<?xpacket end="w"?>'
        )
    return document.encode()


def _xmp_description(prompt: str) -> str:
    return (
        "   <dc:description><rdf:Alt>"
        f'<rdf:li xml:lang="x-default">{_xml_text(prompt)}</rdf:li>'
        "</rdf:Alt></dc:description>\n"
    )


def _xmp_summary(metadata: ImageMetadata) -> str:
    # IPTC's words for "made by a model" and "edited by a model", which photo tools show:
    # from the mode, since a copy going outside the studio leaves out the input links.
    source_type = "trainedAlgorithmicMedia"
    if metadata.mode == Mode.EDIT:
        source_type = "compositeWithTrainedAlgorithmicMedia"
    return (
        f"   <xmp:CreatorTool>{_xml_text(metadata.model)}</xmp:CreatorTool>\n"
        f"   <Iptc4xmpExt:DigitalSourceType>{_IPTC_SOURCE_TYPE}{source_type}"
        "</Iptc4xmpExt:DigitalSourceType>\n"
    )


def _xmp_record(metadata: ImageMetadata) -> str:
    return (
        f"   <imagestudio:image_studio>{_xml_text(_metadata_json(metadata))}"
        "</imagestudio:image_studio>\n"
    )


def _prompt_within(prompt: str, room: int) -> str:
    """`prompt`, or its longest start plus "…", whose escaped UTF-8 takes at most `room` bytes."""
    sizes = list(accumulate(len(_xml_text(char).encode("utf-8")) for char in prompt))
    if not sizes or sizes[-1] <= room:
        return prompt
    room -= len("…".encode())
    return prompt[: bisect_right(sizes, room)] + "…"


def _metadata_too_large() -> InvalidImage:
    return InvalidImage("The prompt and settings are too large to write into this file.")
