"""studio.runtime: the parts put together, on the demo backend or on FoxAPI with a key."""

from __future__ import annotations

import errno
import gc
import logging
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from studio.credentials import Backend, Credentials
from studio.emulator import RunningEmulator
from studio.records import GalleryFilter
from studio.runtime import (
    DataFolderUnusable,
    check_data_folder,
    freeze_start_up_objects,
    open_studio,
)
from studio.settings import Settings
from studio.states import JobStatus
from tests.app_support import GALLERY, open_app, open_app_studio
from tests.conftest import EMULATOR_KEY, posts
from tests.service_support import wait_for


@pytest.fixture(autouse=True)
def no_outside_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No developer's environment or .streamlit/secrets.toml reaches these settings."""
    monkeypatch.chdir(tmp_path)
    for name in ("FOXAPI_API_KEY", "FOXAPI_BASE_URL", "STUDIO_DATA_DIR", "STUDIO_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _answers(base_url: str) -> bool:
    try:
        httpx.get(f"{base_url}/v1/tasks/none", timeout=5, trust_env=False)
    except httpx.ConnectError:
        return False
    return True


def test_with_no_key_the_studio_draws_on_its_demo_backend_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="studio.runtime")
    studio = open_studio(Settings(studio_data_dir=tmp_path / "data"))
    try:
        assert studio.demo is not None
        assert studio.credentials.backend is Backend.DEMO
        assert studio.credentials.base_url == studio.demo.base_url
        assert (
            f"No FoxAPI key configured: using the demo backend at {studio.demo.base_url}"
            in caplog.messages
        )
        submission = studio.service.jobs.generation(
            prompt="a fox drawn here", num_outputs=1, aspect_ratio=None, output_format=None
        )
        job = studio.service.jobs.send(submission, studio.credentials)
        assert job.backend == Backend.DEMO
        assert job.task_id is not None
        assert posts(studio.demo) == [job.request.body()]  # the one POST, to the demo backend
        # Its tasks are kept beside the data, so a restarted server still finishes them.
        assert (tmp_path / "data" / "demo-backend").is_dir()
    finally:
        studio.close()


def test_with_a_key_the_studio_sends_to_foxapi_with_it_and_starts_no_demo(
    tmp_path: Path, emulator: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="studio.runtime")
    settings = Settings(
        foxapi_api_key=f"  {EMULATOR_KEY}  ",
        foxapi_base_url=emulator.base_url,
        studio_data_dir=tmp_path / "data",
    )
    studio = open_studio(settings)
    try:
        assert studio.demo is None
        assert studio.credentials == Credentials(Backend.FOXAPI, emulator.base_url, EMULATOR_KEY)
        assert not any("demo backend" in message for message in caplog.messages)
        assert not (tmp_path / "data" / "demo-backend").exists()
    finally:
        studio.close()


def test_a_generation_is_sent_once_through_the_engine_and_its_images_join_the_gallery(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    settings = Settings(
        foxapi_api_key=EMULATOR_KEY,
        foxapi_base_url=emulator.base_url,
        studio_data_dir=tmp_path / "data",
    )
    studio = open_studio(settings)
    try:
        service = studio.service
        submission = service.jobs.generation(
            prompt="a red fox", num_outputs=2, aspect_ratio="16:9", output_format="png"
        )
        job = service.jobs.send(submission, service.jobs.server_credentials)

        assert wait_for(service, job.id).status is JobStatus.DONE
        assert len(posts(emulator)) == 1
        assert [image.position for image in service.gallery.saved_images(job.id)] == [0, 1]
        gallery = service.gallery.gallery(GalleryFilter(search="fox"), limit=10, offset=0)
        assert [item.job.id for item in gallery] == [job.id, job.id]
        assert service.gallery.gallery_count(GalleryFilter()) == 2
    finally:
        studio.close()


def test_close_stops_the_engine_and_the_demo_backend(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    studio = open_studio(Settings(studio_data_dir=tmp_path / "data"))
    [engine] = [
        thread
        for thread in threading.enumerate()
        if thread not in before and thread.name == "studio-engine"
    ]
    assert studio.demo is not None
    demo_url = studio.demo.base_url
    assert engine.is_alive()
    assert _answers(demo_url)

    studio.close()

    assert not engine.is_alive()
    assert not _answers(demo_url)


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


def test_a_start_on_an_up_to_date_folder_loads_neither_boto3_alembic_nor_c2pa(
    tmp_path: Path,
) -> None:
    # Most installs keep images in the data folder, sign with the studio's own chain and
    # start on a database already at the newest revision: they pay none of these
    # libraries' memory or start-up time until a bucket, an upgrade or a download.
    opened = (
        "import sys; from studio.runtime import open_studio; from studio.settings import Settings;"
        f"open_studio(Settings(studio_data_dir={str(tmp_path / 'data')!r})).close();"
        "print(sorted({'boto3', 'botocore', 'alembic', 'c2pa', 'cryptography'} & set(sys.modules)))"
    )
    root = Path(__file__).parent.parent
    first, second = (
        subprocess.run(
            [sys.executable, "-c", opened], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    )
    # A new data folder: the migrations make its schema, cryptography its own chain.
    assert first == "['alembic', 'cryptography']"
    assert second == "[]"


def test_with_the_start_up_frozen_the_collection_after_each_run_still_keeps_memory_flat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server freezes what its start made, then reruns pages for days: what runs make
    # must still be collected (Streamlit's collection after each run), or memory grows.
    studios = open_app_studio(tmp_path, monkeypatch)
    next(studios)
    try:
        app = open_app(GALLERY)
        assert freeze_start_up_objects() > 50_000  # Streamlit's and the studio's imports
        for _ in range(5):
            app.run()
        gc.collect()
        settled = len(gc.get_objects())  # what the collector still walks: not the frozen
        runs = 30
        for _ in range(runs):
            app.run()
        assert not app.exception
        gc.collect()
        # A run of the Gallery makes thousands of objects: left uncollected, they would
        # show here by the ten thousand. (A dozen dead weak references a run stay, in
        # Streamlit's run machinery, frozen or not.)
        assert len(gc.get_objects()) - settled < 25 * runs
    finally:
        gc.unfreeze()
        next(studios, None)
