"""components.board_order: the board's images handed to the browser's drag-to-reorder strip."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.runtime import Runtime
from tests.app_support import handed_over, open_app, open_app_studio
from tests.board_support import BOARDS, board_of


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_the_strip_gets_the_images_in_board_order_as_plain_data(studio: Runtime) -> None:
    board, (fox, heron) = board_of(studio, "a fox <b>", "a heron")

    app = open_app(BOARDS, board=str(board.id))

    [strip] = handed_over(app, "board_order")
    assert [(image["id"], image["number"], image["prompt"]) for image in strip["images"]] == [
        (fox.image.id, 1, "a fox <b>"),
        (heron.image.id, 2, "a heron"),
    ]


def test_no_strip_for_one_image_or_when_sorted_by_approvals(studio: Runtime) -> None:
    single, _items = board_of(studio, "a fox")
    assert handed_over(open_app(BOARDS, board=str(single.id)), "board_order") == []

    board, _items = board_of(studio, "a fox", "a heron")
    app = open_app(BOARDS, board=str(board.id))
    app.button_group(key="board-sort").set_value("Most approved").run()
    assert handed_over(app, "board_order") == []
