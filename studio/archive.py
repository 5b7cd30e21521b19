"""Image files on disk: originals exactly as downloaded, content-addressed, plus thumbnails."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from studio import formats, imaging
from studio.records import ArchivedFile


class Archive:
    def __init__(self, root: Path, *, thumbnail_px: int = 512) -> None:
        self.root = root
        self.thumbnail_px = thumbnail_px
        root.mkdir(parents=True, exist_ok=True)

    def save(self, content: bytes) -> ArchivedFile:
        """Keep `content` untouched under its hash, with a metadata-free WebP thumbnail.

        Saving the same bytes twice writes nothing new, so a retried download is harmless.
        """
        kind, width, height = imaging.image_size(content)
        digest = hashlib.sha256(content).hexdigest()
        extension = formats.extension(kind)
        file_path = f"originals/{digest[:2]}/{digest}.{extension}"
        thumb_path = f"thumbnails/{digest[:2]}/{digest}-{self.thumbnail_px}.webp"
        if not self.path(file_path).exists():
            _write_atomically(self.path(file_path), content)
        if not self.path(thumb_path).exists():
            _write_atomically(
                self.path(thumb_path), imaging.make_thumbnail(content, self.thumbnail_px)
            )
        return ArchivedFile(
            file_path=file_path,
            thumb_path=thumb_path,
            sha256=digest,
            width=width,
            height=height,
            format=extension,
            size_bytes=len(content),
        )

    def path(self, relative: str) -> Path:
        return self.root / relative

    def read(self, relative: str) -> bytes:
        return self.path(relative).read_bytes()


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, delete=False)  # noqa: SIM115
    temporary = Path(handle.name)
    try:
        with handle:
            handle.write(content)
        temporary.replace(path)
    except BaseException:
        # A full disk fails the write (or the flush on closing): a partial file left
        # behind would keep the disk full, and each retry would add another.
        temporary.unlink(missing_ok=True)
        raise
