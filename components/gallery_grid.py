"""The gallery grid: every archived image, newest first, 24 to a page.

The page number and filters live in the URL (components/gallery_view.py), so a link
reproduces the view. The grid reads the store on every full run and is never inside
a ticking fragment.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from components import add_to_board, compare, frame, gallery_view, media, verdicts
from components.gallery_view import PAGE_SIZE, View
from components.text import MODE_LABELS, excerpt, plural
from studio import formats
from studio.records import NO_VERDICTS, GalleryFilter, GalleryItem, Verdicts
from studio.request import DEFAULT_ASPECT_RATIO, Mode
from studio.service import Studio

COLUMNS = 4
SELECT_PREFIX = "select-image-"
EMPTY = "No images yet. Generate your first on the Generate page."


def gallery() -> View:
    """Filters, selection, the page of images the URL asks for, and the page picker.

    Returns the view as shown: the image dialog steps through the same images.
    """
    service = frame.studio()
    everything = service.gallery.gallery_count(GalleryFilter())
    if everything == 0:
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
    st.caption(plural(total, "image"))
    grid = st.container()  # filled once the picker under it has said which page
    view = gallery_view.page_picker(view, total)
    items = service.gallery.gallery(view.filter, limit=PAGE_SIZE, offset=view.offset)
    said = service.boards.verdicts([item.image.id for item in items])
    asker = (service, frame.viewer())  # asked once a page: the tiles' links need both
    with grid:
        for start in range(0, len(items), COLUMNS):
            for column, item in zip(
                st.columns(COLUMNS), items[start : start + COLUMNS], strict=False
            ):
                with column:
                    _tile(item, said.get(item.image.id, NO_VERDICTS), asker)
    return view


def _tile(item: GalleryItem, said: Verdicts, asker: tuple[Studio, str]) -> None:
    image, job = item.image, item.job
    name = f"“{excerpt(job.prompt, 60)}”"
    with st.container(border=True, key=f"tile-{image.id}"):
        media.thumbnail(image, job.prompt, asker=asker)
        st.text(excerpt(job.prompt, 90), wrap=False)
        shape = (
            job.request.aspect_ratio or DEFAULT_ASPECT_RATIO
            if job.mode is Mode.GENERATE
            else f"{image.width} x {image.height}"
        )
        details = [MODE_LABELS[job.mode], shape, formats.label(image.format)]
        if image.favourite:
            details.append(":material/star: Favourite")
        st.caption(" · ".join(part for part in details if part))
        verdicts.summary(said)
        # One row, not two columns: each block is a message to the browser, 24 times a page.
        actions = st.container(
            horizontal=True, horizontal_alignment="distribute", vertical_alignment="center"
        )
        with actions:
            gallery_view.open_button(image.id, name)
        actions.checkbox(
            "Select",
            key=f"{SELECT_PREFIX}{image.id}",
            persist_state="session",
            help=f"Select {name} to download or compare it",
        )
        add_to_board.tile_button(image.id, name=name)


# Selection -----------------------------------------------------------------------


def selected_ids() -> list[int]:
    """Images ticked on any page of the gallery in this session."""
    return sorted(
        int(key.removeprefix(SELECT_PREFIX))
        for key, ticked in st.session_state.items()
        if isinstance(key, str) and key.startswith(SELECT_PREFIX) and ticked is True
    )


def selection_bar() -> None:
    ids = selected_ids()
    download, sheet, comparing, boarding, clear = st.columns([2, 1, 1, 1, 1])
    label = f"Download selected ({len(ids)})"
    explanation = (
        "A zip of the selected images, each with its prompt and settings inside, "
        "and a manifest.json listing them."
    )
    if ids:
        download.link_button(
            label,
            # A relative link: the zip streams from the studio's own route, one image at a time.
            frame.studio().gallery.zip_link(ids, frame.viewer()),
            key="gallery-download-selected",
            icon=":material/download:",
            help=explanation,
        )
    else:
        # A disabled button, not a link to nowhere: assistive technology knows it is off.
        download.button(
            label, key="gallery-download-none", icon=":material/download:", disabled=True
        )
    with sheet, st.popover("Contact sheet", icon=":material/grid_view:", disabled=not ids):
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
    comparing.button(
        "Compare",
        key="gallery-compare",
        icon=":material/compare:",
        disabled=not compare.can_compare(len(ids)),
        on_click=compare.start,
        args=(ids,),
        help=f"Side by side, {compare.MIN_IMAGES} to {compare.MAX_IMAGES} selected images",
    )
    boarding.button(
        "Add to board",
        key="gallery-add-selected-to-board",
        icon=":material/library_add:",
        disabled=not ids,
        on_click=add_to_board.ask,
        args=(ids,),
        help="Add the selected images to one of your boards, or to a new one",
    )
    clear.button(
        "Clear selection",
        key="gallery-clear-selection",
        disabled=not ids,
        on_click=_clear_selection,
    )


def _clear_selection() -> None:
    for key in [key for key in st.session_state if str(key).startswith(SELECT_PREFIX)]:
        st.session_state[key] = False
