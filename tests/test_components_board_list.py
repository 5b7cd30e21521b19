"""components.board_list: the person's boards with their covers, and New board."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.records import ReviewClosed
from studio.runtime import Runtime
from tests.app_support import open_app, open_app_studio, texts
from tests.board_support import BOARDS, board_of, local_service, shared_board


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_no_boards_yet_says_how_to_make_one(studio: Runtime) -> None:
    app = open_app(BOARDS)

    assert [title.value for title in app.title] == ["Boards"]
    assert any("No boards yet" in info.value for info in app.info)


def test_new_board_makes_it_and_opens_it(studio: Runtime) -> None:
    app = open_app(BOARDS)

    app.text_input(key="new-board-name").set_value("Client picks")
    app.button(key="FormSubmitter:new-board-New board").click().run()

    [board] = local_service(studio).boards.boards()
    assert board.name == "Client picks"
    assert app.query_params["board"] == str(board.id)
    assert [header.value for header in app.header] == ["Client picks"]


def test_a_board_without_a_name_is_not_made_and_the_field_says_why(studio: Runtime) -> None:
    app = open_app(BOARDS)

    app.button(key="FormSubmitter:new-board-New board").click().run()

    assert local_service(studio).boards.boards() == []
    assert len(app.error) == 1
    assert "board" not in app.query_params


def test_boards_show_their_cover_name_and_count_and_open(studio: Runtime) -> None:
    board, _items = board_of(studio, "a red fox", "a lighthouse", name="**Bold** <b>name</b>")
    local_service(studio).boards.create_board("Empty one")

    app = open_app(BOARDS)

    assert sorted(texts(app)) == ["**Bold** <b>name</b>", "Empty one"]  # plain text
    [cover] = app.image  # the first image of the board that has any
    assert cover.proto.imgs[0].alt == "a red fox"
    captions = " ".join(caption.value for caption in app.caption)
    assert "2 images" in captions and "0 images" in captions

    app.button(key=f"open-board-{board.id}").click().run()
    assert app.query_params["board"] == str(board.id)


def test_archived_boards_show_only_when_asked(studio: Runtime) -> None:
    board, _items = board_of(studio, "a red fox", name="Old campaign")
    local_service(studio).boards.archive_board(board.id)

    app = open_app(BOARDS)
    assert "Old campaign" not in texts(app)

    app.toggle(key="boards-show-archived").set_value(True).run()
    assert texts(app) == ["Old campaign"]


def test_a_board_says_what_reviewers_said_until_it_is_opened(studio: Runtime) -> None:
    board, items = board_of(studio, "a red fox", "a lighthouse", name="Client picks")
    quiet, _ = board_of(studio, "a heron", name="Nobody looked")
    review = studio.service.boards.open_review(shared_board(studio, board))
    assert not isinstance(review, ReviewClosed)
    review.vote("Jane", items[0].image.id, "approve")
    review.comment("Jane", items[1].image.id, "Brighter, please")

    app = open_app(BOARDS)
    assert [said.value for said in app.markdown if "from reviewers" in said.value] == [
        ":orange-badge[:material/rate_review: 2 new from reviewers]"
    ]
    assert local_service(studio).boards.board_news().new == {board.id: 2}

    app.button(key=f"open-board-{board.id}").click().run()  # seen
    app.button(key="board-back").click().run()
    assert not [said for said in app.markdown if "from reviewers" in said.value]
    assert local_service(studio).boards.board_news().total == 0
    assert quiet.id not in local_service(studio).boards.board_news().new
