"""Copies of archived images for people to take away: one file, or a zip of several.

Every copy carries its prompt and settings inside the file (the archive keeps the
original untouched), then content credentials signed over the final bytes (see
studio.provenance); a zip, or a folder the command line exports to, adds
`manifest.json` listing each file's settings. Nothing here names the key a job was
sent with.
"""

from __future__ import annotations

import json
import logging
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from studio import formats, imaging, metadata
from studio.archive import Archive
from studio.errors import InvalidImage
from studio.provenance import ContentSigner, Facts, Ingredient, SigningFailed
from studio.records import GalleryItem
from studio.request import MODEL

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
# The inputs of an edit the studio holds, for its content credentials.
InputsOf = Callable[[GalleryItem], Sequence[Ingredient]]


@dataclass(frozen=True)
class DownloadCopy:
    filename: str
    data: bytes
    mime_type: str
    metadata_embedded: bool
    content_credentials: bool = False  # a C2PA manifest signed over these bytes


def metadata_for(item: GalleryItem, *, outside: bool = False) -> metadata.ImageMetadata:
    """What made this image, in the form written into downloaded files.

    A copy going `outside` the studio (to a reviewer) leaves out the task id and the
    links of the images an edit started from: they are the studio's business.
    """
    job, image = item.job, item.image
    return metadata.ImageMetadata(
        prompt=job.prompt,
        model=MODEL,
        mode=job.mode.value,
        aspect_ratio=job.request.aspect_ratio,
        output_format=job.request.output_format,
        num_outputs=job.request.num_outputs,
        image_index=image.position + 1,
        task_id=None if outside else job.task_id,
        created_at=iso_time(job.created_at),
        width=image.width or 0,
        height=image.height or 0,
        input_images=() if outside else job.request.image_urls,
    )


def download_copy(
    item: GalleryItem,
    archive: Archive,
    *,
    outside: bool = False,
    signer: ContentSigner | None = None,
    inputs: Sequence[Ingredient] = (),
) -> DownloadCopy:
    """The original file with its metadata written in, named after the prompt
    (see metadata_for for a copy going `outside`), and signed by `signer` with the
    edit's `inputs` as ingredients.

    A file the metadata cannot be written into (it should not happen with files
    FoxAPI made) is handed over untouched rather than not at all; so is one that
    cannot be signed (the log says why).
    """
    original = archive.read(item.image.file_path or "")
    try:
        data = metadata.embed_metadata(original, metadata_for(item, outside=outside))
        embedded = True
    except InvalidImage:
        data, embedded = original, False
    filename, mime_type = copy_filename(item), formats.mime_type(item.image.format)
    signed = False
    if signer is not None:
        facts = Facts(
            title=filename,
            edit=item.job.mode.value == "edit",
            prompt=item.job.prompt if embedded else None,
            inputs=inputs,
        )
        try:
            data, signed = signer.sign(data, mime_type, facts, original=original), True
        except SigningFailed as exc:
            log.warning("Image %s went out without content credentials: %s", item.image.id, exc)
    return DownloadCopy(
        filename=filename,
        data=data,
        mime_type=mime_type,
        metadata_embedded=embedded,
        content_credentials=signed,
    )


def copy_filename(item: GalleryItem) -> str:
    """A downloaded copy's name: the prompt's first words and the image's number."""
    extension = formats.extension(item.image.format or "png")
    return imaging.download_filename(item.job.prompt, item.image.position + 1, extension)


def build_zip(items: Sequence[GalleryItem], archive: Archive) -> bytes:
    """A zip of `items` (metadata embedded) and a manifest listing each file's settings."""
    return b"".join(stream_zip(items, archive))


def stream_zip(
    items: Iterable[GalleryItem],
    archive: Archive,
    *,
    signer: ContentSigner | None = None,
    inputs_of: InputsOf | None = None,
) -> Iterator[bytes]:
    """The same zip, handed out piece by piece: one image in memory at a time."""
    pipe = _Pipe()
    used_names: set[str] = set()
    entries: list[dict[str, Any]] = []
    with zipfile.ZipFile(pipe, "w") as bundle:
        for item in items:
            inputs = inputs_of(item) if inputs_of is not None else ()
            copy = download_copy(item, archive, signer=signer, inputs=inputs)
            name = _unique_name(copy.filename, used_names)
            # Images are compressed already: storing them is as small and much faster.
            bundle.writestr(name, copy.data, compress_type=zipfile.ZIP_STORED)
            entries.append(_manifest_entry(name, item, copy))
            yield pipe.take()
        bundle.writestr(MANIFEST_NAME, _manifest_text(entries), compress_type=zipfile.ZIP_DEFLATED)
    yield pipe.take()


def write_folder(
    items: Iterable[GalleryItem],
    archive: Archive,
    folder: Path,
    *,
    signer: ContentSigner | None = None,
    inputs_of: InputsOf | None = None,
) -> list[Path]:
    """What the zip holds, written into `folder` (made if needed): the files it wrote,
    manifest.json last. A name the folder already holds gets a number, as in a zip."""
    folder.mkdir(parents=True, exist_ok=True)
    used_names = {path.name for path in folder.iterdir()}
    entries: list[dict[str, Any]] = []
    written: list[Path] = []
    for item in items:
        inputs = inputs_of(item) if inputs_of is not None else ()
        copy = download_copy(item, archive, signer=signer, inputs=inputs)
        name = _unique_name(copy.filename, used_names)
        (folder / name).write_bytes(copy.data)
        entries.append(_manifest_entry(name, item, copy))
        written.append(folder / name)
    manifest = folder / _unique_name(MANIFEST_NAME, used_names)
    manifest.write_text(_manifest_text(entries), encoding="utf-8")
    return [*written, manifest]


def _manifest_text(entries: list[dict[str, Any]]) -> str:
    manifest = {
        "created_at": iso_time(datetime.now(UTC).timestamp()),
        "model": MODEL,
        "count": len(entries),
        "files": entries,
    }
    return json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"


class _Pipe:
    """A write-only, unseekable file for zipfile: what was written is taken, then let go."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        """Nothing to release: zipfile never closes a file it was handed, take() lets go."""

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def zip_filename(count: int, now: datetime | None = None) -> str:
    stamp = (now or datetime.now()).strftime("%Y-%m-%d-%H%M")
    return f"image-studio-{count}-images-{stamp}.zip"


def iso_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _manifest_entry(name: str, item: GalleryItem, copy: DownloadCopy) -> dict[str, Any]:
    """The settings written into the file, and what the zip adds about the file itself."""
    image = item.image
    return {
        "file": name,
        **metadata_for(item).as_dict(),
        "format": image.format,
        "size_bytes": len(copy.data),
        "original_sha256": image.sha256,
        "favourite": image.favourite,
        "metadata_embedded": copy.metadata_embedded,
        "content_credentials": copy.content_credentials,
    }


def _unique_name(filename: str, used: set[str]) -> str:
    """`filename`, or `stem-2.ext`, `stem-3.ext`... when the zip holds that name already."""
    stem, dot, extension = filename.rpartition(".")
    candidate, counter = filename, 1
    while candidate in used:
        counter += 1
        candidate = f"{stem}-{counter}{dot}{extension}"
    used.add(candidate)
    return candidate
