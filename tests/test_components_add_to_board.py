"""components.add_to_board: from a gallery tile, the gallery selection and the image dialog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.runtime import Runtime
from tests.app_support import (
    GALLERY,
    open_app,
    open_app_studio,
    seed_images,
    select_in_gallery,
    send_event,
)
from tests.board_support import local_service

DIALOG = "add-to-board-dialog"


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def board_ids(studio: Runtime, name: str) -> list[int]:
    service = local_service(studio)
    [board] = [board for board in service.boards.boards() if board.name == name]
    return [item.image.id for item in service.boards.board_images(board.id)]


def test_a_tiles_add_to_board_makes_a_new_board_with_it(studio: Runtime) -> None:
    [fox] = seed_images(studio.store, studio.archive, "a fox")
    app = open_app(GALLERY)

    send_event(app, "gallery_tiles", "board", fox.image.id)
    assert app.selectbox(key=f"{DIALOG}-board").value == 0  # no boards yet: a new one
    app.button(key=f"{DIALOG}-add").click().run()
    assert len(app.error) == 1  # a new board needs a name; nothing made
    assert local_service(studio).boards.boards() == []

    app.text_input(key=f"{DIALOG}-new-name").set_value("Client picks")
    app.button(key=f"{DIALOG}-add").click().run()

    assert board_ids(studio, "Client picks") == [fox.image.id]
    assert any("Added 1 image to" in toast.value for toast in app.toast)
    assert not [box for box in app.selectbox if box.key == f"{DIALOG}-board"]  # closed


def test_the_selection_goes_onto_an_existing_board_in_order_once(studio: Runtime) -> None:
    first, second = seed_images(studio.store, studio.archive, "a heron", count=2)
    board = local_service(studio).boards.create_board("Herons", [second.image.id])
    app = open_app(GALLERY)
    select_in_gallery(app, first)
    select_in_gallery(app, second)

    app.button(key="gallery-add-selected-to-board").click().run()
    assert app.selectbox(key=f"{DIALOG}-board").value == board.id
    app.button(key=f"{DIALOG}-add").click().run()

    assert board_ids(studio, "Herons") == [second.image.id, first.image.id]
    assert any("Added 1 image to" in toast.value for toast in app.toast)  # one was on it


def test_the_image_dialog_adds_it_and_says_which_boards_hold_it(studio: Runtime) -> None:
    [fox] = seed_images(studio.store, studio.archive, "a fox")
    local_service(studio).boards.create_board("Foxes", [fox.image.id])
    night = local_service(studio).boards.create_board("Night")
    app = open_app(GALLERY, image=str(fox.image.id))
    scope = f"lightbox-board-{fox.image.id}"
    assert "Foxes" in [text.value for text in app.text]

    app.selectbox(key=f"{scope}-board").set_value(night.id).run()
    app.button(key=f"{scope}-add").click().run()

    assert board_ids(studio, "Night") == [fox.image.id]
    assert any("Added 1 image to" in message.value for message in app.success)
