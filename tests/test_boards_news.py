"""studio.boards.news: what reviewers said since a board's owner last opened it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.archive import Archive
from studio.boards import news as board_news
from studio.store import Store
from tests.app_support import seed_images


@pytest.fixture
def any_store(database_url: str) -> Iterator[Store]:
    opened = Store(database_url)
    yield opened
    opened.close()


def board_with_link(
    store: Store, tmp_path: Path, digest: str, owner: str | None = None
) -> tuple[int, list[int]]:
    """A board of `owner`'s with two images and a review link whose token hashes to `digest`."""
    archive = Archive(tmp_path / f"images-{digest[0]}")
    ids = [seed_images(store, archive, prompt)[0].image.id for prompt in ("a fox", "a heron")]
    board_id = store.boards.create_board(owner, None, "Client picks")
    store.boards.add_board_images(board_id, ids)
    store.reviews.create_review_link(
        board_id, digest, label="Acme", expires_at=None, allow_downloads=False
    )
    return board_id, ids


def say(store: Store, digest: str, now: float, image_id: int, **changes: object) -> None:
    outcome = store.reviews.review_change(
        digest, now, reviewer="Jane", image_id=image_id, changes=changes, per_minute=100
    )
    assert outcome == "saved"


def test_votes_comments_and_finished_reviews_since_the_board_was_opened_are_news(
    any_store: Store, tmp_path: Path
) -> None:
    board_id, (fox, heron) = board_with_link(any_store, tmp_path, "a" * 64)
    say(any_store, "a" * 64, 10.0, fox, vote="approve")
    say(any_store, "a" * 64, 11.0, heron, comment="Brighter sky")
    assert any_store.reviews.finish("a" * 64, 12.0, "Jane")
    # Never opened since it was shared: everything said is new.
    found = board_news.news(any_store.boards, None, 13.0)
    assert found.new == {board_id: 3} and found.total == 3 and found.listening

    board_news.mark_seen(any_store.boards, board_id, 13.0)
    assert board_news.news(any_store.boards, None, 14.0).new == {}

    say(any_store, "a" * 64, 15.0, fox, vote="changes")  # changed her mind: news again
    assert board_news.news(any_store.boards, None, 16.0).new == {board_id: 1}
    board_news.mark_seen(any_store.boards, board_id, 16.0)
    say(any_store, "a" * 64, 17.0, fox, vote=None)  # taken back, no comment: nothing to see
    assert board_news.news(any_store.boards, None, 18.0).total == 0

    say(any_store, "a" * 64, 19.0, heron, comment="Even brighter")
    any_store.gallery.trash.move_to_trash([heron], 19.5)  # its owner deleted it meanwhile
    assert board_news.news(any_store.boards, None, 20.0).total == 0


def test_only_the_owners_boards_count_and_a_closed_link_stops_listening(
    store: Store, tmp_path: Path
) -> None:
    mine, (fox, _heron) = board_with_link(store, tmp_path, "a" * 64, owner="ada")
    theirs, (other, _) = board_with_link(store, tmp_path, "b" * 64, owner="bob")
    say(store, "a" * 64, 10.0, fox, vote="approve")
    say(store, "b" * 64, 10.0, other, vote="approve")

    assert board_news.news(store.boards, "ada", 11.0).new == {mine: 1}
    assert board_news.news(store.boards, "bob", 11.0).new == {theirs: 1}
    assert board_news.news(store.boards, None, 11.0) == board_news.BoardNews({}, listening=False)

    [link] = store.reviews.review_links(mine)
    store.reviews.revoke_review_link(link.id)
    ada = board_news.news(store.boards, "ada", 12.0)
    assert ada.new == {mine: 1} and not ada.listening  # what came is still news
