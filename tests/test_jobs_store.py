"""studio.jobs.store: every job kept through its lifecycle, and only one engine working on a
job at a time.

Every test here runs twice: on a SQLite file and on a real PostgreSQL database.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from studio.archive import Archive
from studio.db.schema import jobs as jobs_table
from studio.db.schema import request_slots
from studio.states import IN_FLIGHT, JobEvent, JobStatus
from studio.store import Store
from studio.task import Task, TaskStatus
from tests.store_support import completed, new_job, png_bytes, request


@pytest.fixture
def store(store_on_each_database: Store) -> Store:
    return store_on_each_database


def test_job_keeps_its_request_and_moves_through_the_lifecycle(store: Store) -> None:
    job = new_job(store, num_outputs=2, aspect_ratio="16:9")
    assert job.status is JobStatus.SUBMITTING and job.task_id is None
    task = Task(id="task-unified-1-abcdefgh", status=TaskStatus.PENDING, estimated_time=45)
    store.jobs.mark_submitted(
        job.id, JobEvent.TASK_PENDING, task, owner="engine-a", lease_seconds=30
    )
    job = store.jobs.job(job.id)
    assert (job.status, job.task_id, job.estimated_time) == (JobStatus.QUEUED, task.id, 45)
    assert job.request.aspect_ratio == "16:9" and job.request.num_outputs == 2


def test_the_answer_to_a_post_beats_an_earlier_outcome_unknown(store: Store) -> None:
    job = new_job(store)
    store.jobs.mark_outcome_unknown(job.id, "The studio stopped while sending this request.")
    assert store.jobs.job(job.id).status is JobStatus.UNKNOWN
    task = Task(id="task-unified-1-late0000", status=TaskStatus.PENDING)
    store.jobs.mark_submitted(
        job.id, JobEvent.TASK_PENDING, task, owner="engine-a", lease_seconds=30
    )
    assert store.jobs.job(job.id).status is JobStatus.QUEUED
    assert store.jobs.job(job.id).task_id == task.id


def test_only_one_engine_holds_a_job_until_its_lease_lapses(store: Store) -> None:
    job = new_job(store, owner="engine-a")
    assert store.work.claim_jobs("engine-b", 30) == []
    assert [j.id for j in store.work.claim_jobs("engine-a", 30)] == [job.id]
    assert [j.id for j in store.work.claim_jobs("engine-b", 30, dead_owners={"engine-a"})] == [
        job.id
    ]
    assert store.work.claim_jobs("engine-a", 30) == []
    # A write from the engine that lost the lease is refused.
    task = Task(id="task-unified-1-aaaaaaaa", status=TaskStatus.PROCESSING, progress=50)
    processing = JobEvent.TASK_PROCESSING
    assert not store.jobs.record_progress(job.id, processing, task, owner="engine-a")
    assert store.jobs.record_progress(job.id, processing, task, owner="engine-b")


def test_a_lapsed_lease_is_taken_over(store: Store) -> None:
    job = store.jobs.create_job(
        request(), backend="demo", key_id="demo", lease_owner="gone", lease_seconds=0.01
    )
    time.sleep(0.05)
    assert [j.id for j in store.work.claim_jobs("engine-b", 30)] == [job.id]


def test_recording_results_twice_archives_each_image_once(store: Store, archive: Archive) -> None:
    job = new_job(store, num_outputs=2)
    store.jobs.record_results(job.id, completed("t1", 2))
    store.jobs.record_results(job.id, completed("t1", 2))
    pending = store.work.pending_images(job.id)
    assert [image.position for image in pending] == [0, 1]
    archived = archive.save(png_bytes())
    assert store.work.archive_image(pending[0].id, archived)
    assert not store.work.archive_image(pending[0].id, archived)
    assert [image.position for image in store.work.pending_images(job.id)] == [1]


def test_finishes_say_how_long_each_backends_tasks_took_until_their_results_were_seen(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = {"now": 1000.0}
    monkeypatch.setattr("studio.jobs.store.time", SimpleNamespace(time=lambda: clock["now"]))

    def run(backend: str, task_id: str, took: float | None, images: int = 1) -> None:
        job = store.jobs.create_job(
            request(num_outputs=images),
            backend=backend,
            key_id="k",
            lease_owner="a",
            lease_seconds=30,
        )
        pending = Task(id=task_id, status=TaskStatus.PENDING, estimated_time=20)
        store.jobs.mark_submitted(
            job.id, JobEvent.TASK_PENDING, pending, owner="a", lease_seconds=30
        )
        if took is not None:
            clock["now"] += took
            store.jobs.record_results(job.id, completed(task_id, images), owner="a")
        clock["now"] += 1

    run("foxapi", "t-1", 14.5)
    run("foxapi", "t-2", 22.0, images=4)
    run("foxapi", "t-3", None)  # still running: nothing seen yet
    run("demo", "t-4", 3.0)
    assert store.jobs.finishes("foxapi", limit=10) == [
        ("generate", 4, 20.0, pytest.approx(22.0)),
        ("generate", 1, 20.0, pytest.approx(14.5)),
    ]
    assert len(store.jobs.finishes("foxapi", limit=1)) == 1
    assert store.jobs.finishes("demo", limit=10) == [("generate", 1, 20.0, pytest.approx(3.0))]


def test_engines_claiming_at_once_never_share_a_job(database_url: str) -> None:
    """Six engines, each with its own connections, claim 120 free jobs at the same instant."""
    engines, rounds, jobs_per_round = 6, 4, 30
    stores = [Store(database_url) for _ in range(engines)]
    owners_of: dict[str, set[str]] = defaultdict(set)
    created: list[str] = []
    start = threading.Barrier(engines)

    def claim(index: int) -> list[str]:
        start.wait()
        return [job.id for job in stores[index].work.claim_jobs(f"engine-{index}", 30)]

    try:
        for _round in range(rounds):
            for _ in range(jobs_per_round):
                created.append(new_job(stores[0], owner="departed").id)
            stores[0].work.release_leases("departed")
            with ThreadPoolExecutor(max_workers=engines) as pool:
                results = pool.map(claim, range(engines))
            for index, claimed in enumerate(results):
                for job_id in claimed:
                    owners_of[job_id].add(f"engine-{index}")
    finally:
        for opened in stores:
            opened.close()
    assert sorted(owners_of) == sorted(created)
    shared = {job_id: owners for job_id, owners in owners_of.items() if len(owners) > 1}
    assert shared == {}


def test_processes_reserving_request_slots_at_once_each_get_their_own(database_url: str) -> None:
    """Four stores (a process each) take 40 slots of one key at once: none is handed twice."""
    processes, each, interval = 4, 10, 1.0
    stores = [Store(database_url) for _ in range(processes)]
    start = threading.Barrier(processes)

    def reserve(index: int) -> None:
        start.wait()
        for _ in range(each):
            stores[index].work.reserve_request_slot("key-shared", interval)

    try:
        first = stores[0].work.reserve_request_slot("key-shared", interval)
        after_first = next_free(stores[0], "key-shared")
        with ThreadPoolExecutor(max_workers=processes) as pool:
            list(pool.map(reserve, range(processes)))
        # Each of the 40 moved the key's next slot one whole interval on: none was lost.
        assert next_free(stores[0], "key-shared") == pytest.approx(
            after_first + processes * each * interval
        )
        assert first == pytest.approx(0.0, abs=0.01)  # the first request of a key goes at once
        other_key = stores[0].work.reserve_request_slot("key-other", interval)
        assert other_key == pytest.approx(0.0, abs=0.01)
    finally:
        for opened in stores:
            opened.close()


def next_free(store: Store, key_id: str) -> float:
    with store.engine.connect() as conn:
        return float(
            conn.execute(
                sa.select(request_slots.c.next_free).where(request_slots.c.key_id == key_id)
            ).scalar_one()
        )


def test_jobs_in_flight_are_found_through_the_status_index_even_after_analyze(
    tmp_path: Path,
) -> None:
    # ANALYZE's statistics say nearly every job is done: the planner must still not read
    # every job (in date order) to find the few in flight.
    store = Store(f"sqlite:///{tmp_path / 'studio.db'}")
    try:
        finished = [
            {"id": f"done-{index:04}", "status": JobStatus.DONE.value, "created_at": float(index)}
            for index in range(2000)
        ]
        new_job(store, "a fox in flight")
        with store.engine.begin() as conn:
            template = conn.execute(sa.select(jobs_table)).mappings().one()
            conn.execute(jobs_table.insert(), [{**template, **row} for row in finished])
            conn.exec_driver_sql("ANALYZE")
        statements: list[tuple[str, Any]] = []

        def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            statements.append((statement, parameters))

        sa.event.listen(store.engine, "before_cursor_execute", keep)
        in_flight = store.jobs.jobs(IN_FLIGHT)
        sa.event.remove(store.engine, "before_cursor_execute", keep)
        assert [job.prompt for job in in_flight] == ["a fox in flight"]
        [(statement, parameters)] = statements
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = " ".join(str(row[-1]) for row in rows)
        assert "USING INDEX ix_jobs_status" in plan
        assert "SCAN jobs" not in plan
    finally:
        store.close()


def test_only_a_job_foxapi_provably_never_billed_is_forgotten(store: Store) -> None:
    answered, uncertain, refused = new_job(store), new_job(store), new_job(store)
    task = Task(id="task-unified-2-abcdefgh", status=TaskStatus.PROCESSING)
    store.jobs.mark_submitted(
        answered.id, JobEvent.TASK_PROCESSING, task, owner="engine-a", lease_seconds=30
    )
    store.jobs.mark_outcome_unknown(uncertain.id, "timed out")

    for job in (answered, uncertain, refused):
        store.jobs.delete_unsent_job(job.id)

    # A task may have been billed for the first two: they stay, for the person to see.
    assert {job.id: job.status for job in store.jobs.jobs()} == {
        answered.id: JobStatus.RUNNING,
        uncertain.id: JobStatus.UNKNOWN,
    }
