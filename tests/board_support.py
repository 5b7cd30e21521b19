"""Boards for the component tests: images put on a board of the local person's, and a
review link to it, as the studio itself would make them."""

from __future__ import annotations

from studio.people import LOCAL
from studio.records import Board, GalleryItem
from studio.runtime import Runtime
from studio.service import Studio
from tests.app_support import seed_images

BOARDS = "pages/boards.py"


def local_service(studio: Runtime) -> Studio:
    """The studio as the one local person (no sign-in configured) pages act for."""
    return studio.service.for_person(LOCAL)


def board_of(
    studio: Runtime, *prompts: str, name: str = "Client picks"
) -> tuple[Board, list[GalleryItem]]:
    """A board of one image per prompt, in that order."""
    items = [seed_images(studio.store, studio.archive, prompt)[0] for prompt in prompts]
    board = local_service(studio).boards.create_board(name, [item.image.id for item in items])
    return board, items


def shared_board(studio: Runtime, board: Board, **options: object) -> str:
    """A review link to `board`: its token."""
    _link, token = local_service(studio).boards.share_board(board.id, **options)  # type: ignore[arg-type]
    return token
