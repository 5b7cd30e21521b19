"""The store keeps every job and image, and lets only one engine work on a job.

Every test here runs twice: on a SQLite file and on a real PostgreSQL database.
"""

from __future__ import annotations

import io
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from studio.archive import Archive
from studio.db.schema import favourites as favourites_table
from studio.db.schema import jobs as jobs_table
from studio.db.schema import request_slots
from studio.records import GalleryFilter, InputKind, InputSource, JobOrigin
from studio.request import GenerationRequest, Mode
from studio.states import IN_FLIGHT, ImageStatus, JobEvent, JobStatus
from studio.store import Store
from studio.task import Task, TaskStatus


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store(database_url)
    yield opened
    opened.close()


def request(prompt: str = "a red fox", **fields: object) -> GenerationRequest:
    return GenerationRequest.build(prompt=prompt, **fields)


def new_job(store: Store, prompt: str = "a red fox", owner: str = "engine-a", **fields: object):
    return store.jobs.create_job(
        request(prompt, **fields),
        backend="foxapi",
        key_id="key-test",
        lease_owner=owner,
        lease_seconds=30,
    )


def png_bytes(colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 32), colour).save(buffer, "PNG")
    return buffer.getvalue()


def completed(task_id: str, count: int) -> Task:
    urls = tuple(f"http://cdn.test/{task_id}/{i}.png" for i in range(count))
    return Task(id=task_id, status=TaskStatus.COMPLETED, progress=100, result_urls=urls)


def test_schema_is_created_on_first_start_in_a_new_folder(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'nested' / 'studio.db'}")
    assert store.jobs.jobs() == []
    assert (tmp_path / "nested" / "studio.db").exists()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()


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


def test_archive_keeps_original_bytes_and_a_thumbnail(archive: Archive) -> None:
    original = png_bytes("blue")
    saved = archive.save(original)
    assert archive.read(saved.file_path) == original
    assert (saved.width, saved.height, saved.format) == (64, 32, "png")
    assert archive.path(saved.thumb_path).read_bytes()[8:12] == b"WEBP"
    assert archive.save(original) == saved


def archived_job(store: Store, archive: Archive, prompt: str, **fields: object) -> int:
    job = new_job(store, prompt, **fields)
    store.jobs.record_results(job.id, completed(job.id, 1))
    image = store.work.pending_images(job.id)[0]
    store.work.archive_image(image.id, archive.save(png_bytes()))
    store.jobs.finish_job(job.id, JobEvent.SAVED)
    return image.id


def test_gallery_is_newest_first_and_filters_by_prompt_mode_and_favourite(
    store: Store, archive: Archive
) -> None:
    fox = archived_job(store, archive, "a red fox")
    owl = archived_job(store, archive, "an owl at 100% night_mode")
    edit = archived_job(store, archive, "make the fox blue", image_urls=["https://x.test/a.png"])
    everything = store.gallery.gallery(GalleryFilter(), limit=24, offset=0)
    assert [item.image.id for item in everything] == [edit, owl, fox]
    assert store.gallery.gallery_count(GalleryFilter(search="FOX")) == 2
    assert [
        i.image.id for i in store.gallery.gallery(GalleryFilter(search="100%"), limit=5, offset=0)
    ] == [owl]
    assert store.gallery.gallery_count(GalleryFilter(search="_")) == 1
    assert [
        i.image.id for i in store.gallery.gallery(GalleryFilter(mode=Mode.EDIT), limit=5, offset=0)
    ] == [edit]
    store.gallery.set_favourite(fox, True)
    assert [
        i.image.id
        for i in store.gallery.gallery(GalleryFilter(favourites_only=True), limit=5, offset=0)
    ] == [fox]
    assert [i.image.id for i in store.gallery.gallery(GalleryFilter(), limit=2, offset=2)] == [fox]


def test_favourites_are_each_persons_own(store: Store, archive: Archive) -> None:
    fox = archived_job(store, archive, "a red fox")
    owl = archived_job(store, archive, "an owl")
    store.gallery.set_favourite(fox, True, owner_sub="alice")
    store.gallery.set_favourite(owl, True, owner_sub="bob")
    store.gallery.set_favourite(owl, True, owner_sub="bob")  # twice is once

    def marked(viewer: str | None) -> list[tuple[int, bool]]:
        shown = store.gallery.gallery(GalleryFilter(viewer_sub=viewer), limit=9, offset=0)
        return [(item.image.id, item.image.favourite) for item in shown]

    def favourites_of(viewer: str | None) -> list[int]:
        where = GalleryFilter(favourites_only=True, viewer_sub=viewer)
        return [item.image.id for item in store.gallery.gallery(where, limit=9, offset=0)]

    assert marked("alice") == [(owl, False), (fox, True)]
    assert marked("bob") == [(owl, True), (fox, False)]
    assert marked(None) == [(owl, False), (fox, False)]
    assert (favourites_of("alice"), favourites_of("bob"), favourites_of(None)) == ([fox], [owl], [])
    assert store.gallery.image(fox, viewer_sub="alice").image.favourite  # type: ignore[union-attr]
    assert not store.gallery.image(fox, viewer_sub="bob").image.favourite  # type: ignore[union-attr]
    store.gallery.set_favourite(owl, False, owner_sub="bob")
    assert favourites_of("bob") == []
    store.gallery.delete_image(fox)  # its marks go with it
    assert favourites_of("alice") == []


def test_expired_images_stay_out_of_the_gallery(store: Store) -> None:
    job = new_job(store)
    store.jobs.record_results(job.id, completed(job.id, 1))
    store.work.expire_image(store.work.pending_images(job.id)[0].id)
    assert store.gallery.job_images(job.id)[0].status is ImageStatus.EXPIRED
    assert store.gallery.gallery_count(GalleryFilter()) == 0


def test_billed_today_counts_accepted_and_uncertain_jobs_only(store: Store) -> None:
    accepted = new_job(store, num_outputs=3)
    store.jobs.mark_submitted(
        accepted.id,
        JobEvent.TASK_PENDING,
        Task(id="t-a", status=TaskStatus.PENDING),
        owner="a",
        lease_seconds=1,
    )
    uncertain = new_job(store, num_outputs=2)
    store.jobs.mark_outcome_unknown(uncertain.id, "timed out")
    refused = new_job(store, num_outputs=4)
    store.jobs.delete_unsent_job(refused.id)
    demo = store.jobs.create_job(
        request(), backend="demo", key_id="demo", lease_owner="a", lease_seconds=1
    )
    store.jobs.mark_submitted(
        demo.id,
        JobEvent.TASK_PENDING,
        Task(id="t-d", status=TaskStatus.PENDING),
        owner="a",
        lease_seconds=1,
    )
    assert store.people.images_billed_since(time.time() - 60) == 5


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


def test_search_finds_any_part_of_a_prompt_in_any_case(store: Store, archive: Archive) -> None:
    fox = archived_job(store, archive, "A red fox in the snow")
    cafe = archived_job(store, archive, 'Café "Le Renard" at 100% night_mode')
    owl = archived_job(store, archive, "an owl")

    def found(text: str) -> list[int]:
        return [
            item.image.id for item in store.gallery.gallery(GalleryFilter(text), limit=9, offset=0)
        ]

    assert found("fox") == [fox]
    assert found("RED FOX IN") == [fox]
    assert found("d fo") == [fox]  # across a word boundary
    assert found("CAFÉ") == [cafe]
    assert found('"le renard"') == [cafe]
    assert found("100% n") == [cafe]
    assert found("wl") == [owl]  # shorter than a trigram
    assert found("%") == [cafe]
    assert found("a") == [owl, cafe, fox]
    assert found("fox owl") == []
    assert store.gallery.gallery_count(GalleryFilter("fox")) == 1


def test_search_of_a_newly_archived_image_finds_it(store: Store, archive: Archive) -> None:
    job = new_job(store, "A lighthouse at dawn", num_outputs=2)
    store.jobs.record_results(job.id, completed(job.id, 2))
    assert store.gallery.gallery_count(GalleryFilter("lighthouse")) == 0  # not archived yet
    for image in store.work.pending_images(job.id):
        store.work.archive_image(image.id, archive.save(png_bytes()))
    assert store.gallery.gallery_count(GalleryFilter("lighthouse")) == 2


def test_a_search_longer_than_any_prompt_finds_nothing_without_failing(store: Store) -> None:
    new_job(store, "x" * 100)
    huge = "x" * 50_000 + '"%_\\'
    assert store.gallery.gallery(GalleryFilter(huge), limit=24, offset=0) == []
    assert store.gallery.gallery_count(GalleryFilter(huge)) == 0


def test_a_search_with_nul_and_control_characters_finds_what_it_names(
    store: Store, archive: Archive
) -> None:
    fox = archived_job(store, archive, "A red fox in the snow")
    # "\x00" alone is no search at all: the whole gallery.
    for typed in ("\x00fox\x00", "f\x00ox", "\x1bfox\x7f", "fox\ud800", "\x00"):
        where = GalleryFilter(typed)
        found = [item.image.id for item in store.gallery.gallery(where, limit=9, offset=0)]
        assert found == [fox], repr(typed)
        assert store.gallery.gallery_count(where) == 1
        assert store.jobs.recent_prompts(limit=5, search=typed) == ["A red fox in the snow"]


def test_prompt_search_reads_the_index_not_every_prompt(store: Store, archive: Archive) -> None:
    archived_job(store, archive, "A red fox in the snow")
    statements: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    sa.event.listen(store.engine, "before_cursor_execute", keep)
    store.gallery.gallery(GalleryFilter("red fox"), limit=24, offset=0)
    sa.event.remove(store.engine, "before_cursor_execute", keep)
    (statement, parameters), *_ = statements
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = " ".join(str(row[-1]) for row in rows)
            assert "SCAN image_search VIRTUAL TABLE INDEX" in plan
        else:
            # The store searches with ILIKE; with a few rows a scan is cheaper, so rule it
            # out: a plan that still names no index means the index cannot serve ILIKE.
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = conn.exec_driver_sql(
                "EXPLAIN SELECT id FROM jobs WHERE prompt ILIKE %(pattern)s",
                {"pattern": "%red fox%"},
            )
            assert "ix_jobs_prompt_trgm" in " ".join(str(row[0]) for row in plan)


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


def test_deleting_an_image_keeps_files_another_image_shows(store: Store, archive: Archive) -> None:
    saved = archive.save(png_bytes("green"))
    jobs = [new_job(store, "twice"), new_job(store, "twice")]
    image_ids = []
    for index, job in enumerate(jobs):
        store.jobs.mark_submitted(
            job.id,
            JobEvent.TASK_PROCESSING,
            completed(f"t{index}", 1),
            owner="engine-a",
            lease_seconds=30,
        )
        store.jobs.record_results(job.id, completed(f"t{index}", 1))
        image = store.work.pending_images(job.id)[0]
        store.work.archive_image(image.id, saved)
        image_ids.append(image.id)

    assert store.gallery.delete_image(image_ids[0]) == []  # the other image still shows them
    store.jobs.finish_job(jobs[1].id, JobEvent.SAVED)
    assert store.jobs.delete_job(jobs[1].id) == sorted([saved.file_path, saved.thumb_path])
    assert store.jobs.jobs() == [store.jobs.job(jobs[0].id)]


def test_an_upload_is_kept_once_and_goes_with_the_last_job_made_from_it(
    store: Store, archive: Archive
) -> None:
    saved = archive.save_input(png_bytes("teal"))
    kept = store.gallery.add_input_asset(saved)
    assert store.gallery.add_input_asset(saved) == kept  # the same bytes again: the same asset
    other = store.gallery.add_input_asset(archive.save_input(png_bytes("plum")))
    inputs = (
        InputSource(InputKind.LINK),
        InputSource(InputKind.UPLOAD, kept.id),
        InputSource(InputKind.GALLERY, 7),
        InputSource(InputKind.UPLOAD, other.id),
    )
    jobs = []
    for task_id in ("t1", "t2"):
        job = store.jobs.create_job(
            request(),
            backend="foxapi",
            key_id="key-test",
            lease_owner="engine-a",
            lease_seconds=30,
            origin=JobOrigin(parent_image_ids=(7,), inputs=inputs),
        )
        assert store.jobs.job(job.id).origin.inputs == inputs  # in the order sent
        store.jobs.mark_submitted(
            job.id, JobEvent.TASK_PROCESSING, completed(task_id, 0), owner="a", lease_seconds=30
        )
        store.jobs.finish_job(job.id, JobEvent.TASK_FAILED)
        assert not store.jobs.job(job.id).in_flight
        jobs.append(job)

    assert store.jobs.delete_job(jobs[0].id) == []  # the other job still uses both
    assert store.jobs.delete_job(jobs[1].id) == sorted(
        [kept.file_path, kept.thumb_path, other.file_path, other.thumb_path]
    )
    assert store.gallery.input_assets([kept.id, other.id]) == {}
    assert store.gallery.forget_unused_input_assets([kept.id]) == []  # gone already: nothing twice


def test_a_job_in_flight_is_not_deleted(store: Store) -> None:
    job = new_job(store)
    assert store.jobs.delete_job(job.id) == []
    assert store.jobs.job(job.id).status is JobStatus.SUBMITTING


def test_an_images_place_in_the_gallery_follows_its_order_and_filter(
    store: Store, archive: Archive
) -> None:
    fox = archived_job(store, archive, "a red fox")
    owl = archived_job(store, archive, "an owl")
    edit = archived_job(store, archive, "a blue fox", image_urls=["https://x.test/a.png"])
    everything = GalleryFilter()
    assert [store.gallery.gallery_position(everything, image) for image in (edit, owl, fox)] == [
        0,
        1,
        2,
    ]
    foxes = GalleryFilter(search="fox")
    assert store.gallery.gallery_position(foxes, fox) == 1
    assert store.gallery.gallery_position(foxes, owl) is None
    assert store.gallery.gallery_position(everything, 999) is None


def test_a_page_of_the_gallery_is_kept_until_an_image_changes(
    store: Store, archive: Archive
) -> None:
    fox = archived_job(store, archive, "a red fox")
    owl = archived_job(store, archive, "an owl")
    favourites = GalleryFilter(favourites_only=True)

    def shown() -> list[int]:
        return [item.image.id for item in store.gallery.gallery(favourites, limit=24, offset=0)]

    assert shown() == []
    with store.engine.begin() as conn:  # another process's change, unseen here for a moment
        conn.execute(favourites_table.insert().values(owner_sub="", image_id=owl))
    assert shown() == []

    store.gallery.set_favourite(fox, True)  # a change made here is seen at once, with the other

    assert shown() == [owl, fox]
    # What is on a page is kept; the images on it are read afresh.
    with store.engine.begin() as conn:
        conn.execute(favourites_table.delete().where(favourites_table.c.image_id == owl))
    assert [
        item.image.favourite for item in store.gallery.gallery(favourites, limit=24, offset=0)
    ] == [
        False,
        True,
    ]


def test_counts_are_kept_until_an_image_changes(store: Store, archive: Archive) -> None:
    fox = archived_job(store, archive, "a red fox")
    owl = archived_job(store, archive, "an owl")
    favourites = GalleryFilter(favourites_only=True)
    assert store.gallery.gallery_count(favourites) == 0
    with store.engine.begin() as conn:  # another process's change, unseen here for a moment
        conn.execute(favourites_table.insert().values(owner_sub="", image_id=owl))
    assert store.gallery.gallery_count(favourites) == 0

    store.gallery.set_favourite(fox, True)  # a change made here is seen at once, with the other

    assert store.gallery.gallery_count(favourites) == 2


# Boards and review links ------------------------------------------------------------


def board_of(store: Store, archive: Archive, count: int, owner: str = "alice") -> list[int]:
    """A board of `owner`'s holding `count` new archived images: [board id, *image ids]."""
    ids = [archived_job(store, archive, f"fox number {n}") for n in range(count)]
    board_id = store.boards.create_board(owner, f"{owner}@example.org", "Foxes")
    store.boards.add_board_images(board_id, ids)
    return [board_id, *ids]


def test_a_board_keeps_its_order_and_filters_the_gallery(store: Store, archive: Archive) -> None:
    board_id, *ids = board_of(store, archive, 3)
    elsewhere = archived_job(store, archive, "an owl")
    assert store.boards.add_board_images(board_id, [ids[0], elsewhere, elsewhere]) == 1
    assert store.boards.board_image_ids(board_id) == [*ids, elsewhere]
    store.boards.reorder_board(board_id, [elsewhere, ids[2], 999_999])  # the rest keep their order
    assert store.boards.board_image_ids(board_id) == [elsewhere, ids[2], ids[0], ids[1]]
    board = store.boards.board(board_id)
    assert board is not None
    assert (board.image_count, board.cover_image_id) == (4, elsewhere)

    on_board = GalleryFilter(board_id=board_id)
    assert store.gallery.gallery_count(on_board) == 4
    assert store.gallery.gallery_count(GalleryFilter(board_id=board_id, search="owl")) == 1
    assert {item.image.id for item in store.gallery.gallery(on_board, limit=10, offset=0)} == {
        *ids,
        elsewhere,
    }
    store.boards.remove_board_image(board_id, elsewhere)
    assert store.gallery.gallery_count(on_board) == 3
    assert store.gallery.gallery_position(on_board, elsewhere) is None
    assert [b.id for b in store.boards.boards_of_image(ids[0], "alice")] == [board_id]
    assert store.boards.boards_of_image(ids[0], "bob") == []


def test_deleting_an_image_takes_it_off_every_board_with_its_votes(
    store: Store, archive: Archive
) -> None:
    first, *ids = board_of(store, archive, 2)
    second = store.boards.create_board("alice", None, "Shortlist")
    store.boards.add_board_images(second, [ids[1]])
    store.reviews.create_review_link(
        second, "h" * 64, label="", expires_at=None, allow_downloads=False
    )
    changes = {"vote": "approve"}
    assert (
        store.reviews.review_change(
            "h" * 64, time.time(), reviewer="Jo", image_id=ids[1], changes=changes, per_minute=60
        )
        == "saved"
    )
    store.gallery.delete_image(ids[1])
    assert store.boards.board_image_ids(first) == [ids[0]]
    assert store.boards.board_image_ids(second) == []
    assert store.reviews.notes_on([ids[1]], "alice") == []


def test_a_review_reads_only_its_live_links_board(store: Store, archive: Archive) -> None:
    mine, *ids = board_of(store, archive, 2)
    other, *other_ids = board_of(store, archive, 1, owner="bob")
    now = time.time()
    link = store.reviews.create_review_link(
        mine, "a" * 64, label="Acme", expires_at=None, allow_downloads=False
    )
    others = store.reviews.create_review_link(
        other, "b" * 64, label="", expires_at=None, allow_downloads=True
    )
    shown = store.reviews.review_images("a" * 64, now)
    assert [image.image_id for image in shown or []] == ids

    # Another board's image through this link: no image, no vote, nothing counted.
    assert store.reviews.review_image("a" * 64, now, other_ids[0]) == (link, False, None)
    assert (
        store.reviews.review_change(
            "a" * 64,
            now,
            reviewer="Jo",
            image_id=other_ids[0],
            changes={"vote": "approve"},
            per_minute=1,
        )
        == "not_on_board"
    )
    assert store.reviews.notes_on(other_ids, "bob") == []
    assert store.reviews.review_link_shows(link, other_ids[0], now) == (False, False)
    assert store.reviews.review_link_shows(others, other_ids[0], now) == (True, True)

    # Unknown, truncated, expired and revoked links read nothing.
    assert store.reviews.review_images("c" * 64, now) is None
    assert store.reviews.review_images("a" * 63, now) is None
    expiring = store.reviews.create_review_link(
        mine, "e" * 64, label="", expires_at=now + 60, allow_downloads=False
    )
    assert store.reviews.review_images("e" * 64, now) is not None
    assert store.reviews.review_images("e" * 64, now + 61) is None
    assert store.reviews.review_link_shows(expiring, ids[0], now + 61) == (False, False)
    store.reviews.revoke_review_link(link)
    assert store.reviews.review_images("a" * 64, now) is None
    assert store.reviews.review_image("a" * 64, now, ids[0]) is None
    assert store.reviews.reviewer_notes("a" * 64, now, "Jo") is None
    assert (
        store.reviews.review_change(
            "a" * 64,
            now,
            reviewer="Jo",
            image_id=ids[0],
            changes={"vote": "approve"},
            per_minute=60,
        )
        == "closed"
    )
    assert store.reviews.review_link_shows(link, ids[0], now) == (False, False)


def test_reviewers_changing_at_once_never_pass_the_links_limit(
    database_url: str, archive: Archive
) -> None:
    """Four stores (a server each) send 40 votes through one link at once; 15 may pass."""
    servers, each, limit = 4, 10, 15
    stores = [Store(database_url) for _ in range(servers)]
    start = threading.Barrier(servers)
    try:
        board_id, image_id = board_of(stores[0], archive, 1)
        stores[0].reviews.create_review_link(
            board_id, "r" * 64, label="", expires_at=None, allow_downloads=False
        )
        now = time.time()

        def vote(index: int) -> list[str]:
            start.wait()
            return [
                stores[index].reviews.review_change(
                    "r" * 64,
                    now,
                    reviewer=f"reviewer {index}",
                    image_id=image_id,
                    changes={"vote": "approve" if n % 2 else "changes"},
                    per_minute=limit,
                )
                for n in range(each)
            ]

        with ThreadPoolExecutor(max_workers=servers) as pool:
            outcomes = [outcome for result in pool.map(vote, range(servers)) for outcome in result]
        assert outcomes.count("saved") == limit
        assert outcomes.count("limited") == servers * each - limit
        # A minute on, the link may change again.
        assert (
            stores[0].reviews.review_change(
                "r" * 64,
                now + 61,
                reviewer="late",
                image_id=image_id,
                changes={"comment": "fine"},
                per_minute=limit,
            )
            == "saved"
        )
    finally:
        for opened in stores:
            opened.close()


def test_notes_are_counted_per_reviewer_and_marked_when_they_change(
    store: Store, archive: Archive
) -> None:
    board_id, first, second = board_of(store, archive, 2)
    link = store.reviews.create_review_link(
        board_id, "n" * 64, label="Acme", expires_at=None, allow_downloads=False
    )
    now = time.time()
    marks = [store.reviews.review_activity(board_id)]

    def change(reviewer: str, image_id: int, at: float, **changes: object) -> None:
        outcome = store.reviews.review_change(
            "n" * 64, at, reviewer=reviewer, image_id=image_id, changes=changes, per_minute=60
        )
        assert outcome == "saved"
        marks.append(store.reviews.review_activity(board_id))

    change("Jo", first, now, vote="approve")
    change("Jo", first, now + 1, comment="Love it")  # the vote stays
    change("Sam", first, now + 2, vote="changes")
    change("Sam", second, now + 3, vote=None)  # an empty note: not shown
    notes = store.reviews.notes_on([first, second], "alice")
    assert [(n.reviewer, n.vote, n.comment) for n in notes] == [
        ("Sam", "changes", ""),
        ("Jo", "approve", "Love it"),
    ]
    assert notes[0].link_label == "Acme"
    assert store.reviews.notes_on([first], "bob") == []  # only the board owner's links count
    assert len(set(marks)) == len(marks)  # every change moved the mark
    assert store.reviews.review_activity(board_id) == marks[-1]  # and reading it moves nothing
    mine = store.reviews.reviewer_notes("n" * 64, now, "Jo")
    assert [(n.image_id, n.vote) for n in mine or []] == [(first, "approve")]
    assert store.reviews.review_links(board_id)[0].reviewer_count == 2
    assert store.reviews.review_link(link) == store.reviews.review_links(board_id)[0]
    store.reviews.revoke_review_link(link)
    assert store.reviews.review_activity(board_id) != marks[-1]
    assert store.reviews.review_link(link).revoked  # type: ignore[union-attr]
