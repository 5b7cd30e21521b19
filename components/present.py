"""Presenter mode: a board, or a gallery selection, full-screen, one image at a time, for
a demo or a meeting.

/present?board=ID and /present?images=ID,ID,... are the owner's view (app.py's sign-in
gate comes first; a board or image that is not theirs shows nothing) and read only:
nothing here can send a request or spend. The images are fitted to the screen like the
review's (never upscaled, letterboxed on the page's background); Left and Right (or a
swipe) step, Play advances on its own every few seconds and starts again from the first
after the last (a screen left running at a stand keeps going), Captions shows or hides
each prompt, and nothing else is on screen: no sidebar, no header, no toolbar.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.util import calc_hash

from components import arrow_keys, auto_advance, exit_link, frame, media
from components.state import Scoped, SessionValue
from components.text import escape_markdown
from studio.records import GalleryItem

PATH = "present"  # the page's address: /present?board=ID or /present?images=3,5,8
BOARD = "board"
IMAGES = "images"
MAX_IMAGES = 100  # a selection presented by its address; a board has no such limit
SLIDE, BAR, HEADING = "present-slide", "present-bar", "present-heading"
SECONDS = (3, 5, 10, 20, 30)  # the auto-advance intervals offered
NO_BOARD = "There is no board of yours here to present. Open one from Boards and press Present."
NO_IMAGES = (
    "None of these images is yours to present. Select some in the Gallery and press Present."
)
TOO_MANY = f"A selection presents up to {MAX_IMAGES} images. Select fewer, or put them on a board."
_index: Scoped[int] = Scoped("present_index", lambda: 0)  # per board or selection
_captions = SessionValue("present_captions", lambda: True)
_playing = SessionValue("present_playing", lambda: False)
_seconds = SessionValue("present_seconds", lambda: 5)
_STYLE = f"""<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
header[data-testid="stHeader"], [data-testid="stToolbar"] {{ display: none !important; }}
.stMainBlockContainer {{ padding: 0.5rem 1rem 0 !important; max-width: none !important; }}
/* The show's name for screen readers and the tab, not for the room. */
.st-key-{HEADING} {{
  position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap;
}}
/* Components with nothing to show (the keys and swipes, the timer) take no room. */
.st-key-present-arrow-keys, .st-key-present-auto-advance {{ display: none; }}
.st-key-{SLIDE}, .st-key-present-caption {{ align-items: center; text-align: center; }}
.st-key-{SLIDE} [data-testid="stElementContainer"] {{ width: auto !important; max-width: 100%; }}
.st-key-{SLIDE} img {{
  display: block; margin: 0 auto; width: auto !important; height: auto !important;
  max-width: 100% !important; object-fit: contain;
  max-height: calc(100vh - var(--present-below)); max-height: calc(100dvh - var(--present-below));
}}
.stMain {{ --present-below: 5.5rem; }}
.stMain:has(.st-key-present-caption) {{ --present-below: 8rem; }}
@media (max-width: 640px) {{
  .stMain {{ --present-below: 9rem; }}
  .stMain:has(.st-key-present-caption) {{ --present-below: 12rem; }}
}}
[data-testid="stLayoutWrapper"]:has(> .st-key-{BAR}) {{ position: sticky; bottom: 0; }}
.st-key-{BAR} {{ justify-content: center; background: var(--studio-background); }}
</style>"""


@dataclass(frozen=True)
class _Show:
    """What the address asks to present: its name, images, way back, and session scope."""

    name: str
    items: list[GalleryItem]
    back: str  # the page Exit returns to
    scope: str  # where the place in the show is kept for this session


def asked_for() -> bool:
    """Whether this run is the presenter's page: its address on a page load, its page's
    hash (as st.navigation makes it from the address) on a rerun from a click or a key."""
    context = get_script_run_ctx()
    if context is None:
        return False
    manager = context.pages_manager
    return manager.intended_page_name == PATH or manager.intended_page_script_hash == calc_hash(
        PATH
    )


def selection_link(image_ids: list[int]) -> str:
    """The address that presents these gallery images, in this order."""
    return f"/{PATH}?{IMAGES}={','.join(map(str, image_ids))}"


def asked_images(value: str) -> list[int] | None:
    """The image ids an `images` parameter names, once each, in its order: [] for
    nothing usable, None for more than a selection presents."""
    ids = list(dict.fromkeys(int(part) for part in value.split(",") if part.strip().isdigit()))
    return ids if len(ids) <= MAX_IMAGES else None


def present() -> None:
    st.html(_STYLE)
    show = _asked_show()
    if show is None:
        return
    with st.container(key=HEADING):
        st.title(escape_markdown(show.name), anchor=False)
    if not show.items:
        st.info("There are no images here yet.", icon=":material/slideshow:")
        exit_link.show(show.back, key="present-exit", label="Go back")
        return
    total = len(show.items)
    index_of = _index(show.scope)
    index = min(index_of.get(), total - 1)
    step = arrow_keys.pressed("present-arrow-keys")
    if step and 0 <= index + step < total:
        index += step
    every = _seconds.get() if _playing.get() else None
    if auto_advance.due("present-auto-advance", every=every, at=index):
        index = (index + 1) % total  # after the last, the first again
    index_of.set(index)
    item = show.items[index]
    with st.container(key=SLIDE):
        media.original(item.image, alt=item.job.request.prompt)
    if _captions.get():
        with st.container(key="present-caption"):
            st.text(item.job.request.prompt)  # typed by people: plain text, never Markdown
    _bar(show, index)


def _asked_show() -> _Show | None:
    """The board or selection the address names, or None once the page said why not."""
    service = frame.studio()
    asked = st.query_params.get(BOARD, "")
    if asked or IMAGES not in st.query_params:
        board = service.boards.board(int(asked)) if asked.isdigit() else None
        if board is None:
            _nothing(NO_BOARD, "/boards", "Go to Boards")
            return None
        items = service.boards.board_images(board.id)
        return _Show(board.name, items, f"/boards?board={board.id}", f"board:{board.id}")
    ids = asked_images(st.query_params.get(IMAGES, ""))
    if ids is None:
        _nothing(TOO_MANY, "/gallery", "Go to the Gallery")
        return None
    items = service.gallery.images(ids)
    if not items:
        _nothing(NO_IMAGES, "/gallery", "Go to the Gallery")
        return None
    shown = ",".join(str(item.image.id) for item in items)
    return _Show("Selected images", items, "/gallery", f"images:{shown}")


def _nothing(sentence: str, back: str, label: str) -> None:
    with st.container(key=HEADING):
        st.title("Present", anchor=False)
    st.info(sentence, icon=":material/slideshow:")
    exit_link.show(back, key="present-exit", label=label)


def _bar(show: _Show, index: int) -> None:
    total = len(show.items)
    place = _index(show.scope)
    with st.container(key=BAR, horizontal=True, vertical_alignment="center"):
        st.button(
            "Previous",
            key="present-previous",
            icon=":material/chevron_left:",
            disabled=index <= 0,
            on_click=place.set,
            args=(index - 1,),
        )
        st.markdown(f"{index + 1} of {total}")
        st.button(
            "Next",
            key="present-next",
            icon=":material/chevron_right:",
            icon_position="right",
            disabled=index >= total - 1,
            on_click=place.set,
            args=(index + 1,),
        )
        playing = _playing.get()
        st.button(
            "Pause" if playing else "Play",
            key="present-play",
            icon=":material/pause:" if playing else ":material/play_arrow:",
            disabled=total < 2,
            on_click=_playing.set,
            args=(not playing,),
            help="Shows the next image on its own every few seconds, "
            "and the first again after the last",
        )
        st.selectbox(
            "Seconds per image",
            SECONDS,
            index=SECONDS.index(_seconds.get()),
            format_func=lambda seconds: f"{seconds} s",
            key="present-seconds",
            on_change=_choose_seconds,
            label_visibility="collapsed",
            width=90,
        )
        st.toggle(
            "Captions",
            value=_captions.get(),
            key="present-captions",
            on_change=_toggle_captions,
        )
        exit_link.show(show.back, key="present-exit")


def _choose_seconds() -> None:
    chosen = st.session_state.get("present-seconds")
    if chosen in SECONDS:
        _seconds.set(chosen)


def _toggle_captions() -> None:
    _captions.set(bool(st.session_state.get("present-captions")))
