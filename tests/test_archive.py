"""The archive on a disk that fills up: nothing half-written stays behind."""

from __future__ import annotations

import errno
import io
from pathlib import Path

import pytest
from PIL import Image

from studio.archive import Archive
from tests.disk_support import FullDisk, files_in


def png(colour: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_full_disk_leaves_no_temporary_file_and_saving_works_once_space_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = Archive(tmp_path / "images")
    disk = FullDisk()
    monkeypatch.setattr("studio.archive.tempfile.NamedTemporaryFile", disk)
    content = png()
    for _ in range(3):  # each retry on a full disk used to add another partial file
        with pytest.raises(OSError) as full:
            archive.save(content)
        assert full.value.errno == errno.ENOSPC
        assert files_in(archive.root) == []
    disk.full = False
    saved = archive.save(content)
    assert archive.read(saved.file_path) == content
    assert files_in(archive.root) == [archive.path(saved.file_path), archive.path(saved.thumb_path)]


def test_a_failed_rename_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = Archive(tmp_path / "images")

    def refuse(self: Path, target: Path) -> Path:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(OSError, match="Read-only"):
        archive.save(png("navy"))
    assert files_in(archive.root) == []
