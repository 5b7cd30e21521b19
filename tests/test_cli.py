"""`python -m studio`: the command line a person runs, as a real subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image
from s3_support import S3Server

from studio.emulator import RunningEmulator
from studio.store import Store
from tests.conftest import EMULATOR_KEY, posts

ROOT = Path(__file__).resolve().parent.parent


def studio_env(tmp_path: Path, emulator: RunningEmulator | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOXAPI_", "STUDIO_"))}
    env["PYTHONPATH"] = str(ROOT)
    env["STUDIO_DATA_DIR"] = str(tmp_path / "data")
    if emulator is not None:
        env["FOXAPI_API_KEY"] = EMULATOR_KEY
        env["FOXAPI_BASE_URL"] = emulator.base_url
    return env


def run_studio(
    tmp_path: Path, emulator: RunningEmulator | None, *args: str, **settings: str
) -> subprocess.CompletedProcess[str]:
    """`python -m studio ARGS` on its own data folder; `settings` adds environment variables."""
    return subprocess.run(
        [sys.executable, "-m", "studio", *args],
        cwd=tmp_path,
        env=studio_env(tmp_path, emulator) | settings,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_generate_waits_for_the_images_and_prints_their_paths(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    done = run_studio(
        tmp_path, emulator, "generate", "a red fox", "-n", "2", "--aspect-ratio", "9:16"
    )
    assert done.returncode == 0, done.stderr
    paths = [Path(line) for line in done.stdout.splitlines()]
    assert len(paths) == 2
    assert all(path.is_file() and path.is_relative_to(tmp_path / "data") for path in paths)
    assert posts(emulator) == [
        {
            "model": "grok-imagine-image",
            "prompt": "a red fox",
            "num_outputs": 2,
            "aspect_ratio": "9:16",
        }
    ]
    listing = run_studio(tmp_path, emulator, "jobs")
    assert "Done" in listing.stdout and "a red fox" in listing.stdout


def test_a_local_file_is_cleaned_uploaded_and_edited(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    Image.new("RGB", (300, 200), "teal").save(tmp_path / "photo.png")
    done = run_studio(tmp_path, emulator, "generate", "make it night", "--image", "photo.png")
    assert done.returncode == 0, done.stderr
    assert len(posts(emulator, "/v1/files/upload/stream")) == 1
    (body,) = posts(emulator)
    assert isinstance(body, dict)
    assert "aspect_ratio" not in body and len(body["image_urls"]) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "   "], "Type a prompt"),
        (["generate", "fox", "-n", "5"], "between 1 and 4"),
        (["generate", "fox", "--image", "notes.png"], "not a PNG, JPEG or WebP"),
        (["generate", "fox", "--image", "ftp://example.com/a.png"], "https://"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(
    tmp_path: Path, emulator: RunningEmulator, args: list[str], message: str
) -> None:
    (tmp_path / "notes.png").write_text("shopping list: eggs, milk")
    refused = run_studio(tmp_path, emulator, *args)
    assert refused.returncode == 1
    assert message in refused.stderr
    assert "Traceback" not in refused.stderr
    assert [entry for entry in emulator.log if entry.method == "POST"] == []


def test_a_process_killed_after_the_post_is_finished_by_sync_without_a_second_post(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    emulator.config.estimated_time = 3.0
    generate = subprocess.Popen(
        [sys.executable, "-m", "studio", "generate", "a red fox", "-n", "2"],
        cwd=tmp_path,
        env=studio_env(tmp_path, emulator),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    store = Store(f"sqlite:///{tmp_path / 'data' / 'studio.db'}")
    deadline = time.monotonic() + 30
    while not any(job.task_id for job in store.jobs()) and time.monotonic() < deadline:
        time.sleep(0.05)
    store.close()
    generate.send_signal(signal.SIGKILL)  # the task id is recorded; nothing is downloaded yet
    generate.wait(timeout=10)
    synced = run_studio(tmp_path, emulator, "sync")
    assert synced.returncode == 0, synced.stderr
    assert len([line for line in synced.stdout.splitlines() if Path(line).is_file()]) == 2
    assert len(posts(emulator)) == 1


def test_with_no_key_the_demo_backend_draws_locally(tmp_path: Path) -> None:
    done = run_studio(tmp_path, None, "generate", "a lighthouse at dusk")
    assert done.returncode == 0, done.stderr
    assert "demo backend" in done.stderr
    assert Path(done.stdout.strip()).is_file()


def test_with_a_bucket_images_are_archived_there_and_their_addresses_printed(
    tmp_path: Path, emulator: RunningEmulator, bucket: str, s3_server: S3Server
) -> None:
    storage_url = os.environ["STUDIO_STORAGE_URL"]  # the bucket fixture's, for this process
    done = run_studio(
        tmp_path, emulator, "generate", "a red fox", "-n", "2", STUDIO_STORAGE_URL=storage_url
    )
    assert done.returncode == 0, done.stderr
    addresses = done.stdout.splitlines()
    assert len(addresses) == 2
    assert all(address.startswith(f"{storage_url}/originals/") for address in addresses)
    versions = [f"s3://{bucket}/{key}" for key in s3_server.versions(bucket)]
    assert len(versions) == len(set(versions)) == 4  # two originals, two thumbnails, once each
    assert set(addresses) <= set(versions)
    assert not (tmp_path / "data" / "images").exists()


def test_a_bucket_that_does_not_exist_is_one_clear_line(tmp_path: Path, bucket: str) -> None:
    refused = run_studio(tmp_path, None, "jobs", STUDIO_STORAGE_URL=f"s3://{bucket}-gone/images")
    assert refused.returncode == 1
    assert (
        refused.stderr.strip() == f"The bucket {bucket}-gone does not exist (STUDIO_STORAGE_URL)."
    )


def test_a_data_folder_that_cannot_be_written_gives_one_clear_line(tmp_path: Path) -> None:
    # A folder under a regular file cannot be made, even by root (whom chmod would not stop).
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    done = run_studio(tmp_path, None, "jobs", STUDIO_DATA_DIR=str(blocker / "data"))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"The studio cannot write to its data folder {blocker / 'data'} (not a directory): "
        "make it writable, or set STUDIO_DATA_DIR to a folder that is."
    ]
    assert done.stdout == ""
