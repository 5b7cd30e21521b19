"""components.verdicts: approvals, needs-changes and comments, in the gallery and its dialog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from components.verdicts import counts_line
from studio.records import ReviewNote, Verdicts
from studio.runtime import Runtime
from tests.app_support import GALLERY, gallery_tiles, open_app, open_app_studio, texts
from tests.board_support import board_of, local_service, shared_board

MARKUP = "<script>x</script> **Eve** [a](https://e.example)"  # 60 at most: a name


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def note(vote: str | None, comment: str = "") -> ReviewNote:
    return ReviewNote(1, "Acme", "Jane", 1, vote, comment, 0.0)  # type: ignore[arg-type]


def test_the_counts_line_names_only_what_there_is() -> None:
    assert counts_line(Verdicts(0, 0, ())) == ""
    assert counts_line(Verdicts(2, 0, (note("approve"), note("approve")))) == (
        ":material/thumb_up: 2 approvals"
    )
    assert counts_line(Verdicts(0, 1, (note("changes", "bluer"), note(None, "ok")))) == (
        ":material/edit_note: 1 needs changes · :material/chat: 2 comments"
    )


def test_gallery_tiles_show_counts_only_for_reviewed_images(studio: Runtime) -> None:
    board, (fox, heron) = board_of(studio, "a fox", "a heron")
    review = local_service(studio).boards.open_review(shared_board(studio, board))
    review.vote("Jane", fox.image.id, "approve")  # type: ignore[union-attr]

    app = open_app(GALLERY)

    details = {tile["id"]: tile["details"] for tile in gallery_tiles(app)}
    assert details[fox.image.id].endswith(" · 1 approval")  # plain words, no icon markup
    assert "approval" not in details[heron.image.id]


def test_the_image_dialog_lists_each_reviewer_as_plain_text(studio: Runtime) -> None:
    board, (fox,) = board_of(studio, "a fox")
    review = local_service(studio).boards.open_review(shared_board(studio, board, label="Acme"))
    review.vote(MARKUP, fox.image.id, "changes")  # type: ignore[union-attr]
    review.comment(MARKUP, fox.image.id, MARKUP)  # type: ignore[union-attr]

    app = open_app(GALLERY, image=str(fox.image.id))

    shown = texts(app)
    assert MARKUP in shown  # the comment, exactly as typed
    assert any(text.startswith(f"{MARKUP}, via Acme · ") for text in shown)
    assert "**Reviews**" in [markdown.value for markdown in app.markdown]
    assert not any("<script>" in markdown.value for markdown in app.markdown)
