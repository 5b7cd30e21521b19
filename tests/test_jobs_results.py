"""studio.jobs.results through the engine: hostile, failing or slow result hosts, results
past FoxAPI's 24 hours and a full disk; every job ends, with words a person understands."""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from studio.archive import Archive
from studio.credentials import Credentials
from studio.emulator import RunningEmulator
from studio.fetch import NOT_ALLOWED
from studio.jobs.clients import RESULT_LIFETIME
from studio.jobs.notes import DISK_FULL, JOB_EXPIRED, RESULTS_EXPIRED
from studio.states import ImageStatus, JobEvent, JobStatus
from studio.store import Store
from studio.task import Task, TaskStatus
from tests.disk_support import FullDisk, files_in
from tests.engine_support import (
    Factory,
    allowing,
    downloading_job,
    engines,
    request,
    wait_until_finished,
)
from tests.http_support import (
    LoopbackServer,
    closed_port,
    dripping_server,
    redirect_to,
    serve_png,
)


@pytest.fixture
def make_engine(store: Store, archive: Archive) -> Iterator[Factory]:
    with engines(store, archive) as make:
        yield make


@pytest.fixture
def canary() -> Iterator[LoopbackServer]:
    server = LoopbackServer(serve_png)
    yield server
    server.stop()


def test_a_result_url_pointing_inside_ends_the_job_without_reaching_it(
    make_engine: Factory, store: Store, credentials: Credentials, canary: LoopbackServer
) -> None:
    job_id = downloading_job(
        store, credentials, [canary.url("/secret.png"), "http://169.254.169.254/latest/"]
    )
    engine = make_engine()
    engine.add_credentials(credentials)
    engine.start()
    assert wait_until_finished(store, job_id) is JobStatus.FAILED
    assert store.jobs.job(job_id).error_message == NOT_ALLOWED
    assert canary.hits == []


def test_redirects_to_the_canary_or_to_a_file_end_the_job(
    make_engine: Factory, store: Store, credentials: Credentials, canary: LoopbackServer
) -> None:
    to_canary = LoopbackServer(redirect_to(canary.url("/secret.png")))
    to_file = LoopbackServer(redirect_to("file:///etc/passwd"))
    try:
        job_id = downloading_job(store, credentials, [to_canary.url(), to_file.url()])
        engine = make_engine(fetch_policy=allowing(to_canary, to_file))
        engine.add_credentials(credentials)
        engine.start()
        assert wait_until_finished(store, job_id) is JobStatus.FAILED
        assert store.jobs.job(job_id).error_message == NOT_ALLOWED
        assert (to_canary.hits, to_file.hits) == (["/image.png"], ["/image.png"])
        assert canary.hits == []
    finally:
        to_canary.stop()
        to_file.stop()


def test_dripping_results_are_cut_off_while_other_jobs_finish(
    make_engine: Factory, store: Store, credentials: Credentials
) -> None:
    server = dripping_server()
    try:
        # As many dripping jobs as download workers: before the deadline they held all.
        dripping = [downloading_job(store, credentials, [server.url()]) for _ in range(4)]
        engine = make_engine(fetch_policy=allowing(server, deadline_seconds=1.5))
        engine.start()
        ordinary = engine.submit(request(), credentials)
        assert wait_until_finished(store, ordinary.id) is JobStatus.DONE
        for job_id in dripping:
            assert wait_until_finished(store, job_id) is JobStatus.FAILED
            assert store.jobs.job(job_id).error_message == (
                "The result could not be fetched: it did not arrive within 1.5 s."
            )
    finally:
        server.stop()


def test_a_result_on_a_closed_port_ends_the_job_after_bounded_retries(
    make_engine: Factory, store: Store, credentials: Credentials, caplog: pytest.LogCaptureFixture
) -> None:
    port = closed_port()
    job_id = downloading_job(store, credentials, [f"http://127.0.0.1:{port}/result.png"])
    engine = make_engine(fetch_policy=allowing(ports=(port,)), retry_seconds=0.01)
    engine.add_credentials(credentials)
    engine.start()
    assert wait_until_finished(store, job_id) is JobStatus.FAILED
    assert store.jobs.job(job_id).error_message == (
        "The result could not be fetched. "
        "Could not reach the image host 127.0.0.1. Check your network connection."
    )
    assert not any(record.exc_info for record in caplog.records)


def test_a_result_that_is_not_an_image_says_so_rather_than_expired(
    make_engine: Factory, store: Store, credentials: Credentials
) -> None:
    def login_page(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", "4")
        handler.end_headers()
        handler.wfile.write(b"<p/>")

    server = LoopbackServer(login_page)
    try:
        job_id = downloading_job(store, credentials, [server.url()])
        engine = make_engine(fetch_policy=allowing(server))
        engine.add_credentials(credentials)
        engine.start()
        assert wait_until_finished(store, job_id) is JobStatus.FAILED
        message = store.jobs.job(job_id).error_message or ""
        assert message.startswith("The result was not an image")
        assert "expired" not in message
    finally:
        server.stop()


class LongAgo:
    """Stands in for the store's clock while old records are written."""

    @staticmethod
    def time() -> float:
        return time.time() - RESULT_LIFETIME - 3600


def test_jobs_whose_results_are_past_24_hours_end_as_expired(
    make_engine: Factory,
    store: Store,
    emulator: RunningEmulator,
    credentials: Credentials,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = LoopbackServer(serve_png)
    try:
        with monkeypatch.context() as past:
            past.setattr("studio.jobs.store.time", LongAgo)
            saving = downloading_job(store, credentials, [server.url()])
            queued = store.jobs.create_job(
                request(),
                backend="foxapi",
                key_id=credentials.key_id,
                lease_owner="x",
                lease_seconds=0,
            )
            task = Task(id="task-unified-1-old", status=TaskStatus.PENDING)
            store.jobs.mark_submitted(
                queued.id, JobEvent.TASK_PENDING, task, owner="x", lease_seconds=0
            )
        engine = make_engine(fetch_policy=allowing(server))
        engine.add_credentials(credentials)
        engine.start()
        assert wait_until_finished(store, saving) is JobStatus.FAILED
        assert store.jobs.job(saving).error_message == RESULTS_EXPIRED
        assert wait_until_finished(store, queued.id) is JobStatus.FAILED
        assert store.jobs.job(queued.id).error_message == JOB_EXPIRED
        assert server.hits == []
        assert [entry for entry in emulator.log if entry.method == "GET"] == []
    finally:
        server.stop()


def test_a_full_disk_loses_nothing_and_the_job_finishes_once_space_returns(
    make_engine: Factory,
    store: Store,
    archive: Archive,
    credentials: Credentials,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    disk = FullDisk()
    monkeypatch.setattr("studio.storage.os", disk)
    # A second between tries: the look at the disk below falls between two of them.
    engine = make_engine(retry_seconds=1.0)
    engine.start()
    job = engine.submit(request(num_outputs=2), credentials)
    deadline = time.monotonic() + 15
    while store.jobs.job(job.id).error_message != DISK_FULL:
        assert time.monotonic() < deadline, store.jobs.job(job.id)
        time.sleep(0.05)
    assert store.jobs.job(job.id).status is JobStatus.DOWNLOADING
    folder = tmp_path / "images"
    assert files_in(folder) == []  # no half-written file keeps the disk full
    disk.full = False
    assert wait_until_finished(store, job.id) is JobStatus.DONE
    assert store.jobs.job(job.id).error_message is None
    images = store.gallery.job_images(job.id)
    assert [image.status for image in images] == [ImageStatus.ARCHIVED] * 2
    kept = [archive.path(key) for image in images for key in (image.file_path, image.thumb_path)]
    assert files_in(folder) == sorted(kept)


def test_a_slow_result_host_does_not_hold_up_other_jobs(
    make_engine: Factory, store: Store, credentials: Credentials
) -> None:
    server = dripping_server()
    try:
        # As many dripping jobs as there are poll workers, each allowed a whole minute.
        dripping = [downloading_job(store, credentials, [server.url()]) for _ in range(4)]
        engine = make_engine(fetch_policy=allowing(server, deadline_seconds=60), workers=4)
        engine.start()
        deadline = time.monotonic() + 15
        while len(server.hits) < len(dripping):  # every dripping download has begun
            assert time.monotonic() < deadline
            time.sleep(0.05)
        ordinary = engine.submit(request(), credentials)
        assert wait_until_finished(store, ordinary.id) is JobStatus.DONE
        assert all(store.jobs.job(job_id).status is JobStatus.DOWNLOADING for job_id in dripping)
    finally:
        server.stop()  # the drips end, and the engine can stop
