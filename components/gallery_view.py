"""Which part of the gallery is shown: widgets bound to the URL, so a link reproduces it.

`whose` (Mine or Everyone, with sign-in), `q` (search), `mode`, `fav`, `board`, `page`
and `image` (the open image) live in the query string. The filter widgets and the page
picker are bound to their parameters by Streamlit itself; a value a link holds that no
widget could (a page past the end, a search longer than any prompt, `²`) is made
sensible, never an error.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import streamlit as st

from components import frame
from components.state import SessionValue
from components.text import plural
from studio.records import GalleryFilter
from studio.request import Mode

PAGE_SIZE = 24
SEARCH, MODE, FAVOURITES, PAGE, IMAGE, WHOSE = "q", "mode", "fav", "page", "image", "whose"
PAGE_BELOW = "page-below"  # the picker under the grid, in step with `page`
BOARD = "board"  # `board=ID`: a bound widget would write the board's name instead
BOARD_CHOICE = "gallery-board"
ALL_IMAGES = 0  # the board picker's "All images"; boards' ids start at 1
MINE, EVERYONE = "Mine", "Everyone"
# A bound choice is written to the URL as its label, so the labels are the options.
EVERYTHING = "Everything"
MODE_CHOICES = {EVERYTHING: None, "Text to image": Mode.GENERATE, "Edits": Mode.EDIT}
_focus_after_close: SessionValue[int | None] = SessionValue("gallery_focus", lambda: None)
_NUMBER = re.compile(r"[0-9]{1,9}")  # ASCII digits only: int() takes "²", a link may hold it


@dataclass(frozen=True)
class View:
    search: str = ""
    mode: Mode | None = None
    favourites_only: bool = False
    page: int = 1
    mine: bool = False  # with sign-in: only the viewer's own images
    board: int | None = None  # only this board's images

    @property
    def filter(self) -> GalleryFilter:
        return GalleryFilter(
            self.search, self.mode, self.favourites_only, mine=self.mine, board_id=self.board
        )

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE


def filters() -> View:
    """Whose images, the search, mode and favourites widgets; the view they ask for."""
    mine = whose_images()
    search, mode, favourites = st.columns([3, 2, 1], vertical_alignment="bottom")
    typed = search.text_input(
        "Search prompts",
        key=SEARCH,
        bind="query-params",
        placeholder="e.g. fox, lighthouse, watercolour",
        on_change=first_page,
    ).strip()
    choice = mode.segmented_control(
        "Show",
        list(MODE_CHOICES),
        required=True,
        default=EVERYTHING,
        key=MODE,
        bind="query-params",
        on_change=first_page,
    )
    favourites_only = favourites.toggle(
        "Favourites only", key=FAVOURITES, bind="query-params", on_change=first_page
    )
    board_id = board_filter()
    # No prompt is longer than a prompt may be, so neither is a useful search.
    limit = frame.studio().settings.studio_max_prompt_chars
    if len(typed) > limit:
        search.caption(f"The search was cut to its first {plural(limit, 'character')}.")
    return View(
        typed[:limit],
        MODE_CHOICES.get(choice or EVERYTHING),
        bool(favourites_only),
        mine=mine,
        board=board_id,
    )


def board_filter() -> int | None:
    """The board the gallery shows alone (`board=ID` in the URL), among the person's own."""
    service = frame.studio()
    boards = {board.id: board.name for board in service.boards.boards()}
    asked = st.query_params.get(BOARD, "")
    board_id = int(asked) if _NUMBER.fullmatch(asked) else None
    if board_id is not None and board_id not in boards:
        boards |= {board.id: board.name for board in service.boards.boards(archived=True)}
    if board_id not in boards:
        board_id = None  # not a board of theirs: the whole gallery
        st.query_params.pop(BOARD, None)
    if not boards:
        return None
    # The URL says which board, so a link (and Back) sets the picker, not the other way.
    st.session_state[BOARD_CHOICE] = board_id or ALL_IMAGES
    picker, _rest = st.columns([1, 2])
    picker.selectbox(
        "Board",
        [ALL_IMAGES, *boards],
        key=BOARD_CHOICE,
        format_func=lambda choice: boards.get(choice, "All images"),
        on_change=_board_chosen,
    )
    return board_id


def _board_chosen() -> None:
    chosen = st.session_state.get(BOARD_CHOICE)
    if not chosen:
        st.query_params.pop(BOARD, None)
    else:
        st.query_params[BOARD] = str(chosen)
    first_page()


def whose_images() -> bool:
    """Mine or Everyone, for a signed-in person; True for Mine. The gallery opens on Mine;
    with private galleries (and no admin rights) there is no Everyone to choose."""
    service = frame.studio()
    if not service.person.signed_in:
        return False  # one person, who sees everything
    if not service.gallery.sees_everyone:
        return True
    choice = st.segmented_control(
        "Whose images",
        [MINE, EVERYONE],
        required=True,
        default=MINE,
        key=WHOSE,
        bind="query-params",
        on_change=first_page,
        label_visibility="collapsed",
    )
    return choice != EVERYONE


def page_picker(view: View, total: int) -> View:
    """The page picker above the grid (bound to `page` in the URL); the view on its page."""
    pages = page_count(total)
    if pages == 1:
        return view
    asked = st.query_params.get(PAGE, "")
    # A page past the end (an old link, or images deleted since) shows the last page.
    past_the_end = _NUMBER.fullmatch(asked) is not None and int(asked) > pages
    page = st.pagination(pages, default=pages if past_the_end else 1, key=PAGE, bind="query-params")
    return replace(view, page=page)


def page_picker_below(view: View, total: int) -> None:
    """The same picker under the grid: where a person who scrolled to the end is."""
    if page_count(total) == 1:
        return
    # One picker a page, so it starts on the page the one above (and the URL) holds.
    key = f"{PAGE_BELOW}-{view.page}"
    st.pagination(
        page_count(total), default=view.page, key=key, on_change=_paged_below, args=(key,)
    )


def _paged_below(key: str) -> None:
    go_to_page(int(st.session_state[key]))


def page_count(total: int) -> int:
    return max(1, math.ceil(total / PAGE_SIZE))


def first_page() -> None:
    """A changed filter starts again at page 1."""
    st.session_state[PAGE] = 1


def go_to_page(page: int) -> None:
    st.session_state[PAGE] = page


def clear_filters() -> None:
    st.session_state[SEARCH] = ""
    st.session_state[MODE] = EVERYTHING
    st.session_state[FAVOURITES] = False
    st.query_params.pop(BOARD, None)
    first_page()


def page_of(index: int) -> int:
    return index // PAGE_SIZE + 1


# The open image --------------------------------------------------------------------


def open_image_id() -> int | None:
    """The image the URL opens in the dialog (`/gallery?image=ID`), if any."""
    asked = st.query_params.get(IMAGE, "")
    return int(asked) if _NUMBER.fullmatch(asked) else None


def open_image(image_id: int) -> None:
    st.query_params[IMAGE] = str(image_id)


def open_button(image_id: int, name: str) -> None:
    """An image's Open (a board's rows): where the focus goes back when the dialog closes."""
    st.button(
        "Open",
        key=open_button_key(image_id),
        icon=":material/open_in_full:",
        on_click=open_image,
        args=(image_id,),
        help=f"Open {name} large, with its settings",
    )


def open_button_key(image_id: int | None) -> str | None:
    return None if image_id is None else f"open-image-{image_id}"


def close_image() -> None:
    closed = open_image_id()
    st.query_params.pop(IMAGE, None)
    if closed is not None:
        # Keyboard users land back on the tile they opened it from, not at the page's top.
        _focus_after_close.set(closed)


def take_focus() -> int | None:
    """The image whose tile or Open button takes the keyboard focus, once: the one a
    dialog just closed on."""
    image_id = _focus_after_close.get()
    _focus_after_close.clear()
    return image_id
