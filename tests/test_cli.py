"""`python -m studio`: the command line a person runs, as a real subprocess."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote

import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.testclient import TestClient

from studio import cli, web
from studio.archive import Archive
from studio.emulator import RunningEmulator
from studio.runtime import open_studio
from studio.settings import Settings
from studio.store import Store
from tests.app_support import seed_images
from tests.c2pa_support import read_credentials
from tests.conftest import EMULATOR_KEY, RELEASE_FIXTURE, posts
from tests.pg_support import free_port, start_cluster
from tests.s3_support import S3Server

ROOT = Path(__file__).resolve().parent.parent
# Would set the terminal's title, clear the screen, and reverse the text after it.
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\u202e"
HOSTILE_SHOWN = "\\x1b]0;pwned\\x07\\x1b[2J\\u202e"


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
    assert "Sent: 2 images, billed by FoxAPI." in done.stderr
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


def test_a_sweep_sends_one_job_per_variant_and_ratio_after_saying_its_price(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    args = ["generate", "a {red|blue} fox", "--aspect-ratio", "1:1", "--aspect-ratio", "16:9"]
    done = run_studio(tmp_path, emulator, *args)
    assert done.returncode == 0, done.stderr
    assert "This sweep: 4 images: 2 ratios x 2 variants x 1 image." in done.stderr
    assert len(done.stdout.splitlines()) == 4
    assert [(body["prompt"], body["aspect_ratio"]) for body in posts(emulator)] == [
        ("a red fox", "1:1"),
        ("a red fox", "16:9"),
        ("a blue fox", "1:1"),
        ("a blue fox", "16:9"),
    ]


def test_a_sweep_over_the_confirmation_size_is_sent_only_with_yes(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    args = ["generate", "a {red|blue} fox", "-n", "2"]
    refused = run_studio(tmp_path, emulator, *args, STUDIO_CONFIRM_ABOVE_IMAGES="3")
    assert refused.returncode == 1
    assert "It bills 4 images, more than 3 at once: add --yes to send it." in refused.stderr
    assert posts(emulator) == []

    sent = run_studio(tmp_path, emulator, *args, "--yes", STUDIO_CONFIRM_ABOVE_IMAGES="3")
    assert sent.returncode == 0, sent.stderr
    assert len(posts(emulator)) == 2 and len(sent.stdout.splitlines()) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "   "], "Type a prompt"),
        (["generate", "fox", "-n", "5"], "between 1 and 4"),
        (["generate", "fox", "--image", "notes.png"], "not a PNG, JPEG or WebP"),
        (["generate", "fox", "--image", "ftp://example.com/a.png"], "https://"),
        (
            ["generate", "fox", "--image", "https://example.com/a.png", "--aspect-ratio", "1:1"],
            "An edit keeps its input's shape",
        ),
        # Longer than any file path can be: once "File name too long".
        (["generate", "fox", "--image", "a" * 5000], "is not a web address FoxAPI can fetch"),
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


def test_a_web_address_longer_than_any_file_path_is_sent_as_a_link(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    # Signed links of tens of kB are real; looked up as a file, it said "File name too long".
    url = f"https://cdn.example/input.png?sig={'x' * 5000}"
    done = run_studio(tmp_path, emulator, "generate", "night", "--image", url)
    assert done.returncode == 0, done.stderr
    assert "too long" not in done.stderr
    assert posts(emulator) == [
        {"model": "grok-imagine-image", "prompt": "night", "num_outputs": 1, "image_urls": [url]}
    ]


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
    while not any(job.task_id for job in store.jobs.jobs()) and time.monotonic() < deadline:
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
    assert "demo backend (nothing is billed)" in done.stderr
    assert "Sent: 1 image, drawn by the demo backend (not billed)." in done.stderr
    assert "billed by FoxAPI" not in done.stderr
    assert Path(done.stdout.strip()).is_file()


def test_db_current_and_upgrade_tell_an_operator_where_the_schema_stands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(RELEASE_FIXTURE, data / "studio.db")

    current = run_studio(tmp_path, None, "db", "current")
    assert current.returncode == 0, current.stderr
    assert "Revision none" in current.stdout and "db upgrade" in current.stdout

    upgraded = run_studio(tmp_path, None, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "Upgraded from no revision to" in upgraded.stdout

    again = run_studio(tmp_path, None, "db", "current")
    assert "the newest this version knows" in again.stdout
    listed = run_studio(tmp_path, None, "jobs")
    assert "A red fox asleep in the snow" in listed.stdout


def test_an_unreachable_database_is_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    env = studio_env(tmp_path, None)
    env["STUDIO_DATABASE_URL"] = f"postgresql+psycopg://studio:hunter2@127.0.0.1:{free_port()}/x"
    for command in (["jobs"], ["db", "upgrade"]):
        done = subprocess.run(
            [sys.executable, "-m", "studio", *command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1
        assert "The studio cannot reach its database" in done.stderr
        assert "Traceback" not in done.stderr and "hunter2" not in done.stderr


def test_a_database_that_stops_answering_mid_wait_is_one_line_and_a_failure(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    emulator.config = dataclasses.replace(emulator.config, estimated_time=30.0)
    cluster = start_cluster()  # its own: stopping the session's would fail other tests
    try:
        env = studio_env(tmp_path, emulator) | {"STUDIO_DATABASE_URL": cluster.create_database()}
        waiting = subprocess.Popen(
            [sys.executable, "-m", "studio", "generate", "a fox by a dark server"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while not posts(emulator) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert posts(emulator), "the command never sent its job"
        cluster.stop()
        _out, err = waiting.communicate(timeout=60)
    finally:
        with contextlib.suppress(RuntimeError):  # stopped already, as the test leaves it
            cluster.destroy()
    assert waiting.returncode == 1
    assert "Traceback" not in err
    said = [line for line in err.splitlines() if "database" in line]
    assert len(said) == 1, err
    assert said[0].startswith("The studio cannot reach its database")
    assert said[0].endswith(cli.NOTHING_LOST)


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


def assert_inert(output: str) -> None:
    assert not any(char in output for char in "\x1b\x07\u202e"), output
    assert HOSTILE_SHOWN in output


def test_a_prompt_with_terminal_escapes_is_listed_inertly(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    done = run_studio(tmp_path, emulator, "generate", f"fox {HOSTILE} in snow")
    assert done.returncode == 0, done.stderr
    listing = run_studio(tmp_path, emulator, "jobs")
    assert_inert(listing.stdout)
    assert "fox " in listing.stdout and " in snow" in listing.stdout


class HostileFoxAPI(BaseHTTPRequestHandler):
    """A stand-in FoxAPI whose every message carries terminal escapes.

    A prompt "refuse" gets a 422; any other is accepted, its first poll fails with a 503
    (which the command line logs as it retries), and the task then fails.
    """

    polled: ClassVar[set[str]] = set()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body["prompt"] == "refuse":
            self.answer(422, {"error": {"message": f"prompt: {HOSTILE}", "type": "invalid"}})
        else:
            task_info = {"estimated_time": 1}  # so the first poll comes soon
            pending = {"id": "task-hostile", "status": "pending", "task_info": task_info}
            self.answer(200, pending)

    def do_GET(self) -> None:
        if self.path not in self.polled:
            self.polled.add(self.path)
            self.answer(503, {"error": {"message": f"busy {HOSTILE}"}})
            return
        failure = {"code": "policy", "message": f"refused {HOSTILE}"}
        self.answer(200, {"id": "task-hostile", "status": "failed", "error": failure})

    def answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hostile_foxapi() -> Iterator[dict[str, str]]:
    """Settings that point the command line at a HostileFoxAPI on loopback."""
    HostileFoxAPI.polled = set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostileFoxAPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    yield {"FOXAPI_API_KEY": EMULATOR_KEY, "FOXAPI_BASE_URL": base_url}
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("prompt", ["refuse", "a fox"])
def test_foxapi_messages_with_terminal_escapes_are_printed_inertly(
    tmp_path: Path, hostile_foxapi: dict[str, str], prompt: str
) -> None:
    done = run_studio(tmp_path, None, "generate", prompt, **hostile_foxapi)
    assert done.returncode == 1
    assert_inert(done.stderr)
    assert "Traceback" not in done.stderr
    if prompt != "refuse":
        assert f"busy {HOSTILE_SHOWN}" in done.stderr  # the retry warning, logged
        assert f"Failed: refused {HOSTILE_SHOWN}" in done.stderr


def test_a_file_over_the_upload_limit_is_refused_before_it_is_read(
    tmp_path: Path,
    emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    big = tmp_path / "huge.png"
    with big.open("wb") as file:
        file.truncate(1024**3)  # sparse: a gigabyte that takes no room
    for name, value in studio_env(tmp_path, emulator).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    real_open, real_read_bytes = Path.open, Path.read_bytes

    def refuse_to_open_big(path: Path, *args: object, **kwargs: object) -> object:
        assert path.resolve() != big, "the oversized file was opened"
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    def refuse_to_read_big(path: Path) -> bytes:
        assert path.resolve() != big, "the oversized file was read"
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "open", refuse_to_open_big)
    monkeypatch.setattr(Path, "read_bytes", refuse_to_read_big)

    assert cli.main(["generate", "make it night", "--image", "huge.png"]) == 1

    assert "“huge.png” is 1024.0 MB; the limit is 20 MB" in capsys.readouterr().err
    assert posts(emulator, "/v1/files/upload/stream") == posts(emulator) == []


def test_the_upload_limit_setting_applies_to_local_files(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    Image.effect_noise((300, 300), 64).save(tmp_path / "photo.png")
    size = (tmp_path / "photo.png").stat().st_size
    refused = run_studio(
        tmp_path,
        emulator,
        *("generate", "night", "--image", "photo.png"),
        STUDIO_MAX_UPLOAD_BYTES=str(size - 1),
    )
    assert refused.returncode == 1
    assert "“photo.png” is" in refused.stderr and "Choose a smaller file" in refused.stderr
    assert [entry for entry in emulator.log if entry.method == "POST"] == []


def test_as_a_named_person_jobs_are_theirs_and_count_against_their_limit(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    limits = {"STUDIO_DAILY_IMAGE_LIMIT": "2", "STUDIO_ALLOWED_EMAILS": "@example.com"}
    done = run_studio(
        tmp_path, emulator, "--as", "alice@example.com", "generate", "a fox", "-n", "2", **limits
    )
    assert done.returncode == 0, done.stderr
    refused = run_studio(
        tmp_path, emulator, "--as", "alice@example.com", "generate", "an owl", **limits
    )
    assert refused.returncode == 1
    assert "0 of 2 images left today; this request is for 1." in refused.stderr
    assert len(posts(emulator)) == 1
    # The operator (no --as) has a limit of their own.
    assert run_studio(tmp_path, emulator, "generate", "an owl", **limits).returncode == 0

    outsider = run_studio(tmp_path, emulator, "--as", "eve@elsewhere.org", "jobs", **limits)
    assert outsider.returncode == 1 and "not among the people" in outsider.stderr
    store = Store(f"sqlite:///{tmp_path / 'data' / 'studio.db'}")
    try:
        owners = {job.prompt: job.owner_email for job in store.jobs.jobs()}
    finally:
        store.close()
    assert owners == {"a fox": "alice@example.com", "an owl": None}


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


def test_export_writes_what_the_browser_downloads_with_credentials_and_a_manifest(
    tmp_path: Path,
) -> None:
    settings = Settings(studio_data_dir=tmp_path / "data", studio_url_secret="a-test-secret")
    studio = open_studio(settings, start=False)
    try:
        [fox] = seed_images(studio.store, studio.archive, "a fox 狐狸", fmt="JPEG")
        owls = seed_images(studio.store, studio.archive, "two owls", count=2, fmt="WEBP")
        [hare] = seed_images(studio.store, studio.archive, "a hare")  # not exported
        browser = TestClient(Starlette(routes=web.routes(lambda: studio.service)))
        downloads = {
            item.image.id: browser.get(
                studio.service.gallery.image_link(item.image, "download", "local")
            )
            for item in (fox, *owls)
        }
    finally:
        studio.close()
    listing = run_studio(tmp_path, None, "jobs")
    assert fox.job.id in listing.stdout and hare.job.id in listing.stdout

    done = run_studio(tmp_path, None, "export", fox.job.id, owls[0].job.id, "--to", "out")

    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    assert sorted(path.name for path in out.iterdir()) == sorted(
        ["a-fox-1.jpg", "two-owls-1.webp", "two-owls-2.webp", "manifest.json"]
    )
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [entry["prompt"] for entry in manifest["files"]] == [
        "a fox 狐狸",
        "two owls",
        "two owls",
    ]
    assert all(entry["content_credentials"] for entry in manifest["files"])
    for entry, item in zip(manifest["files"], (fox, *owls), strict=True):
        exported = (out / entry["file"]).read_bytes()
        downloaded = downloads[item.image.id]
        assert downloaded.headers["content-disposition"].endswith(quote(entry["file"]))
        mime_type = downloaded.headers["content-type"]
        # Each signature is its own (a new manifest id and time); all else is the same.
        assert exported != downloaded.content
        assert len(exported) == len(downloaded.content)
        for data in (exported, downloaded.content):
            read = read_credentials(data, mime_type)
            assert read.valid_but_untrusted and read.action_names == ["c2pa.created"]
        assert _pixels(exported) == _pixels(downloaded.content)
        assert _studio_xmp(exported) == _studio_xmp(downloaded.content)
        assert "a fox 狐狸" in _studio_xmp(exported).decode() or "owls" in entry["file"]


def test_export_of_the_last_jobs_and_of_a_job_that_is_not_there(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'data' / 'studio.db'}")
    archive = Archive(tmp_path / "data" / "images")
    seed_images(store, archive, "first")
    seed_images(store, archive, "second")
    store.close()

    last = run_studio(tmp_path, None, "export", "--last", "1", "--to", "out")
    missing = run_studio(tmp_path, None, "export", "0" * 32, "--to", "out2")
    neither = run_studio(tmp_path, None, "export", "--to", "out3")

    assert last.returncode == 0, last.stderr
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "manifest.json",
        "second-1.png",
    ]
    assert missing.returncode == 1 and "No job with the id 0000" in missing.stderr
    assert not (tmp_path / "out2").exists()
    assert neither.returncode == 1 and "--last N" in neither.stderr


def _studio_xmp(data: bytes) -> bytes:
    """The XMP packet the studio wrote (the prompt and settings)."""
    start = data.index(b"<x:xmpmeta")
    return data[start : data.index(b"</x:xmpmeta>", start)]


def _pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as picture:
        return picture.convert("RGB").tobytes()


def test_an_unusable_signing_certificate_stops_the_start_in_one_line(tmp_path: Path) -> None:
    done = run_studio(
        tmp_path,
        None,
        "jobs",
        STUDIO_C2PA_CERT=str(tmp_path / "nowhere.pem"),
        STUDIO_C2PA_KEY="-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----",
    )

    assert done.returncode == 1
    assert "STUDIO_C2PA_CERT names" in done.stderr and "cannot be read" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "not a key" not in done.stderr
