"""Each schema revision upgrades a database the studio wrote at the revision before, on
SQLite and PostgreSQL, with nothing lost (studio/db/migrations/versions/).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from studio.boards.news import news
from studio.db import database
from studio.db.database import DatabaseUnavailable
from studio.gallery.trash_store import TrashScope
from studio.records import GalleryFilter, InputKind, InputSource, JobOrigin
from studio.request import GenerationRequest
from studio.states import ImageStatus, JobStatus
from studio.store import Store
from studio.task import Task, TaskStatus
from tests.migration_support import (
    archived_file,
    favourites_in,
    flagged,
    only_columns_of,
    plain_value,
    release_database,
    rows_in,
    typed_row,
    without_moved,
)
from tests.store_support import delete_for_good


def test_a_database_at_0006_gains_boards_and_reviews_with_nothing_lost(
    database_url: str, tmp_path: Path
) -> None:
    url = release_database(database_url, tmp_path)
    engine = database.create_engine(url)
    database.upgrade(engine, to="0006")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO styles (owner_sub, name, text, shared, created_at) VALUES "
                "('alice', 'Film', 'on 35 mm film', :yes, 1.0), (NULL, 'Ink', 'in ink', :no, 2.0)"
            ),
            {"yes": True, "no": False},
        )
        conn.execute(sa.text("UPDATE jobs SET owner_sub = 'alice', owner_email = 'a@x.org'"))
        conn.execute(sa.text("UPDATE images SET owner_sub = 'alice'"))
    tables = ("jobs", "images", "styles")
    before = rows_in(engine, tables)
    engine.dispose()
    assert before["styles"] and before["images"]

    store = Store(url)
    try:
        kept = {name: [without_moved(name, row) for row in rows] for name, rows in before.items()}
        assert only_columns_of(rows_in(store.engine, tables), before) == kept
        assert favourites_in(store.engine) == flagged(before["images"])
        assert database.revision(store.engine).up_to_date
        # The new tables work on the old rows: a board of archived images, and the
        # gallery filtered by it; deleting one of them takes it off the board.
        archived = [row["id"] for row in before["images"] if row["status"] == "archived"]
        board_id = store.boards.create_board("alice", "a@x.org", "Old favourites")
        assert store.boards.add_board_images(board_id, archived) == len(archived)
        assert store.gallery.gallery_count(GalleryFilter(board_id=board_id)) == len(archived)
        delete_for_good(store, archived[0])
        assert store.boards.board_image_ids(board_id) == archived[1:]
        assert [board.name for board in store.boards.boards("alice", archived=False)] == [
            "Old favourites"
        ]
    finally:
        store.close()


BEFORE_INPUT_ASSETS, INPUT_ASSETS = "0007", "0008"
WRITTEN_TABLES = ("jobs", "images", "styles")


def _edit_job_rows() -> dict[str, list[dict[str, Any]]]:
    """A generation, an edit of its image, and a style, as the revision before wrote them."""
    job = {
        "created_at": 1.0,
        "updated_at": 2.0,
        "mode": "generate",
        "prompt": "A red fox",
        "request_json": GenerationRequest.build(prompt="A red fox").to_json(),
        "num_outputs": 1,
        "aspect_ratio": None,
        "output_format": "png",
        "backend": "demo",
        "key_id": "k" * 64,
        "task_id": None,
        "status": JobStatus.DONE.value,
        "progress": 100,
        "error_code": None,
        "error_message": None,
        "credits_reserved": None,
        "estimated_time": None,
        "submitted_at": 1.0,
        "finished_at": 2.0,
        "retry_of": None,
        "lease_owner": None,
        "lease_until": None,
        "batch_id": None,
        "parent_image_ids": None,
        "owner_sub": "alice",
        "owner_email": "alice@example.com",
    }
    edit_request = GenerationRequest.build(prompt="Make it blue", image_urls=("https://x.test/a",))
    edit = job | {
        "id": "e" * 32,
        "mode": "edit",
        "prompt": "Make it blue",
        "request_json": edit_request.to_json(),
        "task_id": "task-2",
        "parent_image_ids": ",1,",
    }
    image = {
        "id": 1,
        "job_id": "f" * 32,
        "position": 0,
        "status": ImageStatus.ARCHIVED.value,
        "source_url": "https://x.test/fox.png",
        "created_at": 1.5,
        "archived_at": 1.6,
        "file_path": "originals/aa/a.png",
        "thumb_path": "thumbnails/aa/a-256.webp",
        "sha256": "a" * 64,
        "width": 8,
        "height": 8,
        "format": "png",
        "size_bytes": 10,
        "favourite": 1,
        "job_created_at": 1.0,
        "owner_sub": "alice",
    }
    style = {
        "id": 1,
        "owner_sub": "alice",
        "name": "brand",
        "text": "warm orange",
        "shared": 1,
        "created_at": 1.0,
    }
    return {
        "jobs": [job | {"id": "f" * 32, "task_id": "task-1"}, edit],
        "images": [image],
        "styles": [style],
    }


def _tables(engine: sa.Engine) -> dict[str, sa.Table]:
    return {name: sa.Table(name, sa.MetaData(), autoload_with=engine) for name in WRITTEN_TABLES}


def test_a_database_at_the_revision_before_input_assets_upgrades_with_nothing_lost(
    database_url: str,
) -> None:
    engine = database.create_engine(database_url)
    database.upgrade(engine, to=BEFORE_INPUT_ASSETS)
    written = _edit_job_rows()
    tables = _tables(engine)
    with engine.begin() as conn:
        for name in WRITTEN_TABLES:
            conn.execute(
                tables[name].insert(), [typed_row(tables[name], row) for row in written[name]]
            )
    engine.dispose()

    store = Store(database_url)
    try:
        tables = _tables(store.engine)
        with store.engine.connect() as conn:
            for name in WRITTEN_TABLES:
                added = {"input_sources": None} if name == "jobs" else {}
                expected = sorted((row | added for row in written[name]), key=lambda r: r["id"])
                # The columns written, and this revision's: other revisions may add more.
                expected = [without_moved(name, row) for row in expected]
                found = [
                    {key: plain_value(row._mapping[key]) for key in expected[0]}
                    for row in conn.execute(sa.select(tables[name]).order_by(tables[name].c.id))
                ]
                assert found == expected
            applied = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        assert applied is not None and applied >= INPUT_ASSETS
        # The old edit keeps its gallery parent, and records no inputs of its own.
        edit = store.jobs.job("e" * 32)
        assert edit.origin == JobOrigin(None, (1,), ())
        assert store.gallery.children(1) == [edit]
        # And the studio goes on keeping uploads with the edits made from them.
        asset = store.gallery.add_input_asset(archived_file())
        origin = JobOrigin(inputs=(InputSource(InputKind.UPLOAD, asset.id),))
        made = store.jobs.create_job(
            edit.request,
            backend="demo",
            key_id="k",
            lease_owner="me",
            lease_seconds=5,
            origin=origin,
        )
        assert store.jobs.job(made.id).origin.input_asset_ids == (asset.id,)
    finally:
        store.close()


def test_a_full_disk_at_start_says_the_disk_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure = database._configure_sqlite

    def no_room(dbapi_connection: Any, record: Any) -> None:
        configure(dbapi_connection, record)
        # SQLite's own limit on the file's size: it then answers as a full disk does.
        dbapi_connection.execute("PRAGMA max_page_count = 1")

    monkeypatch.setattr(database, "_configure_sqlite", no_room)
    url = f"sqlite:///{tmp_path / 'studio.db'}"
    with pytest.raises(DatabaseUnavailable) as full:
        Store(url)
    assert full.value.message == (
        f"The disk that holds the studio's database ({url}) is full. "
        "Free some space on it; nothing already saved is lost."
    )


BEFORE_AUTOINCREMENT = "0008"
ID_TABLES = ("jobs", "images", "styles", "input_assets", "boards", "board_images")


def test_a_database_at_0008_keeps_every_row_and_never_reuses_an_id_after(
    database_url: str,
) -> None:
    engine = database.create_engine(database_url)
    database.upgrade(engine, to=BEFORE_AUTOINCREMENT)
    written = _edit_job_rows()
    written["images"].append(
        written["images"][0] | {"id": 2, "job_id": "e" * 32, "sha256": "b" * 64}
    )
    written["input_assets"] = [
        {
            "id": 1,
            "sha256": "c" * 64,
            "file_path": "inputs/cc/c.png",
            "thumb_path": "inputs/cc/c-256.webp",
            "width": 8,
            "height": 8,
            "format": "png",
            "size_bytes": 10,
            "created_at": 1.0,
        }
    ]
    written["boards"] = [
        {
            "id": 1,
            "owner_sub": "alice",
            "owner_email": "alice@example.com",
            "name": "Picks",
            "created_at": 1.0,
            "updated_at": 1.0,
            "archived": 0,
        }
    ]
    written["board_images"] = [{"board_id": 1, "image_id": 2, "position": 0}]
    tables = {name: sa.Table(name, sa.MetaData(), autoload_with=engine) for name in ID_TABLES}
    with engine.begin() as conn:
        for name in ID_TABLES:
            conn.execute(tables[name].insert(), [typed_row(tables[name], r) for r in written[name]])
        if engine.dialect.name == "postgresql":
            for name in ("images", "input_assets", "styles", "boards"):
                conn.exec_driver_sql(
                    f"SELECT setval('{name}_id_seq', (SELECT max(id) FROM {name}))"  # noqa: S608
                )
    before = rows_in(engine, ID_TABLES)
    engine.dispose()

    store = Store(database_url)
    try:
        kept = {name: [without_moved(name, row) for row in rows] for name, rows in before.items()}
        assert only_columns_of(rows_in(store.engine, ID_TABLES), before) == kept
        assert favourites_in(store.engine) == flagged(before["images"])
        alices = GalleryFilter(favourites_only=True, viewer_sub="alice")
        assert [item.image.id for item in store.gallery.gallery(alices, limit=9, offset=0)] == [
            2,
            1,
        ]
        assert store.gallery.gallery(GalleryFilter(favourites_only=True), limit=9, offset=0) == []
        # The search index and its triggers came through the rebuild.
        found = store.gallery.gallery(GalleryFilter(search="BLUE"), limit=24, offset=0)
        assert [item.image.id for item in found] == [2]
        assert store.boards.board_image_ids(1) == [2]
        # The newest image, board and upload deleted: the next ones get new ids.
        delete_for_good(store, 2)
        assert store.gallery.gallery(GalleryFilter(search="blue"), limit=24, offset=0) == []
        with store.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM input_assets"))
        job = store.jobs.create_job(
            GenerationRequest.build(prompt="A heron"),
            backend="demo",
            key_id="k",
            lease_owner="me",
            lease_seconds=5,
        )
        done = Task(id="task-3", status=TaskStatus.COMPLETED, result_urls=("https://x.test/h",))
        store.jobs.record_results(job.id, done)
        [image] = store.work.pending_images(job.id)
        image_id = image.id
        asset = store.gallery.add_input_asset(archived_file())
        board_id = store.boards.create_board("bob", None, "Bob's")
        assert (image_id, asset.id, board_id) == (3, 2, 2)
    finally:
        store.close()


# A board shared by one review link, as the releases before 0011 and 0012 wrote them.
SHARED_BOARD = {
    "id": 1,
    "owner_sub": None,
    "owner_email": None,
    "name": "Client picks",
    "created_at": 1.0,
    "updated_at": 1.0,
    "archived": 0,
}
REVIEW_LINK = {
    "id": 1,
    "board_id": 1,
    "token_sha256": "a" * 64,
    "label": "Acme",
    "created_at": 1.0,
    "expires_at": None,
    "revoked_at": None,
    "allow_downloads": 0,
    "window_start": 0.0,
    "window_changes": 0,
}


def _write(engine: sa.Engine, rows: dict[str, dict[str, object]]) -> None:
    """One row into each named table, as the schema in `engine` types it; then let go."""
    with engine.begin() as conn:
        for name, row in rows.items():
            table = sa.Table(name, sa.MetaData(), autoload_with=engine)
            conn.execute(table.insert(), [typed_row(table, row)])
    engine.dispose()


def test_a_database_before_finished_reviews_upgrades_with_its_links_kept(
    database_url: str,
) -> None:
    engine = database.create_engine(database_url)
    database.upgrade(engine, to="0010")
    board, link = SHARED_BOARD, REVIEW_LINK
    _write(engine, {"boards": board, "review_links": link})

    store = Store(database_url)
    try:
        assert rows_in(store.engine, ("boards", "review_links")) == {
            "boards": [board],
            "review_links": [link],
        }
        # And a reviewer's "Send my review" is kept for the board's owner.
        assert store.reviews.finish("a" * 64, 2.0, "Jane")
        [done] = store.reviews.finished_reviews(1)
        assert (done.reviewer, done.link_label, done.finished_at) == ("Jane", "Acme", 2.0)
    finally:
        store.close()


def test_a_database_before_board_news_upgrades_with_its_reviews_kept_and_seen(
    database_url: str,
) -> None:
    engine = database.create_engine(database_url)
    database.upgrade(engine, to="0011")
    board, link = SHARED_BOARD, REVIEW_LINK
    finish = {"link_id": 1, "reviewer": "Jane", "finished_at": 2.0}
    _write(engine, {"boards": board, "review_links": link, "review_finishes": finish})

    store = Store(database_url)
    try:
        assert rows_in(store.engine, ("boards", "review_links", "review_finishes")) == {
            "boards": [board],
            "review_links": [link],
            "review_finishes": [finish],
        }
        # What came before the upgrade counts as seen; a review finished after it is news.
        assert news(store.boards, None, time.time()).new == {}
        assert store.reviews.finish("a" * 64, time.time() + 60, "Max")
        assert news(store.boards, None, time.time()).new == {1: 1}
    finally:
        store.close()


def test_a_database_before_the_trash_upgrades_with_every_image_in_sight(
    database_url: str,
) -> None:
    engine = database.create_engine(database_url)
    database.upgrade(engine, to="0012")
    written = _edit_job_rows()
    [image] = [without_moved("images", row) for row in written["images"]]
    with engine.begin() as conn:
        jobs_table = sa.Table("jobs", sa.MetaData(), autoload_with=engine)
        conn.execute(jobs_table.insert(), written["jobs"])
    _write(
        engine,
        {
            "images": image,
            "favourites": {"owner_sub": "alice", "image_id": 1},
            "boards": SHARED_BOARD,
            "board_images": {"board_id": 1, "image_id": 1, "position": 0},
            "board_seen": {"board_id": 1, "seen_at": 1.0},
        },
    )
    names = ("jobs", "images", "favourites", "board_images", "board_seen")
    before = rows_in(engine, names)
    engine.dispose()

    store = Store(database_url)
    try:
        after = rows_in(store.engine, names)
        assert only_columns_of(after, before) == before
        assert [row["trashed_at"] for row in after["images"]] == [None]
        assert store.gallery.gallery_count(GalleryFilter()) == 1
        [board] = store.boards.boards(None, archived=False)
        assert (board.image_count, board.cover_image_id) == (1, 1)
        # The Trash works on what was there: in and out, nothing lost.
        assert store.gallery.trash.move_to_trash([1], now=5.0) == [1]
        assert store.gallery.gallery_count(GalleryFilter()) == 0
        assert store.gallery.trash.restore(TrashScope(everyone=True)) == [1]
        assert only_columns_of(rows_in(store.engine, names), before) == before
    finally:
        store.close()
