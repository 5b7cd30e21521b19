"""The person's boards: each with its cover (its first image) and count; New board.

Which board is open lives in the URL (`/boards?board=ID`), so a link opens it.
"""

from __future__ import annotations

import re

import streamlit as st

from components import frame, media
from components.text import escape_markdown, excerpt, plural, when
from studio.errors import BoardInputError
from studio.records import Board
from studio.service import BOARD_NAME_CHARS

BOARD = "board"  # the query parameter of the open board
COLUMNS = 4
NEW_NAME = "new-board-name"
SHOW_ARCHIVED = "boards-show-archived"
_NUMBER = re.compile(r"[0-9]{1,9}")


def open_board_id() -> int | None:
    asked = st.query_params.get(BOARD, "")
    return int(asked) if _NUMBER.fullmatch(asked) else None


def open_board(board_id: int) -> None:
    st.query_params[BOARD] = str(board_id)


def close_board() -> None:
    st.query_params.pop(BOARD, None)


def boards() -> None:
    """New board, then the boards as a grid of covers."""
    _new_board()
    archived = st.toggle("Show archived boards", key=SHOW_ARCHIVED)
    found = frame.studio().boards.boards(archived=archived)
    if not found:
        st.info(
            "No archived boards." if archived else _EMPTY,
            icon=":material/dashboard:",
        )
        return
    st.caption(plural(len(found), "archived board" if archived else "board"))
    news = frame.studio().boards.board_news().new
    for start in range(0, len(found), COLUMNS):
        for column, board in zip(st.columns(COLUMNS), found[start : start + COLUMNS], strict=False):
            with column:
                _card(board, news.get(board.id, 0))


_EMPTY = (
    "No boards yet. Name one above, then add images to it from the Gallery "
    "(each image's Add to board)."
)


def _new_board() -> None:
    with st.form("new-board", border=False, enter_to_submit=True):
        name_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
        name = name_column.text_input(
            "Board name",
            key=NEW_NAME,
            max_chars=BOARD_NAME_CHARS,
            placeholder="e.g. Client picks, March",
        )
        submitted = button_column.form_submit_button(
            "New board", icon=":material/add:", type="primary"
        )
    if not submitted:
        return
    try:
        board = frame.studio().boards.create_board(name)
    except BoardInputError as exc:
        st.error(escape_markdown(exc.message), icon=":material/error:")
        return
    open_board(board.id)
    st.rerun()


def _card(board: Board, news: int) -> None:
    service = frame.studio()
    with st.container(border=True, key=f"board-card-{board.id}"):
        cover = service.gallery.image(board.cover_image_id) if board.cover_image_id else None
        if cover is not None:
            media.thumbnail(cover.image, cover.job.prompt)
        else:
            st.caption("No images yet")
        st.text(excerpt(board.name, 60), wrap=False)
        if news:
            # Votes, comments and finished reviews since the board was last opened.
            st.badge(f"{news} new from reviewers", icon=":material/rate_review:", color="orange")
        st.caption(
            f"{plural(board.image_count, 'image')} · changed "
            f"{when(board.updated_at, st.context.timezone)}"
        )
        st.button(
            "Open board",
            key=f"open-board-{board.id}",
            icon=":material/open_in_full:",
            on_click=open_board,
            args=(board.id,),
            help=f"Open the board “{excerpt(board.name, 60)}”",
        )
