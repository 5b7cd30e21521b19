"""The job engine against a real emulator: every image arrives, none is billed twice."""

from __future__ import annotations

import bisect
import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from PIL import Image

from studio.archive import Archive
from studio.credentials import Backend, Credentials
from studio.emulator import RunningEmulator
from studio.errors import InsufficientBalance, InvalidInput, OutcomeUnknown, Unauthorized
from studio.jobs.engine import Engine
from studio.jobs.foxapi import FoxAPIClient
from studio.jobs.notes import INTERNAL_PROBLEM
from studio.states import ImageStatus, JobEvent, JobStatus
from studio.store import Store
from studio.task import Task, TaskStatus
from tests.conftest import posts
from tests.engine_support import Factory, downloading_job, engines, request, wait_until_finished
from tests.pg_support import start_cluster


@pytest.fixture
def make_engine(store: Store, archive: Archive) -> Iterator[Factory]:
    with engines(store, archive) as make:
        yield make


def test_generated_images_are_archived_byte_for_byte_at_the_ratio_size(
    make_engine: Factory, store: Store, archive: Archive, credentials: Credentials
) -> None:
    engine = make_engine()
    engine.start()
    job = engine.submit(
        request(num_outputs=2, aspect_ratio="16:9", output_format="png"), credentials
    )
    assert job.task_id and job.task_id.startswith("task-unified-")
    assert wait_until_finished(store, job.id) is JobStatus.DONE
    images = store.gallery.job_images(job.id)
    assert [image.status for image in images] == [ImageStatus.ARCHIVED] * 2
    for image in images:
        original = archive.read(image.file_path or "")
        assert original == httpx.get(image.source_url).content
        with Image.open(io.BytesIO(original)) as picture:
            assert (picture.format, picture.size) == ("PNG", (1408, 768))


def test_refused_submissions_raise_and_leave_nothing_behind(
    make_engine: Factory, store: Store, emulator: RunningEmulator, credentials: Credentials
) -> None:
    engine = make_engine()
    wrong_key = Credentials(Backend.FOXAPI, emulator.base_url, "sk-wrong")
    with pytest.raises(Unauthorized) as refused:
        engine.submit(request(), wrong_key)
    assert "sk-wrong" not in str(refused.value)
    emulator.config.balance = 0
    with pytest.raises(InsufficientBalance) as poor:
        engine.submit(request(), credentials)
    assert "Top up" in poor.value.message
    assert store.jobs.jobs() == []


def test_an_invalid_field_shows_foxapis_own_message(
    make_engine: Factory, store: Store, tmp_path: Path
) -> None:
    def refuse(req: httpx.Request) -> httpx.Response:
        body = {"error": {"message": "prompt: violates length policy", "type": "invalid_request"}}
        return httpx.Response(422, json=body)

    engine = make_engine(transport=httpx.MockTransport(refuse))
    fake = Credentials(Backend.FOXAPI, "https://api.foxapi.test", "sk-test")
    with pytest.raises(InvalidInput) as caught:
        engine.submit(request(), fake)
    assert "prompt: violates length policy" in caught.value.message
    assert store.jobs.jobs() == []


def test_a_claim_between_recording_and_sending_a_job_leaves_it_to_its_sender(
    make_engine: Factory, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine's loop may look for orphaned jobs just after a page records one: that job
    is its own sender's, so a refusal still leaves nothing, never an "outcome unknown"."""

    def refuse(req: httpx.Request) -> httpx.Response:
        body = {"error": {"message": "prompt: violates length policy", "type": "invalid_request"}}
        return httpx.Response(422, json=body)

    engine = make_engine(transport=httpx.MockTransport(refuse))
    record = store.jobs.create_job
    claimed_between: list[str] = []

    def record_then_claim(*args: object, **kwargs: object) -> object:
        job = record(*args, **kwargs)  # type: ignore[arg-type]
        engine._claim()  # the loop's claim, at the worst moment
        claimed_between.append(store.jobs.job(job.id).status.value)
        return job

    monkeypatch.setattr(store.jobs, "create_job", record_then_claim)
    fake = Credentials(Backend.FOXAPI, "https://api.foxapi.test", "sk-test")
    with pytest.raises(InvalidInput):
        engine.submit(request(), fake)
    assert claimed_between == [JobStatus.SUBMITTING.value]
    assert store.jobs.jobs() == []


def test_a_rate_limited_submit_is_retried_and_billed_once(
    make_engine: Factory, store: Store, emulator: RunningEmulator, credentials: Credentials
) -> None:
    emulator.config.rate_limit_next_submits = 1
    engine = make_engine()
    engine.start()
    job = engine.submit(request(), credentials)
    assert wait_until_finished(store, job.id) is JobStatus.DONE
    statuses = [entry.status for entry in emulator.log if entry.method == "POST"]
    assert statuses == [429, 200]


def test_server_errors_while_polling_do_not_lose_the_job(
    make_engine: Factory, store: Store, emulator: RunningEmulator, credentials: Credentials
) -> None:
    emulator.config.server_error_next_polls = 3
    engine = make_engine()
    engine.start()
    job = engine.submit(request(), credentials)
    assert wait_until_finished(store, job.id, timeout=30) is JobStatus.DONE
    assert 502 in [entry.status for entry in emulator.log if entry.method == "GET"]


def test_a_post_that_timed_out_is_marked_unknown_and_never_resent(
    make_engine: Factory, store: Store
) -> None:
    sent: list[httpx.Request] = []

    def time_out(req: httpx.Request) -> httpx.Response:
        sent.append(req)
        raise httpx.ReadTimeout("no answer", request=req)

    engine = make_engine(transport=httpx.MockTransport(time_out))
    engine.start()
    fake = Credentials(Backend.FOXAPI, "https://api.foxapi.test", "sk-test")
    with pytest.raises(OutcomeUnknown) as caught:
        engine.submit(request(), fake)
    assert "not send it again" in caught.value.message
    (job,) = store.jobs.jobs()
    assert job.status is JobStatus.UNKNOWN
    time.sleep(0.5)
    assert len(sent) == 1


def test_when_more_tasks_are_due_than_workers_the_likeliest_to_have_finished_go_first(
    make_engine: Factory, store: Store
) -> None:
    progress = {"task-20": 20, "task-50": 50, "task-80": 80, "task-95": 95}
    polled: list[str] = []
    lock = threading.Lock()

    def answer(req: httpx.Request) -> httpx.Response:
        if req.method == "POST":
            task_id = json.loads(req.content)["prompt"]
            task = {"id": task_id, "status": "pending", "progress": 0}
            return httpx.Response(200, json=task | {"task_info": {"estimated_time": 2}})
        task_id = req.url.path.rsplit("/", 1)[-1]
        with lock:
            polled.append(task_id)
            holds_the_worker = len(polled) == len(progress) + 1
        if holds_the_worker:
            time.sleep(1.5)  # the one worker is busy while the other three fall due
        task = {"id": task_id, "status": "processing", "progress": progress[task_id]}
        return httpx.Response(200, json=task | {"task_info": {"estimated_time": 2}})

    engine = make_engine(transport=httpx.MockTransport(answer), workers=1)
    engine.start()
    fake = Credentials(Backend.FOXAPI, "https://api.foxapi.test", "sk-test")
    for task_id in progress:  # the least advanced first: first come would be polled first
        engine.submit(request(prompt=task_id), fake)
    deadline = time.monotonic() + 15
    while len(set(polled[len(progress) :])) < len(progress):
        assert time.monotonic() < deadline, polled
        time.sleep(0.05)

    # Each polled once as it fell due; then, the worker held, the others queued and went
    # in the order their progress says they finish, not the order they fell due.
    assert polled[: len(progress)] == list(progress)
    second_round = list(dict.fromkeys(polled[len(progress) :]))
    assert second_round == ["task-20", "task-95", "task-80", "task-50"]


def test_completed_without_results_is_not_final(
    make_engine: Factory, store: Store, emulator: RunningEmulator, credentials: Credentials
) -> None:
    emulator.config.quirk_seconds = 0.6
    engine = make_engine()
    engine.start()
    job = engine.submit(request(num_outputs=3), credentials)
    assert wait_until_finished(store, job.id) is JobStatus.DONE
    assert len(store.gallery.job_images(job.id)) == 3


def test_the_older_response_shape_is_read_too(
    make_engine: Factory, store: Store, emulator: RunningEmulator, credentials: Credentials
) -> None:
    emulator.config.legacy_shape = True
    engine = make_engine()
    engine.start()
    job = engine.submit(request(num_outputs=2), credentials)
    assert wait_until_finished(store, job.id) is JobStatus.DONE
    assert len(store.gallery.job_images(job.id)) == 2


def test_a_failed_task_keeps_foxapis_code_and_message(
    make_engine: Factory, store: Store, emulator: RunningEmulator, credentials: Credentials
) -> None:
    emulator.config.fail_next_tasks = 1
    engine = make_engine()
    engine.start()
    job = engine.submit(request(), credentials)
    assert wait_until_finished(store, job.id) is JobStatus.FAILED
    failed = store.jobs.job(job.id)
    assert failed.error_code == "generation_failed"
    assert "content policy" in (failed.error_message or "")


def test_an_unknown_task_marks_the_job_lost(
    make_engine: Factory, store: Store, credentials: Credentials
) -> None:
    job = store.jobs.create_job(
        request(), backend="foxapi", key_id=credentials.key_id, lease_owner="x", lease_seconds=0
    )
    store.jobs.mark_submitted(
        job.id,
        JobEvent.TASK_PENDING,
        Task(id="task-unified-1-missing0", status=TaskStatus.PENDING),
        owner="x",
        lease_seconds=0,
    )
    engine = make_engine()
    engine.add_credentials(credentials)
    engine.start()
    assert wait_until_finished(store, job.id) is JobStatus.LOST
    assert "no longer knows" in (store.jobs.job(job.id).error_message or "")


def test_expired_result_urls_mark_images_expired(
    make_engine: Factory, store: Store, emulator: RunningEmulator, credentials: Credentials
) -> None:
    emulator.config.result_ttl = 0
    engine = make_engine()
    engine.start()
    job = engine.submit(request(), credentials)
    assert wait_until_finished(store, job.id) is JobStatus.FAILED
    assert [image.status for image in store.gallery.job_images(job.id)] == [ImageStatus.EXPIRED]
    assert "expired" in (store.jobs.job(job.id).error_message or "")


def test_an_abandoned_job_is_finished_by_another_engine_without_a_second_post(
    make_engine: Factory, store: Store, emulator: RunningEmulator, credentials: Credentials
) -> None:
    crashed = make_engine(lease_seconds=0.3)  # never started: it dies right after the POST
    job = crashed.submit(request(num_outputs=2), credentials)
    successor = make_engine()
    successor.add_credentials(credentials)
    successor.start()
    assert wait_until_finished(store, job.id) is JobStatus.DONE
    assert len(posts(emulator)) == 1
    assert len(store.gallery.job_images(job.id)) == 2


def test_jobs_wait_for_their_key_and_resume_once_it_is_entered_again(
    make_engine: Factory, store: Store, emulator: RunningEmulator, credentials: Credentials
) -> None:
    first = make_engine(lease_seconds=0.3)
    job = first.submit(request(), credentials)
    restarted = make_engine()  # a new server process: typed keys are gone
    restarted.start()
    time.sleep(1.5)
    assert store.jobs.job(job.id).in_flight
    restarted.add_credentials(credentials)
    assert wait_until_finished(store, job.id) is JobStatus.DONE


def test_many_jobs_in_flight_never_exceed_the_request_rate(
    make_engine: Factory, store: Store, emulator: RunningEmulator, credentials: Credentials
) -> None:
    engine = make_engine(requests_per_second=5.0)
    engine.start()
    jobs = [engine.submit(request(prompt=f"fox {n}"), credentials) for n in range(8)]
    for job in jobs:
        assert wait_until_finished(store, job.id, timeout=30) is JobStatus.DONE
    api_times = sorted(entry.received_at for entry in emulator.log if entry.path.startswith("/v1/"))
    # 5 per second is one every 0.2 s: at most 6 in any second (both ends counted), with
    # room for the jitter between sending and the emulator's clock on a busy machine.
    busiest = max(sum(1 for t in api_times if start <= t <= start + 1.0) for start in api_times)
    assert len(api_times) >= 2 * len(jobs)  # every POST and at least one poll each
    assert busiest <= 6


def test_the_api_key_never_reaches_the_database_files_or_logs(
    make_engine: Factory,
    store: Store,
    emulator: RunningEmulator,
    credentials: Credentials,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    emulator.config.server_error_next_polls = 1
    engine = make_engine()
    engine.start()
    job = engine.submit(request(), credentials)
    assert wait_until_finished(store, job.id) is JobStatus.DONE
    store.close()
    key = credentials.api_key.encode()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key not in path.read_bytes(), path
    assert credentials.api_key not in caplog.text
    assert credentials.api_key not in repr(credentials)


def test_a_huge_task_id_ends_the_job_with_a_message(
    make_engine: Factory,
    store: Store,
    emulator: RunningEmulator,
    credentials: Credentials,
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = store.jobs.create_job(
        request(), backend="foxapi", key_id=credentials.key_id, lease_owner="x", lease_seconds=0
    )
    huge = Task(id="task-" + "x" * 70_000, status=TaskStatus.PENDING)
    store.jobs.mark_submitted(job.id, JobEvent.TASK_PENDING, huge, owner="x", lease_seconds=0)
    engine = make_engine()
    engine.add_credentials(credentials)
    engine.start()
    assert wait_until_finished(store, job.id) is JobStatus.FAILED
    assert "task id the studio cannot look up" in (store.jobs.job(job.id).error_message or "")
    assert [entry for entry in emulator.log if entry.method == "GET"] == []
    assert not any(record.exc_info for record in caplog.records)


def test_an_unexpected_error_is_logged_once_then_ends_the_job(
    make_engine: Factory,
    store: Store,
    credentials: Credentials,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(job_id: str) -> list[object]:
        raise RuntimeError("a bug")

    job_id = downloading_job(store, credentials, ["https://cdn.example/a.png"])
    monkeypatch.setattr(store.work, "pending_images", broken)
    engine = make_engine(retry_seconds=0.01)
    engine.start()
    assert wait_until_finished(store, job_id) is JobStatus.FAILED
    assert store.jobs.job(job_id).error_message == INTERNAL_PROBLEM
    assert len([record for record in caplog.records if record.exc_info]) == 1


def test_jobs_wait_while_postgresql_is_down_and_finish_when_it_is_back(
    emulator: RunningEmulator,
    credentials: Credentials,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The database server stops mid-run and starts again: every job still ends done."""
    cluster = start_cluster()  # its own: this test stops it
    store = Store(cluster.create_database())
    engine = Engine(store.jobs, store.work, Archive(tmp_path / "images"))
    try:
        engine.start()
        sent = [engine.submit(request(prompt=f"fox number {n}"), credentials) for n in range(4)]
        cluster.stop()
        wait_for(lambda: "cannot reach its database" in caplog.text, "the engine to notice")
        task_ids = [job.task_id or "" for job in sent]
        wait_for(lambda: _finished_upstream(credentials, task_ids), "FoxAPI to finish the tasks")
        cluster.start()
        statuses = [wait_until_finished(store, job.id, timeout=60) for job in sent]
        assert statuses == [JobStatus.DONE] * len(sent)
        for job in sent:
            assert [image.status for image in store.gallery.job_images(job.id)] == [
                ImageStatus.ARCHIVED
            ]
        assert len(posts(emulator)) == len(sent)  # nothing was sent again
        assert "The database answers again" in caplog.text
    finally:
        engine.stop()
        store.close()
        cluster.destroy()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what} after {timeout} s")


def _finished_upstream(credentials: Credentials, task_ids: list[str]) -> bool:
    with FoxAPIClient(credentials.api_key, credentials.base_url) as client:
        return all(client.get_task(task_id).succeeded for task_id in task_ids)


def test_two_processes_with_one_key_stay_under_the_cap_together(
    database_url: str, emulator: RunningEmulator, credentials: Credentials, tmp_path: Path
) -> None:
    """Two engines, each with its own store on one database (two servers), one key at 5/s."""
    cap = 5.0
    stores = [Store(database_url) for _ in range(2)]
    engines = [
        Engine(
            opened.jobs, opened.work, Archive(tmp_path / f"images-{index}"), requests_per_second=cap
        )
        for index, opened in enumerate(stores)
    ]
    try:
        for engine in engines:
            engine.start()
        with ThreadPoolExecutor(max_workers=4) as pool:
            jobs = list(
                pool.map(
                    lambda n: engines[n % 2].submit(request(prompt=f"fox {n}"), credentials),
                    range(12),
                )
            )
        for job in jobs:
            assert wait_until_finished(stores[0], job.id, timeout=60) is JobStatus.DONE
    finally:
        for engine in engines:
            engine.stop()
        for opened in stores:
            opened.close()
    api_times = sorted(entry.received_at for entry in emulator.log if entry.path.startswith("/v1/"))
    assert len(api_times) >= 24  # a POST and at least one poll for each job
    # Each engine alone would send up to 5 a second, so two unshared would reach 10.
    assert busiest_second(api_times) <= cap


def busiest_second(times: list[float]) -> int:
    """The most requests in any one second [t, t + 1) at the upstream (times sorted)."""
    return max(bisect.bisect_left(times, start + 1.0) - index for index, start in enumerate(times))
