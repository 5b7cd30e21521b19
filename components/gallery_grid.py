"""The gallery grid: every archived image, newest first, 24 to a page.

The page number and filters live in the URL (`page`, `q`, `mode`, `fav`), so a link
reproduces the view. The grid reads the store on every full run and is never inside
a ticking fragment.
"""

from __future__ import annotations

import math

import streamlit as st

from components import compare, frame, media
from components.gallery_view import PAGE_SIZE, View, set_page, set_param
from components.lightbox import open_image
from components.text import MODE_LABELS, excerpt, plural
from studio import formats
from studio.records import GalleryFilter, GalleryItem
from studio.request import DEFAULT_ASPECT_RATIO, Mode

COLUMNS = 4
SEARCH_FIELD = "gallery_search"
MODE_FIELD = "gallery_mode"
FAVOURITES_FIELD = "gallery_favourites"
SELECT_PREFIX = "select-image-"
EMPTY = "No images yet. Generate your first on the Generate page."
_MODE_CHOICES = {"all": "Everything", "generate": "Text to image", "edit": "Edits"}


# Filters -------------------------------------------------------------------------


def filters(view: View) -> None:
    # The URL is the truth: the widgets show what it says, and write back when changed.
    st.session_state[SEARCH_FIELD] = view.search
    st.session_state[MODE_FIELD] = view.mode.value if view.mode else "all"
    st.session_state[FAVOURITES_FIELD] = view.favourites_only
    search, mode, favourites = st.columns([3, 2, 1], vertical_alignment="bottom")
    search.text_input(
        "Search prompts",
        key=SEARCH_FIELD,
        placeholder="fox, lighthouse, watercolour…",
        on_change=_search_changed,
    )
    mode.segmented_control(
        "Show",
        list(_MODE_CHOICES),
        format_func=_MODE_CHOICES.__getitem__,
        required=True,
        key=MODE_FIELD,
        on_change=_mode_changed,
    )
    favourites.toggle("Favourites only", key=FAVOURITES_FIELD, on_change=_favourites_changed)
    if view.search_cut:
        search.caption(f"The search was cut to its first {plural(len(view.search), 'character')}.")


def _search_changed() -> None:
    set_param("q", str(st.session_state.get(SEARCH_FIELD, "")).strip() or None)
    set_page(1)


def _mode_changed() -> None:
    choice = st.session_state.get(MODE_FIELD)
    set_param("mode", choice if choice in (Mode.GENERATE.value, Mode.EDIT.value) else None)
    set_page(1)


def _favourites_changed() -> None:
    set_param("fav", "1" if st.session_state.get(FAVOURITES_FIELD) else None)
    set_page(1)


def _clear_filters() -> None:
    for name in ("q", "mode", "fav", "page"):
        set_param(name, None)


# The grid ------------------------------------------------------------------------


def gallery(view: View) -> tuple[View, list[GalleryItem]]:
    """Filters, selection and the page of images the view asks for.

    Returns the view as shown (a page past the end shows the last page) and its items.
    """
    service = frame.jobs()
    everything = service.gallery_count(GalleryFilter())
    if everything == 0:
        st.info(EMPTY, icon=":material/photo_library:")
        st.page_link("pages/generate.py", label="Go to Generate", icon=":material/auto_awesome:")
        return view, []
    filters(view)
    selection_bar()
    filtered = view.filter != GalleryFilter()
    total = service.gallery_count(view.filter) if filtered else everything
    if total == 0:
        st.info("No images match these filters.", icon=":material/filter_alt_off:")
        st.button("Clear filters", key="gallery-clear-filters", on_click=_clear_filters)
        return view, []
    pages = math.ceil(total / PAGE_SIZE)
    if view.page > pages:  # an old link, or images deleted since: show the last page
        view = view.on_page(pages)
        set_page(view.page)
    items = service.gallery(view.filter, limit=PAGE_SIZE, offset=view.offset)
    st.caption(plural(total, "image"))
    for start in range(0, len(items), COLUMNS):
        columns = st.columns(COLUMNS)
        for offset, (column, item) in enumerate(
            zip(columns, items[start : start + COLUMNS], strict=False)
        ):
            with column:
                _tile(item, view.offset + start + offset)
    if pages > 1:
        _pagination(view.page, pages)
    return view, items


def _tile(item: GalleryItem, index: int) -> None:
    image, job = item.image, item.job
    with st.container(border=True):
        media.thumbnail(image, job.prompt)
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
        opener, selector = st.columns(2, vertical_alignment="center")
        opener.button(
            "Open",
            key=f"open-image-{image.id}",
            icon=":material/open_in_full:",
            on_click=open_image,
            args=(image.id, index),
        )
        selector.checkbox("Select", key=f"{SELECT_PREFIX}{image.id}", persist_state="session")


def _pagination(page: int, pages: int) -> None:
    previous, label, following = st.columns([1, 2, 1], vertical_alignment="center")
    previous.button(
        "Previous",
        key="gallery-previous",
        icon=":material/chevron_left:",
        disabled=page <= 1,
        on_click=set_page,
        args=(page - 1,),
    )
    label.markdown(f"Page {page} of {pages}", text_alignment="center")
    following.button(
        "Next",
        key="gallery-next",
        icon=":material/chevron_right:",
        icon_position="right",
        disabled=page >= pages,
        on_click=set_page,
        args=(page + 1,),
    )


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
    download, comparing, clear = st.columns([2, 1, 1])
    label = f"Download selected ({len(ids)})"
    explanation = (
        "A zip of the selected images, each with its prompt and settings inside, "
        "and a manifest.json listing them."
    )
    if ids:
        download.link_button(
            label,
            # A relative link: the zip streams from the studio's own route, one image at a time.
            frame.jobs().zip_link(ids, frame.viewer()),
            key="gallery-download-selected",
            icon=":material/download:",
            help=explanation,
        )
    else:
        # A disabled button, not a link to nowhere: assistive technology knows it is off.
        download.button(
            label, key="gallery-download-none", icon=":material/download:", disabled=True
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
    clear.button(
        "Clear selection",
        key="gallery-clear-selection",
        disabled=not ids,
        on_click=_clear_selection,
    )


def _clear_selection() -> None:
    for key in [key for key in st.session_state if str(key).startswith(SELECT_PREFIX)]:
        st.session_state[key] = False
