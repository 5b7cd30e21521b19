"""components.board_view: one board, its images in order with their verdicts, and its tools."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from studio.runtime import Runtime
from tests.app_support import handed_over, open_app, open_app_studio, texts
from tests.board_support import BOARDS, board_of, local_service, shared_board

MARKUP = "**Jane** <img src=x onerror=alert(1)> :red[x]"


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def prompts_in_order(app: AppTest) -> list[str]:
    return [text for text in texts(app) if text[:1].isdigit()]


def contact_sheet_buttons(app: AppTest) -> list[Any]:
    return [b for b in app.get("download_button") if "Contact sheet" in b.proto.label]


def test_up_down_and_remove_change_the_boards_order(studio: Runtime) -> None:
    board, (fox, lighthouse, heron) = board_of(studio, "a fox", "a lighthouse", "a heron")
    app = open_app(BOARDS, board=str(board.id))
    assert prompts_in_order(app) == ["1. a fox", "2. a lighthouse", "3. a heron"]
    assert app.button(key=f"board-up-{fox.image.id}").disabled
    assert app.button(key=f"board-down-{heron.image.id}").disabled

    app.button(key=f"board-down-{fox.image.id}").click().run()
    assert prompts_in_order(app) == ["1. a lighthouse", "2. a fox", "3. a heron"]
    app.button(key=f"board-up-{heron.image.id}").click().run()
    assert prompts_in_order(app) == ["1. a lighthouse", "2. a heron", "3. a fox"]

    app.button(key=f"board-remove-{lighthouse.image.id}").click().run()
    assert prompts_in_order(app) == ["1. a heron", "2. a fox"]
    assert studio.store.gallery.image(lighthouse.image.id) is not None  # still in the gallery


def test_rename_and_archive(studio: Runtime) -> None:
    board, _items = board_of(studio, "a fox", name="Draft")
    app = open_app(BOARDS, board=str(board.id))

    app.text_input(key=f"board-name-{board.id}").set_value("   ")
    app.button(key=f"FormSubmitter:board-rename-{board.id}-Rename").click().run()
    assert len(app.error) == 1  # next to the field; the name stays
    assert local_service(studio).boards.board(board.id).name == "Draft"  # type: ignore[union-attr]

    app.text_input(key=f"board-name-{board.id}").set_value("Final picks")
    app.button(key=f"FormSubmitter:board-rename-{board.id}-Rename").click().run()
    assert [header.value for header in app.header] == ["Final picks"]
    assert not app.error

    app.button(key=f"board-archive-{board.id}").click().run()
    assert local_service(studio).boards.board(board.id).archived  # type: ignore[union-attr]
    assert app.button(key=f"board-archive-{board.id}").label == "Unarchive"


def test_verdicts_show_as_plain_text_and_sort_by_approvals(studio: Runtime) -> None:
    board, (fox, lighthouse) = board_of(studio, "a fox", "a lighthouse")
    review = local_service(studio).boards.open_review(shared_board(studio, board, label="Acme"))
    review.vote(MARKUP, lighthouse.image.id, "approve")  # type: ignore[union-attr]
    review.vote("Sam", fox.image.id, "changes")  # type: ignore[union-attr]
    review.comment("Sam", fox.image.id, "Make it *bluer* <b>now</b>")  # type: ignore[union-attr]

    app = open_app(BOARDS, board=str(board.id))

    shown = texts(app)
    assert "Make it *bluer* <b>now</b>" in shown
    assert any(t.startswith(f"{MARKUP}, via Acme · ") and t.endswith(" · Approved") for t in shown)
    assert any(t.startswith("Sam, via Acme · ") and t.endswith(" · Needs changes") for t in shown)
    captions = [caption.value for caption in app.caption]
    assert ":material/thumb_up: 1 approval" in captions
    assert ":material/edit_note: 1 needs changes · :material/chat: 1 comment" in captions

    app.button_group(key="board-sort").set_value("Most approved").run()
    # The board's own numbers stay; the most approved comes first; no moving meanwhile.
    assert prompts_in_order(app) == ["2. a lighthouse", "1. a fox"]
    assert app.button(key=f"board-down-{fox.image.id}").disabled


def test_edit_this_image_from_a_comment_carries_the_comment_into_the_edit(studio: Runtime) -> None:
    board, (fox,) = board_of(studio, "a fox")
    review = local_service(studio).boards.open_review(shared_board(studio, board))
    review.comment("Sam", fox.image.id, "Make the sky purple")  # type: ignore[union-attr]
    app = open_app(BOARDS, board=str(board.id))

    app.button(key=f"board-edit-from-note-{fox.image.id}-0").click().run()

    assert [title.value for title in app.title] == ["Edit"]
    assert app.text_area(key="edit_prompt").value == "Make the sky purple"
    assert "**Input images** (1 of 3)" in [markdown.value for markdown in app.markdown]


def test_the_live_watch_runs_only_while_a_link_is_live(studio: Runtime) -> None:
    board, _items = board_of(studio, "a fox")
    live_note = "Shared for review: votes and comments show here as they come."

    quiet = open_app(BOARDS, board=str(board.id))
    assert not any(live_note in caption.value for caption in quiet.caption)

    shared_board(studio, board)
    live = open_app(BOARDS, board=str(board.id))
    assert any(live_note in caption.value for caption in live.caption)

    [link] = local_service(studio).boards.review_links(board.id)
    local_service(studio).boards.revoke_link(link.id)
    live.run()
    assert not any(live_note in caption.value for caption in live.caption)


def test_contact_sheet_and_zip_are_offered_once_the_board_has_images(studio: Runtime) -> None:
    empty = local_service(studio).boards.create_board("Empty")
    app = open_app(BOARDS, board=str(empty.id))
    sheets = contact_sheet_buttons(app)
    assert len(sheets) == 2 and all(button.proto.disabled for button in sheets)
    assert app.button(key="board-zip-none").disabled
    assert app.get("link_button") == []  # nothing to present either

    board, _items = board_of(studio, "a fox")
    app = open_app(BOARDS, board=str(board.id))
    sheets = contact_sheet_buttons(app)
    assert len(sheets) == 2 and not any(button.proto.disabled for button in sheets)
    zipped, presenting = app.get("link_button")
    assert zipped.proto.url.startswith("/api/")
    # And Present: the board full-screen (tests/browser/test_present.py).
    assert presenting.proto.label == "Present"
    assert presenting.proto.url == f"/present?board={board.id}"


def test_another_persons_or_a_missing_board_says_so(studio: Runtime) -> None:
    app = open_app(BOARDS, board="999")

    assert any("gone, or it is not yours" in warning.value for warning in app.warning)


def test_open_shows_the_image_dialog_over_the_board(studio: Runtime) -> None:
    board, (fox, _heron) = board_of(studio, "a fox", "a heron")
    app = open_app(BOARDS, board=str(board.id))

    app.button(key=f"open-image-{fox.image.id}").click().run()

    assert app.query_params["image"] == str(fox.image.id)
    copied = [copy["text"] for copy in handed_over(app, "copy_button")]
    assert copied == ["a fox"]  # the dialog's prompt, with its Copy prompt button
    assert [header.value for header in app.header] == ["Client picks"]  # still on the board
