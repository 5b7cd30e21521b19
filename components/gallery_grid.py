"""The gallery grid: every archived image, newest first, 24 to a page.

The page number and filters live in the URL (components/gallery_view.py), so a link
reproduces the view. The page of images is one element, drawn by the browser
(gallery_tiles.js): a page change or a selection sends one message, not 200. A tile's
picture opens the image dialog, its corner checkbox selects (shift-click for a range),
and its Add to board asks for a board; the selection bar follows the person down the page.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import streamlit as st

from components import (
    add_to_board,
    compare,
    frame,
    gallery_view,
    media,
    present,
    undo_notice,
    verdicts,
)
from components.component_data import component_data
from components.gallery_view import PAGE_SIZE, View
from components.state import SessionValue
from components.text import MODE_LABELS, excerpt, plural
from studio import formats
from studio.people import NotAllowed
from studio.records import NO_VERDICTS, GalleryFilter, GalleryItem, Verdicts
from studio.request import DEFAULT_ASPECT_RATIO, Mode
from studio.service import Studio

TILES_KEY = "gallery-tiles"
EMPTY = "No images yet. Generate your first on the Generate page."
ALL_IN_TRASH = (
    "The gallery is empty, with {images} in the Trash: open it beside the title to restore."
)
_HERE = Path(__file__).parent
_tiles = st.components.v2.component(
    "image_studio.gallery_tiles",
    css=(_HERE / "gallery_tiles.css").read_text(),
    js=(_HERE / "gallery_tiles.js").read_text(),
)
_STYLE = f"<style>{(_HERE / 'gallery.css').read_text()}</style>"
# Images selected on any page of the gallery in this session.
_selection: SessionValue[list[int]] = SessionValue("gallery_selection", list)


def gallery() -> View:
    """Filters, selection, the page of images the URL asks for, and its pagers.

    Returns the view as shown: the image dialog steps through the same images.
    """
    service = frame.studio()
    st.html(_STYLE)
    everything = service.gallery.gallery_count(GalleryFilter())
    if everything == 0:
        trashed = service.gallery.trash.count()
        if trashed:  # the Trash (N) button beside the title opens it
            st.info(ALL_IN_TRASH.format(images=plural(trashed, "image")), icon=":material/delete:")
            return View()
        st.info(EMPTY, icon=":material/photo_library:")
        st.page_link("pages/generate.py", label="Go to Generate", icon=":material/auto_awesome:")
        return View()
    view = gallery_view.filters()
    selection_bar()
    filtered = view.filter != GalleryFilter()  # Mine is a filter too
    total = service.gallery.gallery_count(view.filter) if filtered else everything
    if total == 0:
        st.info("No images match these filters.", icon=":material/filter_alt_off:")
        st.button("Clear filters", key="gallery-clear-filters", on_click=gallery_view.clear_filters)
        return view
    count, pager = st.columns([1, 5], vertical_alignment="center")
    count.caption(plural(total, "image"))
    with pager:
        view = gallery_view.page_picker(view, total)
    items = service.gallery.gallery(view.filter, limit=PAGE_SIZE, offset=view.offset)
    said = service.boards.verdicts([item.image.id for item in items])
    asker = (service, frame.viewer())  # asked once a page: the tiles' links need both
    _tiles(
        key=TILES_KEY,
        data=component_data(
            {
                "label": f"Images, page {view.page}",
                "page": view.page,
                "images": [
                    _tile(item, said.get(item.image.id, NO_VERDICTS), asker) for item in items
                ],
                "selected": selected_ids(),
                "focus": gallery_view.take_focus(),
            }
        ),
        on_open_change=_opened,
        on_select_change=_selected,
        on_board_change=_board_asked,
    )
    gallery_view.page_picker_below(view, total)
    return view


def _tile(item: GalleryItem, said: Verdicts, asker: tuple[Studio, str]) -> dict[str, Any]:
    """What the browser draws for one image: plain data, its texts set as text."""
    image, job = item.image, item.job
    shape = (
        job.request.aspect_ratio or DEFAULT_ASPECT_RATIO
        if job.mode is Mode.GENERATE
        else f"{image.width} x {image.height}"
    )
    details = [MODE_LABELS[job.mode], shape, formats.label(image.format)]
    if image.favourite:
        details.append("★ Favourite")
    details.append(verdicts.counts_line(said, icons=False))
    return {
        "id": image.id,
        "url": media.thumbnail_url(image, asker=asker),
        "prompt": job.prompt,
        "name": f"“{excerpt(job.prompt, 60)}”",
        "excerpt": excerpt(job.prompt, 90),
        "details": " · ".join(part for part in details if part),
        "width": image.width,
        "height": image.height,
    }


def _event(name: str) -> Any:
    return (st.session_state.get(TILES_KEY) or {}).get(name)


def _opened() -> None:
    image_id = _event("open")
    if isinstance(image_id, int):
        gallery_view.open_image(image_id)


def _selected() -> None:
    """A tile's checkbox, or a shift-click's range: those images in or out of the selection."""
    event = _event("select")
    if not isinstance(event, dict):
        return
    ids = {number for number in event.get("ids") or [] if isinstance(number, int)}
    chosen = set(_selection.get())
    _selection.set(sorted(chosen | ids if event.get("selected") else chosen - ids))


def _board_asked() -> None:
    image_id = _event("board")
    if isinstance(image_id, int):
        add_to_board.ask([image_id])


# Selection -----------------------------------------------------------------------


def selected_ids() -> list[int]:
    """Images selected on any page of the gallery in this session."""
    return sorted(_selection.get())


def selection_bar() -> None:
    """What can be done with the selection; once anything is selected, the bar stays at the
    top of the window as the person scrolls (gallery.css)."""
    ids = selected_ids()
    bar = st.container(
        key="gallery-selection",
        horizontal=True,
        vertical_alignment="center",
        gap="small",
    )
    with bar:
        st.markdown(f"**{len(ids)} selected**" if ids else "Nothing selected", width="content")
        st.button(
            "Compare",
            key="gallery-compare",
            icon=":material/compare:",
            disabled=not compare.can_compare(len(ids)),
            on_click=compare.start,
            args=(ids,),
            help=f"Side by side, {compare.MIN_IMAGES} to {compare.MAX_IMAGES} selected images",
        )
        st.button(
            "Add to board",
            key="gallery-add-selected-to-board",
            icon=":material/library_add:",
            disabled=not ids,
            on_click=add_to_board.ask,
            args=(ids,),
            help="Add the selected images to one of your boards, or to a new one",
        )
        with st.popover("Contact sheet", icon=":material/grid_view:", disabled=not ids):
            for kind in ("png", "pdf"):
                st.download_button(
                    kind.upper(),
                    data=partial(frame.studio().boards.selection_contact_sheet, ids, kind),
                    file_name=f"image-studio-selection.{kind}",
                    mime="application/pdf" if kind == "pdf" else "image/png",
                    key=f"gallery-sheet-{kind}",
                    icon=":material/download:",
                    on_click="ignore",
                    help="The selected images on one sheet, numbered, with prompts and ratios",
                )
        _download_selected(ids)
        _present_selected(ids)
        st.button(
            "Delete",
            key="gallery-delete-selected",
            icon=":material/delete:",
            disabled=not ids,
            on_click=_delete_selected,
            args=(ids,),
            help="Move the selected images to the Trash; Undo follows",
        )
        if ids:  # short labels keep the bar on one row at 1440 px
            st.button(
                "Clear",
                key="gallery-clear-selection",
                type="tertiary",
                icon=":material/close:",
                on_click=_clear_selection,
                help="Clear the selection",
            )


def _present_selected(ids: list[int]) -> None:
    if 0 < len(ids) <= present.MAX_IMAGES:
        st.link_button(
            "Present",
            present.selection_link(ids),
            key="gallery-present-selected",
            icon=":material/slideshow:",
            help="The selected images full-screen in a new tab, one at a time",
        )
    else:  # a disabled button, as for Download: not a link to nowhere
        st.button(
            "Present",
            key="gallery-present-none",
            icon=":material/slideshow:",
            disabled=True,
            help=f"Select 1 to {present.MAX_IMAGES} images to present them full-screen",
        )


def _download_selected(ids: list[int]) -> None:
    label = f"Download ({len(ids)})"
    if not ids:
        # A disabled button, not a link to nowhere: assistive technology knows it is off.
        st.button(label, key="gallery-download-none", icon=":material/download:", disabled=True)
        return
    st.link_button(
        label,
        # A relative link: the zip streams from the studio's own route, one image at a time.
        frame.studio().gallery.zip_link(ids, frame.viewer()),
        key="gallery-download-selected",
        icon=":material/download:",
        help=(
            "A zip of the selected images, each with its prompt and settings inside, "
            "and a manifest.json listing them."
        ),
    )


def _delete_selected(ids: list[int]) -> None:
    try:
        moved = frame.studio().gallery.trash.move(ids)
    except NotAllowed as exc:
        frame.queue_toast(exc.message, ":material/block:")
        return
    _selection.clear()
    undo_notice.offer(moved)


def _clear_selection() -> None:
    _selection.clear()
