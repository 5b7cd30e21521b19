"""studio.gallery.store: the gallery newest first, searched, filtered and paged, each
person's favourites, and files kept while any image shows them.

Every test here runs twice: on a SQLite file and on a real PostgreSQL database.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from studio.archive import Archive
from studio.db.schema import favourites as favourites_table
from studio.records import GalleryFilter, InputKind, InputSource, JobOrigin
from studio.request import Mode
from studio.states import ImageStatus, JobEvent
from studio.store import Store
from tests.store_support import (
    archived_job,
    completed,
    delete_for_good,
    new_job,
    png_bytes,
    request,
)


@pytest.fixture
def store(store_on_each_database: Store) -> Store:
    return store_on_each_database


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
    delete_for_good(store, fox)  # its marks go with it: none is left to come back
    assert favourites_of("alice") == []
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(favourites_table)).all() == []


def test_expired_images_stay_out_of_the_gallery(store: Store) -> None:
    job = new_job(store)
    store.jobs.record_results(job.id, completed(job.id, 1))
    store.work.expire_image(store.work.pending_images(job.id)[0].id)
    assert store.gallery.job_images(job.id)[0].status is ImageStatus.EXPIRED
    assert store.gallery.gallery_count(GalleryFilter()) == 0


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

    assert delete_for_good(store, image_ids[0]) == []  # the other image still shows them
    assert delete_for_good(store, image_ids[1]) == sorted([saved.file_path, saved.thumb_path])


def test_an_upload_is_kept_once_and_goes_when_no_job_made_from_it_is_left(
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
    for _ in range(2):
        job = store.jobs.create_job(
            request(),
            backend="foxapi",
            key_id="key-test",
            lease_owner="engine-a",
            lease_seconds=30,
            origin=JobOrigin(parent_image_ids=(7,), inputs=inputs),
        )
        assert store.jobs.job(job.id).origin.inputs == inputs  # in the order sent
        jobs.append(job)
    # FoxAPI refused both POSTs, so nothing was billed: each job is forgotten, then its
    # uploads unless another job was made from them (as JobService.send does).
    uploads = [kept.id, other.id]

    store.jobs.delete_unsent_job(jobs[0].id)
    assert store.gallery.forget_unused_input_assets(uploads) == []  # the other job uses both
    store.jobs.delete_unsent_job(jobs[1].id)
    assert store.gallery.forget_unused_input_assets(uploads) == sorted(
        [kept.file_path, kept.thumb_path, other.file_path, other.thumb_path]
    )
    assert store.gallery.input_assets([kept.id, other.id]) == {}
    assert store.gallery.forget_unused_input_assets([kept.id]) == []  # gone already: nothing twice


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
