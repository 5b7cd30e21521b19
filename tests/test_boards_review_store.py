"""studio.boards.review_store: a review link shows its board and nothing else, reviewers'
changes stay under the link's limit, and a reviewer's "Send my review" reaches the owner.

Every test here runs twice: on a SQLite file and on a real PostgreSQL database.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from studio.archive import Archive
from studio.store import Store
from tests.store_support import board_of


@pytest.fixture
def store(store_on_each_database: Store) -> Store:
    return store_on_each_database


def shared(store: Store, digest: str, label: str, board_id: int | None = None) -> int:
    board_id = board_id or store.boards.create_board(None, None, "Client picks")
    store.reviews.create_review_link(
        board_id, digest, label=label, expires_at=None, allow_downloads=False
    )
    return board_id


def test_sending_again_moves_the_time_and_each_link_keeps_its_own(store: Store) -> None:
    board_id = shared(store, "a" * 64, "Acme")
    shared(store, "b" * 64, "Beta", board_id)
    other_board = shared(store, "c" * 64, "Elsewhere")

    assert store.reviews.finish("a" * 64, 10.0, "Jane") is True
    assert store.reviews.finish("b" * 64, 11.0, "Jane") is True
    assert store.reviews.finish("a" * 64, 12.0, "Jane") is False  # again: moved, not news
    assert store.reviews.finish("c" * 64, 13.0, "Max") is True

    found = store.reviews.finished_reviews(board_id)
    assert [(done.reviewer, done.link_label, done.finished_at) for done in found] == [
        ("Jane", "Acme", 12.0),
        ("Jane", "Beta", 11.0),
    ]
    assert store.reviews.finished_on("a" * 64, "Jane") == 12.0
    assert store.reviews.finished_on("a" * 64, "Max") is None
    assert [done.reviewer for done in store.reviews.finished_reviews(other_board)] == ["Max"]


def test_a_revoked_or_expired_link_records_nothing(store: Store) -> None:
    board_id = store.boards.create_board(None, None, "Client picks")
    store.reviews.create_review_link(
        board_id, "a" * 64, label="Expiring", expires_at=5.0, allow_downloads=False
    )
    shared(store, "b" * 64, "Revoked", board_id)
    [revoked] = [link for link in store.reviews.review_links(board_id) if link.label == "Revoked"]
    store.reviews.revoke_review_link(revoked.id)

    assert store.reviews.finish("a" * 64, 6.0, "Jane") is None  # expired at 5
    assert store.reviews.finish("b" * 64, 6.0, "Jane") is None  # revoked
    assert store.reviews.finish("f" * 64, 6.0, "Jane") is None  # no such link
    assert store.reviews.finished_reviews(board_id) == []


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
