"""The archive on both backends: the data folder, and a bucket on moto's S3 server.

A bucket is shared by every server, so what one archives, all of them serve; each file
is written once, however often or however many servers save it.
"""

from __future__ import annotations

import errno
import os
import threading
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.testclient import TestClient

from studio import web
from studio.archive import Archive
from studio.errors import StorageError
from studio.runtime import open_studio
from studio.settings import Settings
from studio.storage import LocalStorage, S3Storage, open_storage
from tests.app_support import image_bytes, seed_images
from tests.conftest import S3_PREFIX
from tests.s3_support import S3Server
from tests.store_support import png_bytes

SERVERS = 4
VIEWER = "person:alice"  # links signed for a signed-in person (see Person.viewer)


def open_archive(tmp_path: Path) -> Archive:
    """An archive as a server opens it, from the settings (STUDIO_STORAGE_URL and AWS_*)."""
    return Archive(open_storage(Settings(studio_data_dir=tmp_path / "data")))


@pytest.fixture(params=["folder", "bucket"])
def archive(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Archive:
    if request.param == "bucket":
        request.getfixturevalue("bucket")
    else:
        monkeypatch.delenv("STUDIO_STORAGE_URL", raising=False)
    return open_archive(tmp_path)


def stored(archive: Archive, request: pytest.FixtureRequest) -> list[str]:
    """Every file the archive's storage holds, by key: each version of each object in a
    bucket, each file in a folder (temporary ones included)."""
    storage = archive.storage
    if isinstance(storage, S3Storage):
        s3_server: S3Server = request.getfixturevalue("s3_server")
        return [key.removeprefix(f"{S3_PREFIX}/") for key in s3_server.versions(storage.bucket)]
    assert isinstance(storage, LocalStorage)
    files = (path for path in storage.root.rglob("*") if path.is_file())
    return sorted(str(path.relative_to(storage.root)) for path in files)


def test_an_original_is_kept_byte_for_byte_beside_a_webp_thumbnail(archive: Archive) -> None:
    original = image_bytes(size=(96, 48), fmt="JPEG")
    saved = archive.save(original)
    assert archive.read(saved.file_path) == original
    assert archive.read(saved.thumb_path)[8:12] == b"WEBP"
    assert (saved.width, saved.height, saved.format) == (96, 48, "jpg")
    assert saved.file_path == f"originals/{saved.sha256[:2]}/{saved.sha256}.jpg"


def test_saving_the_same_image_again_stores_nothing_new(
    archive: Archive, request: pytest.FixtureRequest
) -> None:
    original = image_bytes()
    first = archive.save(original)
    again = archive.save(original)
    assert again == first
    assert stored(archive, request) == [first.file_path, first.thumb_path]
    if isinstance(archive.storage, S3Storage):  # and the retry sent no second upload at all
        s3_server: S3Server = request.getfixturevalue("s3_server")
        puts = s3_server.requests("PUT", archive.storage.bucket)
        assert [put.status for put in puts] == [200, 200]


def test_an_upload_kept_as_an_input_lives_apart_from_the_gallerys_files(
    archive: Archive,
) -> None:
    picture = image_bytes(size=(40, 30))
    image = archive.save(picture)
    kept = archive.save_input(picture)  # the same picture, uploaded for an edit
    assert archive.read(kept.file_path) == picture
    assert kept.file_path == f"inputs/{kept.sha256[:2]}/{kept.sha256}.png"
    assert kept.thumb_path.startswith("inputs/") and kept.thumb_path.endswith(".webp")
    archive.delete(kept.file_path)
    archive.delete(kept.thumb_path)
    assert not archive.storage.exists(kept.file_path)
    assert not archive.storage.exists(kept.thumb_path)
    assert archive.storage.exists(image.thumb_path)  # deleting an input takes no image file
    assert archive.read(image.file_path) == picture


def test_a_server_that_lost_the_race_leaves_the_winners_files_alone(
    bucket: str,
    s3_server: S3Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """Server A looks, finds nothing, and server B saves the same image before A writes."""
    original = image_bytes()
    server_a, server_b = open_archive(tmp_path / "a"), open_archive(tmp_path / "b")
    look = server_a.storage.exists

    def look_then_b_saves(key: str) -> bool:
        answer = look(key)
        server_b.save(original)
        return answer

    monkeypatch.setattr(server_a.storage, "exists", look_then_b_saves)
    saved = server_a.save(original)
    assert saved == server_b.save(original)
    statuses = [put.status for put in s3_server.requests("PUT", bucket)]
    assert statuses == [200, 200, 412]  # B wrote both files; the service refused A's write
    assert stored(server_b, request) == [saved.file_path, saved.thumb_path]


def test_servers_saving_one_image_at_once_store_each_file_once(
    archive: Archive, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if isinstance(archive.storage, LocalStorage):  # servers sharing one folder
        others = [Archive(archive.storage.root) for _ in range(1, SERVERS)]
    else:  # servers of their own, sharing one bucket
        others = [open_archive(tmp_path / f"server-{n}") for n in range(1, SERVERS)]
    servers = [archive, *others]
    original = image_bytes((10, 120, 200))
    start = threading.Barrier(SERVERS)
    results: list[object] = []

    def save(server: Archive) -> None:
        start.wait()
        results.append(server.save(original))

    threads = [threading.Thread(target=save, args=(server,)) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == SERVERS and all(result == results[0] for result in results)
    saved = archive.save(original)
    assert stored(archive, request) == [saved.file_path, saved.thumb_path]


def test_every_server_serves_every_image_download_and_zip_from_the_bucket(
    bucket: str, tmp_path: Path
) -> None:
    """Two servers on one database and one bucket, behind a load balancer: a page drawn
    by A links to images that B's routes then serve, all of them read from the bucket."""
    shared = f"sqlite:///{tmp_path / 'shared.db'}"
    servers = [
        open_studio(
            Settings(
                foxapi_api_key="sk-test-not-used",
                studio_data_dir=tmp_path / name,
                studio_database_url=shared,
                studio_url_secret="one-secret-for-the-deployment",
            ),
            start=False,
        )
        for name in ("a", "b")
    ]
    server_a, server_b = servers
    try:
        made = seed_images(server_a.store, server_a.archive, "two foxes", count=2)
        page, routes_b = server_a.service, server_b.service
        client = TestClient(Starlette(routes=web.routes(lambda: routes_b)))
        for item in made:
            thumbnail = client.get(page.gallery.image_link(item.image, "thumb", VIEWER))
            assert thumbnail.status_code == 200 and thumbnail.content[8:12] == b"WEBP"
            original = client.get(page.gallery.image_link(item.image, "original", VIEWER))
            assert original.content == server_a.archive.read(item.image.file_path or "")
            download = client.get(page.gallery.image_link(item.image, "download", VIEWER))
            with Image.open(BytesIO(download.content)) as copy:
                assert copy.info["parameters"].startswith("two foxes")
            location = routes_b.gallery.original_location(item.image)
            assert location == f"s3://{bucket}/{S3_PREFIX}/{item.image.file_path}"
        bundle = client.get(page.gallery.zip_link([item.image.id for item in made], VIEWER))
        names = zipfile.ZipFile(BytesIO(bundle.content)).namelist()
        assert len([name for name in names if name.endswith(".png")]) == 2
        assert not (tmp_path / "a" / "images").exists()
        assert not (tmp_path / "b" / "images").exists()
    finally:
        for server in servers:
            server.close()


def test_a_gallery_fetches_each_thumbnail_from_the_bucket_once(
    bucket: str, s3_server: S3Server, tmp_path: Path
) -> None:
    archive = open_archive(tmp_path)
    saved = archive.save(image_bytes())
    for _rerun in range(3):
        assert archive.read(saved.thumb_path)[8:12] == b"WEBP"
    thumbnail_gets = [
        get for get in s3_server.requests("GET", bucket) if get.path.endswith(saved.thumb_path)
    ]
    assert len(thumbnail_gets) == 1


def test_a_file_path_exists_only_when_the_archive_is_a_folder(archive: Archive) -> None:
    saved = archive.save(image_bytes())
    if isinstance(archive.storage, LocalStorage):
        assert archive.path(saved.file_path).read_bytes() == archive.read(saved.file_path)
        assert archive.location(saved.file_path) == str(archive.path(saved.file_path))
    else:
        with pytest.raises(StorageError, match="is in a bucket, not on this machine"):
            archive.path(saved.file_path)


def test_a_full_disk_while_saving_leaves_no_partial_file_and_a_later_save_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    archive = Archive(tmp_path / "images")
    original = image_bytes()
    real_fsync = os.fsync
    flushes = iter([real_fsync])  # the original fits; the disk is full for the thumbnail

    def full_after_the_original(descriptor: int) -> None:
        flush = next(flushes, None)
        if flush is None:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        flush(descriptor)

    monkeypatch.setattr(os, "fsync", full_after_the_original)
    with pytest.raises(OSError) as full:
        archive.save(original)
    assert full.value.errno == errno.ENOSPC
    assert len(stored(archive, request)) == 1  # the original; nothing half-written beside it
    monkeypatch.setattr(os, "fsync", real_fsync)  # space is freed
    saved = archive.save(original)
    assert stored(archive, request) == [saved.file_path, saved.thumb_path]


def test_archive_keeps_original_bytes_and_a_thumbnail(archive: Archive) -> None:
    original = png_bytes("blue")
    saved = archive.save(original)
    assert archive.read(saved.file_path) == original
    assert (saved.width, saved.height, saved.format) == (64, 32, "png")
    assert archive.read(saved.thumb_path)[8:12] == b"WEBP"
    assert archive.save(original) == saved
