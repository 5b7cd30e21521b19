"""Where bytes live: the data folder, or a bucket on a real S3 server (moto's) on loopback."""

from __future__ import annotations

import errno
import os
import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from moto.s3.responses import S3Response

from studio.errors import ObjectMissing, StorageError
from studio.settings import Settings
from studio.storage import LocalStorage, Storage, open_storage
from tests.conftest import S3_PREFIX
from tests.s3_support import S3Server

KEY = "originals/ab/abcdef.png"
CONFLICT = (
    "<Error><Code>ConditionalRequestConflict</Code>"
    "<Message>A conflicting operation is in progress.</Message></Error>"
)


@pytest.fixture(params=["folder", "bucket"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """Each backend, opened from the settings as the studio opens it."""
    if request.param == "bucket":
        request.getfixturevalue("bucket")
    else:
        request.getfixturevalue("monkeypatch").delenv("STUDIO_STORAGE_URL", raising=False)
    return open_storage(Settings(studio_data_dir=tmp_path / "data"))


def files_in(folder: Path) -> list[str]:
    """Every file under `folder`, temporary ones included, as relative paths."""
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def test_an_object_reads_back_exactly_as_written(storage: Storage) -> None:
    data = b"\x89PNG not really, but bytes all the same \x00\xff"
    storage.put_if_absent(KEY, data)
    assert storage.exists(KEY)
    assert storage.get(KEY) == data
    with storage.open(KEY) as handle:
        assert handle.read(4) + handle.read() == data


def test_a_key_is_written_once_and_never_replaced(storage: Storage) -> None:
    storage.put_if_absent(KEY, b"first")
    storage.put_if_absent(KEY, b"second")
    assert storage.get(KEY) == b"first"


def test_a_missing_object_is_an_os_error_that_names_it(storage: Storage) -> None:
    assert not storage.exists(KEY)
    with pytest.raises(ObjectMissing, match=r"abcdef\.png") as missing:
        storage.get(KEY)
    assert isinstance(missing.value, FileNotFoundError)
    with pytest.raises(ObjectMissing):
        storage.open(KEY)


@pytest.mark.parametrize("key", ["../studio.db", "/etc/passwd", "originals/../../x", ""])
def test_a_key_cannot_reach_outside_its_folder_or_prefix(storage: Storage, key: str) -> None:
    with pytest.raises(ValueError, match="Not a storage key"):
        storage.get(key)


def test_check_passes_when_the_storage_can_be_used(storage: Storage) -> None:
    storage.check()


def test_by_default_images_stay_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STUDIO_STORAGE_URL", raising=False)
    storage = open_storage(Settings(studio_data_dir=tmp_path / "data"))
    storage.put_if_absent(KEY, b"x")
    assert (tmp_path / "data" / "images" / KEY).read_bytes() == b"x"
    assert storage.location(KEY) == str(tmp_path / "data" / "images" / KEY)


def test_a_folder_url_puts_images_in_that_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_STORAGE_URL", f"file://{tmp_path / 'elsewhere'}")
    open_storage(Settings(studio_data_dir=tmp_path / "data")).put_if_absent(KEY, b"x")
    assert files_in(tmp_path / "elsewhere") == [KEY]


def test_an_s3_url_keeps_every_object_under_its_prefix(
    bucket: str, s3_server: S3Server, tmp_path: Path
) -> None:
    storage = open_storage(Settings(studio_data_dir=tmp_path / "data"))
    storage.put_if_absent(KEY, b"x")
    assert s3_server.versions(bucket) == [f"{S3_PREFIX}/{KEY}"]
    assert storage.location(KEY) == f"s3://{bucket}/{S3_PREFIX}/{KEY}"
    assert not (tmp_path / "data" / "images").exists()


def test_the_service_refuses_a_second_object_under_a_key(
    bucket: str, s3_server: S3Server, tmp_path: Path
) -> None:
    storage = open_storage(Settings(studio_data_dir=tmp_path))
    storage.put_if_absent(KEY, b"first")
    storage.put_if_absent(KEY, b"second")
    puts = s3_server.requests("PUT", bucket)
    assert [request.status for request in puts] == [200, 412]  # If-None-Match: * held
    assert s3_server.versions(bucket) == [f"{S3_PREFIX}/{KEY}"]


@pytest.mark.parametrize("url", ["gs://bucket/images", "s3://", "https://example.com/x"])
def test_a_storage_url_of_another_kind_is_refused_with_a_message(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_STORAGE_URL", url)
    with pytest.raises(StorageError, match="STUDIO_STORAGE_URL"):
        open_storage(Settings())


def test_check_names_a_bucket_that_does_not_exist(
    bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_STORAGE_URL", f"s3://{bucket}-gone/images")
    with pytest.raises(StorageError, match=f"bucket {bucket}-gone does not exist"):
        open_storage(Settings()).check()


def test_check_says_when_the_storage_cannot_be_reached(
    bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a loopback port with nothing listening on it
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed)
    storage = open_storage(Settings())
    with pytest.raises(StorageError, match=re.escape(f"storage at {closed} could not be reached")):
        storage.check()
    with pytest.raises(StorageError, match="could not be reached"):
        storage.put_if_absent(KEY, b"x")


def test_check_says_when_the_folder_is_gone(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "images")
    (tmp_path / "images").rmdir()
    with pytest.raises(StorageError, match=re.escape(f"{tmp_path / 'images'} does not exist")):
        storage.check()


def test_a_write_conflict_at_the_service_is_tried_again(
    bucket: str, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 answers 409 while another conditional write to the key is under way."""
    real_put: Callable[[S3Response], object] = S3Response.put_object
    conflicts = [CONFLICT]

    def conflict_once(self: S3Response) -> object:
        return (409, {}, conflicts.pop()) if conflicts else real_put(self)

    monkeypatch.setattr(S3Response, "put_object", conflict_once)
    storage = open_storage(Settings())
    storage.put_if_absent(KEY, b"x")
    assert [request.status for request in s3_server.requests("PUT", bucket)] == [409, 200]
    assert storage.get(KEY) == b"x"


def fail_when_written(monkeypatch: pytest.MonkeyPatch, *, after_bytes: int) -> Callable[[], None]:
    """Make the disk full once `after_bytes` more bytes are written; returns a way to free it."""
    real_write = os.write
    room = [after_bytes]

    def write(descriptor: int, data: bytes | memoryview) -> int:
        if room[0] <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written = real_write(descriptor, data[: room[0]])
        room[0] -= written
        return written

    monkeypatch.setattr(os, "write", write)
    return lambda: monkeypatch.setattr(os, "write", real_write)


def test_a_full_disk_mid_write_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(tmp_path / "images")
    free_space = fail_when_written(monkeypatch, after_bytes=10)
    with pytest.raises(OSError) as full:
        storage.put_if_absent(KEY, b"x" * 100)
    assert full.value.errno == errno.ENOSPC
    assert files_in(tmp_path / "images") == []
    free_space()
    storage.put_if_absent(KEY, b"x" * 100)
    assert files_in(tmp_path / "images") == [KEY]


def test_a_full_disk_found_only_when_flushing_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Delayed allocation: the writes succeed and the disk says it is full at fsync."""

    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    storage = LocalStorage(tmp_path / "images")
    with pytest.raises(OSError, match="No space left"):
        storage.put_if_absent(KEY, b"x" * 100)
    assert files_in(tmp_path / "images") == []
