"""Presenter mode: one board full-screen, one image at a time, for a demo or a meeting.

/present?board=ID is the owner's view (app.py's sign-in gate comes first; a board that is
not theirs shows nothing) and reads only: nothing here can send a request or spend. The
images are fitted to the screen like the review's (never upscaled, letterboxed on the
page's background); Left and Right step, Captions shows or hides each prompt, and
nothing else is on screen: no sidebar, no header, no toolbar.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.util import calc_hash

from components import arrow_keys, frame, media
from components.state import Scoped, SessionValue
from components.text import escape_markdown

PATH = "present"  # the page's address: /present?board=ID
BOARD = "board"
SLIDE, BAR, HEADING = "present-slide", "present-bar", "present-heading"
NO_BOARD = "There is no board of yours here to present. Open one from Boards and press Present."
_index: Scoped[int] = Scoped("present_index", lambda: 0)  # per board
_captions = SessionValue("present_captions", lambda: True)
_STYLE = f"""<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
header[data-testid="stHeader"], [data-testid="stToolbar"] {{ display: none !important; }}
.stMainBlockContainer {{ padding: 0.5rem 1rem 0 !important; max-width: none !important; }}
/* The board's name for screen readers and the tab, not for the room. */
.st-key-{HEADING} {{
  position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap;
}}
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


def present() -> None:
    st.html(_STYLE)
    asked = st.query_params.get(BOARD, "")
    service = frame.studio()
    board = service.boards.board(int(asked)) if asked.isdigit() else None
    with st.container(key=HEADING):
        st.title(escape_markdown(board.name) if board is not None else "Present", anchor=False)
    if board is None:
        st.info(NO_BOARD, icon=":material/slideshow:")
        st.markdown("[Go to Boards](/boards)")
        return
    items = service.boards.board_images(board.id)
    if not items:
        st.info("This board has no images yet.", icon=":material/slideshow:")
        st.markdown(f"[Back to the board](/boards?board={board.id})")
        return
    index_of = _index(str(board.id))
    index = min(index_of.get(), len(items) - 1)
    step = arrow_keys.pressed("present-arrow-keys")
    if step and 0 <= index + step < len(items):
        index += step
        index_of.set(index)
    item = items[index]
    with st.container(key=SLIDE):
        media.original(item.image, alt=item.job.request.prompt)
    if _captions.get():
        with st.container(key="present-caption"):
            st.text(item.job.request.prompt)  # typed by people: plain text, never Markdown
    _bar(board.id, index, len(items))


def _bar(board_id: int, index: int, total: int) -> None:
    with st.container(key=BAR, horizontal=True, vertical_alignment="center"):
        st.button(
            "Previous",
            key="present-previous",
            icon=":material/chevron_left:",
            disabled=index <= 0,
            on_click=_index(str(board_id)).set,
            args=(index - 1,),
        )
        st.markdown(f"{index + 1} of {total}")
        st.button(
            "Next",
            key="present-next",
            icon=":material/chevron_right:",
            icon_position="right",
            disabled=index >= total - 1,
            on_click=_index(str(board_id)).set,
            args=(index + 1,),
        )
        st.toggle(
            "Captions",
            value=_captions.get(),
            key="present-captions",
            on_change=_toggle_captions,
        )
        st.markdown(f"[Exit](/boards?board={board_id})")


def _toggle_captions() -> None:
    _captions.set(bool(st.session_state.get("present-captions")))
