"""One board, open: its images in order with what reviewers said, and what can be done.

Rename, archive, reorder (Up and Down on each image, named in their help, or drag in
components/board_order), remove,
sort by approvals, the contact sheet and the zip; sharing is in components/board_sharing.
While the board has a live review link, a small fragment asks the store every few
seconds whether any vote or comment changed (one cheap query) and reruns the page only
when one did, so the verdicts under the images stay current without redrawing them
on every tick.
"""

from __future__ import annotations

from functools import partial
from typing import Literal

import streamlit as st

from components import (
    board_list,
    board_order,
    board_sharing,
    frame,
    gallery_view,
    media,
    present,
    verdicts,
)
from components.state import Scoped
from components.text import escape_markdown, excerpt, plural, when
from studio.errors import BoardInputError
from studio.records import Board, GalleryItem, Verdicts
from studio.request import DEFAULT_ASPECT_RATIO, Mode
from studio.service import BOARD_NAME_CHARS, NO_SUCH_BOARD

REFRESH_SECONDS = 2
SORT = "board-sort"
SORTS: dict[str, Literal["order", "approvals"]] = {
    "Board order": "order",
    "Most approved": "approvals",
}
# The review activity this session's page last showed, per board.
_shown_marker: Scoped[str | None] = Scoped("board_review_marker", lambda: None)
_rename_error: Scoped[str | None] = Scoped("board_rename_error", lambda: None)


def board(board_id: int) -> None:
    """The open board, or the sentence saying it cannot be opened."""
    service = frame.studio()
    st.button(
        "All boards",
        key="board-back",
        icon=":material/arrow_back:",
        on_click=board_list.close_board,
    )
    found = service.boards.board(board_id)
    if found is None:
        st.warning(NO_SUCH_BOARD, icon=":material/lock:")
        return
    # Its owner looking: what reviewers said so far is shown below, so no longer news.
    service.boards.mark_board_seen(board_id)
    st.header(escape_markdown(found.name), anchor=False)
    state = "archived · " if found.archived else ""
    st.caption(f"{state}{plural(found.image_count, 'image')}")
    _toolbar(found)
    links = service.boards.review_links(board_id)
    board_sharing.sharing(found, links)
    for done in service.boards.finished_reviews(board_id):
        via = f", via {done.link_label}" if done.link_label else ""
        # Typed by a reviewer: plain text, never Markdown.
        st.text(
            f"\N{WHITE HEAVY CHECK MARK} {done.reviewer} finished their review{via} · "
            f"{when(done.finished_at, st.context.timezone)}"
        )
    if any(board_sharing.is_live(link) for link in links):
        # Read before the verdicts below, so a vote between the two is not missed.
        _shown_marker(str(board_id)).set(service.boards.review_activity_marker(board_id))
        _watch(board_id)
    _images(found)


@st.fragment(run_every=REFRESH_SECONDS)
def _watch(board_id: int) -> None:
    if frame.studio().boards.review_activity_marker(board_id) != _shown_marker(str(board_id)).get():
        st.rerun()  # the whole page, once: the verdicts under the images are redrawn
    st.caption(
        ":material/radio_button_checked: Shared for review: votes and comments show "
        "here as they come."
    )


def _toolbar(board: Board) -> None:
    service = frame.studio()
    empty = board.image_count == 0
    # One row that wraps on a narrow screen, each button as wide as its words.
    with st.container(horizontal=True, vertical_alignment="center"):
        with st.popover("Rename", icon=":material/edit:"):
            _rename_form(board)
        st.button(
            "Unarchive" if board.archived else "Archive",
            key=f"board-archive-{board.id}",
            icon=":material/unarchive:" if board.archived else ":material/archive:",
            on_click=_archive,
            args=(board.id, not board.archived),
            help="Archived boards leave the list of boards; their review links keep working.",
        )
        for kind in ("png", "pdf"):
            st.download_button(
                f"Contact sheet ({kind.upper()})",
                data=partial(service.boards.board_contact_sheet, board.id, kind),
                file_name=f"board-{board.id}-contact-sheet.{kind}",
                mime="application/pdf" if kind == "pdf" else "image/png",
                key=f"board-sheet-{kind}-{board.id}",
                icon=":material/grid_view:",
                on_click="ignore",
                disabled=empty,
                help="The board on one sheet: its images numbered, with prompts, ratios and votes",
            )
        if empty:
            st.button("Download zip", key="board-zip-none", disabled=True)
        else:
            st.link_button(
                "Download zip",
                service.boards.board_zip_link(board.id, frame.viewer()),
                icon=":material/download:",
                help="The board's images, each with its prompt and settings inside, and a "
                "manifest.json listing them",
            )
        if not empty:
            st.link_button(
                "Present",
                f"/{present.PATH}?{present.BOARD}={board.id}",
                icon=":material/slideshow:",
                help="The board full-screen in a new tab, one image at a time: Left and Right step",
            )
        st.page_link(
            "pages/gallery.py",
            label="In the gallery",
            icon=":material/photo_library:",
            query_params={gallery_view.BOARD: str(board.id)},
            help="The gallery, showing only this board's images",
        )


def _rename_form(board: Board) -> None:
    error = _rename_error(str(board.id))
    with st.form(f"board-rename-{board.id}", border=False):
        name = st.text_input(
            "Board name",
            value=board.name,
            key=f"board-name-{board.id}",
            max_chars=BOARD_NAME_CHARS,
        )
        submitted = st.form_submit_button("Rename", type="primary")
    if submitted:
        try:
            frame.studio().boards.rename_board(board.id, name)
        except BoardInputError as exc:
            error.set(exc.message)
        else:
            error.clear()
            st.rerun()
    message = error.get()
    if message:
        st.error(escape_markdown(message), icon=":material/error:")


def _archive(board_id: int, archived: bool) -> None:
    frame.studio().boards.archive_board(board_id, archived)
    said = "Board archived." if archived else "Board back in the list."
    frame.queue_toast(said, ":material/archive:")


def _images(board: Board) -> None:
    service = frame.studio()
    if board.image_count == 0:
        st.info(
            "No images on this board yet. In the Gallery, use an image's Add to board.",
            icon=":material/photo_library:",
        )
        st.page_link("pages/gallery.py", label="Go to the Gallery", icon=":material/photo_library:")
        return
    choice = st.segmented_control(
        "Order", list(SORTS), default="Board order", required=True, key=SORT
    )
    sort = SORTS[choice or "Board order"]
    items = service.boards.board_images(board.id, sort=sort)
    if sort == "order" and len(items) > 1:
        with st.expander("Drag to reorder", icon=":material/drag_indicator:"):
            dragged = board_order.dragged_order(f"board-order-{board.id}", items)
        if dragged is not None:
            service.boards.reorder_board(board.id, dragged)
            st.rerun()
    said = service.boards.verdicts([item.image.id for item in items])
    if sort == "approvals":
        st.caption("Most approved first. Up and Down move images in the board's own order.")
    order = (
        [item.image.id for item in service.boards.board_images(board.id)] if sort != "order" else []
    )
    for index, item in enumerate(items):
        number = order.index(item.image.id) + 1 if order else index + 1
        _row(board, item, number, said[item.image.id], movable=sort == "order")


def _row(board: Board, item: GalleryItem, number: int, said: Verdicts, *, movable: bool) -> None:
    image, job = item.image, item.job
    name = f"image {number} “{excerpt(job.prompt, 60)}”"
    with st.container(border=True, key=f"board-image-{image.id}"):
        picture, about, verdict = st.columns([2, 3, 3], gap="medium")
        with picture:
            media.thumbnail(image, job.prompt)
        with about:
            st.text(f"{number}. {excerpt(job.prompt, 240)}")
            shape = (
                job.request.aspect_ratio or DEFAULT_ASPECT_RATIO
                if job.mode is Mode.GENERATE
                else f"{image.width} x {image.height}"
            )
            st.caption(shape)
            with st.container(horizontal=True):
                st.button(
                    "Up",
                    key=f"board-up-{image.id}",
                    icon=":material/arrow_upward:",
                    disabled=not movable or number == 1,
                    on_click=_move,
                    args=(board.id, image.id, -1),
                    help=f"Move {name} one place up",
                )
                st.button(
                    "Down",
                    key=f"board-down-{image.id}",
                    icon=":material/arrow_downward:",
                    disabled=not movable or number == board.image_count,
                    on_click=_move,
                    args=(board.id, image.id, 1),
                    help=f"Move {name} one place down",
                )
                gallery_view.open_button(image.id, name)
                st.button(
                    "Remove",
                    key=f"board-remove-{image.id}",
                    icon=":material/remove_circle_outline:",
                    on_click=_remove,
                    args=(board.id, image.id),
                    help=f"Take {name} off this board (it stays in the gallery)",
                )
        with verdict:
            verdicts.notes(said, image.id, scope="board", name=name)


def _move(board_id: int, image_id: int, offset: int) -> None:
    frame.studio().boards.move_in_board(board_id, image_id, offset)


def _remove(board_id: int, image_id: int) -> None:
    frame.studio().boards.remove_from_board(board_id, image_id)
    frame.queue_toast(
        "Taken off the board; it is still in the gallery.", ":material/remove_circle:"
    )
