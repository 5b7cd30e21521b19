"""studio.boards.review_store: a reviewer's "Send my review", as the board's owner reads it."""

from __future__ import annotations

from studio.store import Store


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

    assert store.reviews.finish("a" * 64, 10.0, "Jane")
    assert store.reviews.finish("b" * 64, 11.0, "Jane")
    assert store.reviews.finish("a" * 64, 12.0, "Jane")  # again: moved, not doubled
    assert store.reviews.finish("c" * 64, 13.0, "Max")

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

    assert not store.reviews.finish("a" * 64, 6.0, "Jane")  # expired at 5
    assert not store.reviews.finish("b" * 64, 6.0, "Jane")  # revoked
    assert not store.reviews.finish("f" * 64, 6.0, "Jane")  # no such link
    assert store.reviews.finished_reviews(board_id) == []
