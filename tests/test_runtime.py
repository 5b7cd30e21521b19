"""Putting the studio together: a data folder it cannot write stops it with one clear line."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

from studio.runtime import DataFolderUnusable, check_data_folder, open_studio
from studio.settings import Settings


def test_a_missing_data_folder_is_created(tmp_path: Path) -> None:
    check_data_folder(tmp_path / "new" / "data")
    assert (tmp_path / "new" / "data").is_dir()
    assert list((tmp_path / "new" / "data").iterdir()) == []  # the probe leaves nothing


def test_a_read_only_data_folder_names_the_folder_and_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root ignores chmod, so the read-only file system is injected where the probe writes.
    def read_only(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("studio.runtime.tempfile.TemporaryFile", read_only)
    with pytest.raises(DataFolderUnusable) as refused:
        open_studio(Settings(studio_data_dir=tmp_path, foxapi_api_key="sk-test"), start=False)
    assert str(refused.value) == (
        f"The studio cannot write to its data folder {tmp_path} (read-only file system): "
        "make it writable, or set STUDIO_DATA_DIR to a folder that is."
    )
    assert "\n" not in str(refused.value)
    assert not (tmp_path / "studio.db").exists()
