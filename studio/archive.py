"""Image files: originals exactly as downloaded, content-addressed, plus thumbnails.

They live in a storage (studio/storage.py): the data folder, or a bucket that every
server shares. Keys are `originals/ab/<sha256>.<ext>` and
`thumbnails/ab/<sha256>-<px>.webp` (the uploads edits were made from: `inputs/ab/...`);
the same bytes always get the same keys, and each key is written once.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from studio import formats, imaging
from studio.errors import StorageError
from studio.records import ArchivedFile
from studio.settings import DEFAULTS
from studio.storage import LocalStorage, Storage

ORIGINALS = "originals/"
THUMBNAILS = "thumbnails/"
INPUTS = "inputs/"  # uploads edits were made from, with their thumbnails
# Thumbnails are read on every gallery rerun, 24 a page: from a bucket, each is a
# request. Their keys are content-addressed, so a copy kept in memory never goes stale.
# At 20 to 60 kB each, this many stay within a few tens of MB per process.
THUMBNAILS_KEPT_IN_MEMORY = 512


class Archive:
    def __init__(
        self, storage: Storage | Path, *, thumbnail_px: int = DEFAULTS.studio_thumbnail_px
    ) -> None:
        """`storage` is where the bytes go; a folder path means that folder on this machine."""
        self.storage = LocalStorage(storage) if isinstance(storage, Path) else storage
        self.thumbnail_px = thumbnail_px
        self._read_thumbnail = lru_cache(maxsize=THUMBNAILS_KEPT_IN_MEMORY)(self.storage.get)

    def save(self, content: bytes) -> ArchivedFile:
        """Keep `content` untouched under its hash, with a metadata-free WebP thumbnail.

        Saving the same bytes again, here or on another server, writes nothing new, so a
        retried download is harmless. An error (a full disk, an unreachable bucket) is
        raised as it came, with nothing half-written left behind.
        """
        return self._save(content, ORIGINALS, THUMBNAILS)

    def save_input(self, content: bytes) -> ArchivedFile:
        """Keep an upload an edit was made from (already cleaned), as `save` keeps images.

        Its keys are under `inputs/`, apart from the gallery's: deleting an input asset
        never takes an image's file with it, nor the other way round.
        """
        return self._save(content, INPUTS, INPUTS)

    def _save(self, content: bytes, originals: str, thumbnails: str) -> ArchivedFile:
        kind, width, height = imaging.image_size(content)
        digest = hashlib.sha256(content).hexdigest()
        extension = formats.extension(kind)
        file_path = f"{originals}{digest[:2]}/{digest}.{extension}"
        thumb_path = f"{thumbnails}{digest[:2]}/{digest}-{self.thumbnail_px}.webp"
        # Looking first spares an upload (and making the thumbnail) on a retry.
        if not self.storage.exists(file_path):
            self.storage.put_if_absent(file_path, content)
        if not self.storage.exists(thumb_path):
            self.storage.put_if_absent(
                thumb_path, imaging.make_thumbnail(content, self.thumbnail_px)
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

    def read(self, key: str) -> bytes:
        """A file's bytes; ObjectMissing (an OSError) when it is not in the archive."""
        if key.startswith(THUMBNAILS):
            return self._read_thumbnail(key)
        return self.storage.get(key)

    def delete(self, key: str) -> None:
        """Remove a file nothing uses any more: an image's once out of the Trash for good
        (studio.gallery.trash), an upload's once no job was made from it."""
        self.storage.delete(key)
        self._read_thumbnail.cache_clear()

    def location(self, key: str) -> str:
        """Where a person finds the file: its path on this machine, or its s3:// address."""
        return self.storage.location(key)

    def path(self, key: str) -> Path:
        """The file on this machine's disk; only when the archive is a local folder."""
        if not isinstance(self.storage, LocalStorage):
            raise StorageError(f"{self.location(key)} is in a bucket, not on this machine.")
        return self.storage.path(key)

    def check(self) -> None:
        """Raise StorageError, saying why, unless the archive can be read and written."""
        self.storage.check()
