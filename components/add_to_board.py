"""Add to board: images into one of the person's boards, or into a new one.

The gallery's tiles and its selection ask through a dialog (one for the page, drawn only
when asked); the image dialog, which cannot open another, has the same form in a popover.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from components import frame
from components.state import SessionValue
from components.text import escape_markdown, plural
from studio.errors import BoardInputError
from studio.records import Board
from studio.service import BOARD_NAME_CHARS

NEW = 0  # the "New board" choice of the picker; boards' ids start at 1
_asked: SessionValue[list[int]] = SessionValue("add_to_board_ids", list)


def form(image_ids: Sequence[int], scope: str) -> str | None:
    """The board picker and Add; once added, the sentence saying where they went."""
    service = frame.studio()
    boards = {board.id: board for board in service.boards.boards()}
    choice = st.selectbox(
        "Board",
        [*boards, NEW],
        key=f"{scope}-board",
        format_func=lambda board_id: _choice_label(boards.get(board_id)),
    )
    name = ""
    if choice == NEW:
        name = st.text_input(
            "New board name",
            key=f"{scope}-new-name",
            max_chars=BOARD_NAME_CHARS,
            placeholder="e.g. Client picks, March",
            help="A name you will recognise; reviewers see it too.",
        )
    added = st.button(
        "Add",
        key=f"{scope}-add",
        type="primary",
        icon=":material/library_add:",
        help=f"Add {plural(len(image_ids), 'image')} to this board",
    )
    if not added:
        return None
    try:
        if choice == NEW or choice is None:
            board = service.boards.create_board(name, image_ids)
            new = board.image_count
        else:
            new = service.boards.add_to_board(choice, image_ids)
            board = service.boards.board(choice) or boards[choice]
    except BoardInputError as exc:
        st.error(escape_markdown(exc.message), icon=":material/error:")
        return None
    where = f"“{escape_markdown(board.name)}”"
    if new == 0:
        return f"Already on {where}."
    return f"Added {plural(new, 'image')} to {where}."


def _choice_label(board: Board | None) -> str:
    if board is None:
        return "New board…"
    return f"{board.name} ({plural(board.image_count, 'image')})"


def popover(image_id: int, *, scope: str, name: str) -> None:
    """The form in a popover (the image dialog's way), with the boards it is on already."""
    with st.popover("Add to board", icon=":material/library_add:", help=f"Add {name} to a board"):
        holding = frame.studio().boards.boards_of_image(image_id)
        if holding:
            st.caption("On these boards already:")
            st.text(", ".join(board.name for board in holding))
        done = form([image_id], scope)
        if done:
            st.success(done, icon=":material/check:")


def tile_button(image_id: int, *, name: str) -> None:
    """A gallery tile's Add to board: opens the page's dialog for this image."""
    st.button(
        "Add to board",
        key=f"add-to-board-{image_id}",
        icon=":material/library_add:",
        type="tertiary",
        on_click=ask,
        args=([image_id],),
        help=f"Add {name} to a board",
    )


def ask(image_ids: Sequence[int]) -> None:
    _asked.set(list(image_ids))


def show_if_asked() -> None:
    """The dialog, when a tile or the selection asked for it in this session."""
    image_ids = _asked.get()
    if image_ids:
        _dialog(image_ids)


@st.dialog("Add to board", on_dismiss=_asked.clear)
def _dialog(image_ids: list[int]) -> None:
    st.caption(f"{plural(len(image_ids), 'image')} to add, in the order of the gallery.")
    done = form(image_ids, "add-to-board-dialog")
    if done:
        _asked.clear()
        frame.queue_toast(done, ":material/library_add:")
        st.rerun()
