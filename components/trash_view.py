"""The Trash, in the Gallery (`/gallery?view=trash`): the images deleted lately, how
long each has left, restore one, several or all, and empty it once confirmed.

The Gallery's heading carries the way in, "Trash (N)", as a file manager's sidebar does;
the view itself is linkable, and Back returns to the gallery.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components import frame, media
from components.state import SessionValue
from components.text import escape_markdown, excerpt, plural
from studio.records import GalleryItem
from studio.service import Studio

VIEW, TRASH = "view", "trash"
PAGE_SIZE = 24
PAGE_KEY = "trash-page"
TILE_PX = 160  # a tile's width: two side by side on a phone, seven on a desktop
_HERE = Path(__file__).parent
_STYLE = f"<style>{(_HERE / 'trash.css').read_text()}</style>"
_selection: SessionValue[list[int]] = SessionValue("trash_selection", list)


def is_open() -> bool:
    return st.query_params.get(VIEW) == TRASH


def _open() -> None:
    st.query_params[VIEW] = TRASH


def _close() -> None:
    st.query_params.pop(VIEW, None)
    _selection.clear()


def heading(title: str) -> None:
    """The page's title with the way into the Trash beside it (its count when not empty)."""
    with st.container(
        horizontal=True, vertical_alignment="center", horizontal_alignment="distribute"
    ):
        st.title(title, width="content")  # first: a database that is away keeps the title
        count = frame.studio().gallery.trash.count()
        st.button(
            f"Trash ({count})" if count else "Trash",
            key="gallery-open-trash",
            icon=":material/delete:",
            type="tertiary",
            on_click=_open,
            help="Deleted images, kept a while so they can be restored",
        )


def days_line(days: int) -> str:
    if days <= 0:
        return "Deleted for good today"
    return f"Deleted for good in {plural(days, 'day')}"


def show() -> None:
    """The Trash this person may restore from: every image they may delete."""
    trash = frame.studio().gallery.trash
    st.html(_STYLE)
    st.button("Back to gallery", key="trash-back", icon=":material/arrow_back:", on_click=_close)
    st.title("Trash")
    st.caption(
        f"Deleted images wait here {plural(trash.keep_days, 'day')}, then they and their "
        "files are deleted for good. Restore puts an image back where it was, on its "
        "boards too."
    )
    total = trash.count()
    if total == 0:
        _selection.clear()
        st.info("The Trash is empty.", icon=":material/delete:")
        return
    page, pages = 1, -(-total // PAGE_SIZE)
    if pages > 1:
        if st.session_state.get(PAGE_KEY, 1) > pages:
            st.session_state[PAGE_KEY] = pages  # images restored or emptied since
        page = st.pagination(pages, key=PAGE_KEY)
    shown = trash.items(limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    _actions(total)
    asker = (frame.studio(), frame.viewer())
    with st.container(horizontal=True, gap="medium", key="trash-tiles"):
        for trashed in shown:
            _tile(trashed.item, trashed.days_left, asker)


def _actions(total: int) -> None:
    chosen = _selection.get()
    with st.container(
        horizontal=True, vertical_alignment="center", gap="small", key="trash-actions"
    ):
        st.markdown(
            f"**{len(chosen)} selected**" if chosen else "Nothing selected", width="content"
        )
        st.button(
            f"Restore selected ({len(chosen)})" if chosen else "Restore selected",
            key="trash-restore-selected",
            icon=":material/restore_from_trash:",
            disabled=not chosen,
            on_click=_restore,
            args=(chosen,),
        )
        st.button(
            f"Restore all ({total})",
            key="trash-restore-all",
            icon=":material/restore_page:",
            on_click=_restore,
            args=(None,),
        )
        with st.popover("Empty Trash…", icon=":material/delete_forever:"):
            st.markdown(
                f"Delete **{plural(total, 'image')}** for good? Their files are deleted "
                "too. This cannot be undone."
            )
            st.button(
                f"Delete {plural(total, 'image')} for good",
                key="trash-empty",
                type="primary",
                icon=":material/delete_forever:",
                on_click=_empty,
            )
        if chosen:
            st.button(
                "Clear selection",
                key="trash-clear-selection",
                type="tertiary",
                on_click=_selection.clear,
            )


def _tile(item: GalleryItem, days: int, asker: tuple[Studio, str]) -> None:
    image = item.image
    name = f"“{excerpt(item.job.prompt, 60)}”"
    with st.container(width=TILE_PX, key=f"trash-tile-{image.id}"):
        media.thumbnail(image, f"In the Trash: {name}", asker=asker)
        st.caption(f"{escape_markdown(excerpt(item.job.prompt, 40))}  \n{days_line(days)}")
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.checkbox(
                f"Select {name}",
                value=image.id in _selection.get(),
                key=f"trash-select-{image.id}",
                on_change=_selected,
                args=(image.id,),
                label_visibility="collapsed",
            )
            st.button(
                "Restore",
                key=f"trash-restore-{image.id}",
                icon=":material/restore_from_trash:",
                on_click=_restore,
                args=([image.id],),
                help=f"Put {name} back in the gallery",
            )


def _selected(image_id: int) -> None:
    chosen = set(_selection.get())
    if st.session_state.get(f"trash-select-{image_id}"):
        chosen.add(image_id)
    else:
        chosen.discard(image_id)
    _selection.set(sorted(chosen))


def _restore(image_ids: list[int] | None) -> None:
    restored = frame.studio().gallery.trash.restore(image_ids)
    _selection.set([i for i in _selection.get() if i not in set(restored)])
    frame.queue_toast(f"Restored {plural(len(restored), 'image')}.", ":material/undo:")


def _empty() -> None:
    gone = frame.studio().gallery.trash.delete_for_good()
    _selection.clear()
    frame.queue_toast(f"{plural(gone, 'image')} deleted for good.", ":material/delete_forever:")
