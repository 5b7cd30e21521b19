"""studio.boards.store: a board keeps its order and filters the gallery, and loses an image
deleted, with its votes.

Every test here runs twice: on a SQLite file and on a real PostgreSQL database.
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from studio.archive import Archive
from studio.db.schema import board_images, review_notes
from studio.records import GalleryFilter
from studio.store import Store
from tests.store_support import archived_job, board_of, delete_for_good


@pytest.fixture
def store(store_on_each_database: Store) -> Store:
    return store_on_each_database


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
    delete_for_good(store, ids[1])
    assert store.boards.board_image_ids(first) == [ids[0]]
    assert store.boards.board_image_ids(second) == []
    assert store.reviews.notes_on([ids[1]], "alice") == []
    with store.engine.connect() as conn:  # nothing names it any more, out of sight or not
        for table in (board_images, review_notes):
            assert conn.execute(sa.select(table).where(table.c.image_id == ids[1])).all() == []
