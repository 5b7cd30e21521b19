"""A full disk, injected where the archive writes its temporary files (root ignores quotas
and read-only modes, so a real full disk cannot be counted on in CI)."""

from __future__ import annotations

import errno
import tempfile
from pathlib import Path
from typing import Any


class FullDisk:
    """Temporary files that fail half-written, as on a full disk, until `full` is False.

    Install it with monkeypatch.setattr("studio.archive.tempfile.NamedTemporaryFile", disk).
    """

    def __init__(self) -> None:
        self.full = True
        self._real = tempfile.NamedTemporaryFile

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        handle = self._real(*args, **kwargs)
        if self.full:
            write = handle.write

            def write_until_full(data: bytes) -> int:
                write(data[: len(data) // 2])
                handle.file.flush()
                raise OSError(errno.ENOSPC, "No space left on device")

            handle.write = write_until_full
        return handle


def files_in(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())
