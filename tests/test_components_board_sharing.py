"""components.board_sharing: Share for review, the link shown once, and Revoke link."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.records import ReviewClosed
from studio.runtime import Runtime
from studio.service import LINK_LABEL_CHARS, Review
from tests.app_support import open_app, open_app_studio, texts
from tests.board_support import BOARDS, board_of, local_service

DAY = 24 * 3600


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_sharing_shows_the_link_once_and_lists_it(studio: Runtime) -> None:
    board, _items = board_of(studio, "a fox")
    app = open_app(BOARDS, board=str(board.id))
    assert app.number_input(key=f"share-days-{board.id}").value == 7  # the default

    app.text_input(key=f"share-label-{board.id}").set_value("Acme (Jane)")
    app.number_input(key=f"share-days-{board.id}").set_value(3)
    app.checkbox(key=f"share-downloads-{board.id}").check()
    app.button(key=f"FormSubmitter:share-{board.id}-Share for review").click().run()

    [address] = [code.value for code in app.code]
    assert address.startswith("/review?token=")  # absolute in a browser (tests/browser)
    opened = local_service(studio).boards.open_review(address.removeprefix("/review?token="))
    assert isinstance(opened, Review) and opened.allow_downloads
    [link] = local_service(studio).boards.review_links(board.id)
    assert link.label == "Acme (Jane)"
    assert link.expires_at is not None
    assert abs(link.expires_at - (time.time() + 3 * DAY)) < 60
    assert "Acme (Jane)" in texts(app)

    app.button(key=f"share-done-{board.id}").click().run()
    assert app.code == []  # the token is not kept, so it cannot be shown again


def test_a_link_that_never_expires(studio: Runtime) -> None:
    board, _items = board_of(studio, "a fox")
    app = open_app(BOARDS, board=str(board.id))

    app.checkbox(key=f"share-never-{board.id}").check()
    app.button(key=f"FormSubmitter:share-{board.id}-Share for review").click().run()

    [link] = local_service(studio).boards.review_links(board.id)
    assert link.expires_at is None
    assert any("never expires" in caption.value for caption in app.caption)


def test_the_label_field_takes_no_more_than_a_label_may_hold(studio: Runtime) -> None:
    board, _items = board_of(studio, "a fox")
    app = open_app(BOARDS, board=str(board.id))

    app.text_input(key=f"share-label-{board.id}").set_value("x" * 500)
    app.button(key=f"FormSubmitter:share-{board.id}-Share for review").click().run()

    [link] = local_service(studio).boards.review_links(board.id)
    assert link.label == "x" * LINK_LABEL_CHARS
    assert not app.error


def test_revoke_link_ends_it(studio: Runtime) -> None:
    board, _items = board_of(studio, "a fox")
    _link, token = local_service(studio).boards.share_board(board.id, label="Acme")
    app = open_app(BOARDS, board=str(board.id))

    [link] = local_service(studio).boards.review_links(board.id)
    app.button(key=f"revoke-link-{link.id}").click().run()
    assert isinstance(
        local_service(studio).boards.open_review(token), Review
    )  # asked, not yet done
    assert "Whoever holds it sees nothing from then on" in app.warning[0].value
    app.button(key=f"revoke-link-keep-{link.id}").click().run()
    assert app.warning == [] and not app.button(key=f"revoke-link-{link.id}").disabled
    assert isinstance(local_service(studio).boards.open_review(token), Review)  # kept

    app.button(key=f"revoke-link-{link.id}").click().run()
    app.button(key=f"revoke-link-yes-{link.id}").click().run()

    closed = local_service(studio).boards.open_review(token)
    assert isinstance(closed, ReviewClosed) and closed.reason == "revoked"
    assert any("revoked" in caption.value for caption in app.caption)
    assert not [button for button in app.button if button.key == f"revoke-link-{link.id}"]


def test_with_a_public_address_set_shared_links_start_with_it(
    studio: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(studio.settings, "studio_public_url", "https://studio.example.com")
    board, _items = board_of(studio, "a fox")
    app = open_app(BOARDS, board=str(board.id))

    app.button(key=f"FormSubmitter:share-{board.id}-Share for review").click().run()

    [address] = [code.value for code in app.code]
    assert address.startswith("https://studio.example.com/review?token=")
    assert app.warning == []  # the operator said where the studio is reached
