"""A full disk, injected where the local image storage writes (root ignores quotas and
read-only modes, so a real full disk cannot be counted on in CI)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any


class FullDisk:
    """Stands in for `os` in studio.storage: writes stop half-way with ENOSPC while `full`.

    Install it with monkeypatch.setattr("studio.storage.os", disk).
    """

    def __init__(self) -> None:
        self.full = True

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def write(self, descriptor: int, data: Any) -> int:
        if not self.full:
            return os.write(descriptor, data)
        os.write(descriptor, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def files_in(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())
