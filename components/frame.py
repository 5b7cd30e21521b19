"""The frame every page shares: one studio per process, the sidebar, and the page guard."""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components.text import escape_markdown
from studio.credentials import Backend, Credentials
from studio.runtime import Studio, open_studio

APP_FILE = Path(__file__).resolve().parent.parent / "app.py"
KEY_FIELD = "foxapi_key"  # the sidebar's password field; its value lives in server memory only
_FRAME_RAN = "_frame_ran"
_TYPED_CREDENTIALS = "_typed_credentials"
_PENDING_TOASTS = "_pending_toasts"


@st.cache_resource(show_spinner="Starting the studio…", on_release=Studio.close)
def get_studio() -> Studio:
    """The process's one studio: store, archive, engine and, with no key, the demo backend."""
    return open_studio()


def mark_frame_ran() -> None:
    """Called by app.py just before it runs the page."""
    st.session_state[_FRAME_RAN] = True


def ensure_frame() -> None:
    """Make sure app.py framed this run of the page; if not, run the page through it.

    Until some session has called st.navigation, Streamlit serves `pages/*.py` by its old
    folder rules, so a first request to /gallery on a fresh server runs gallery.py alone:
    no page config, no sidebar. The page then runs app.py in its place, which frames it
    and runs it again, in the same script run: the URL, its query parameters and any
    widget event that triggered the run are all kept (st.switch_page would drop the event).
    """
    if st.session_state.pop(_FRAME_RAN, False):
        return
    runpy.run_path(str(APP_FILE), run_name="__main__")
    st.stop()


def session_credentials(studio: Studio) -> Credentials:
    """The key this browser session sends jobs with: a key typed in the sidebar, or the server's."""
    typed = str(st.session_state.get(KEY_FIELD) or "").strip()
    if studio.settings.api_key is not None or not typed:
        return studio.credentials
    credentials = st.session_state.get(_TYPED_CREDENTIALS)
    if not isinstance(credentials, Credentials) or credentials.api_key != typed:
        credentials = studio.typed_key_credentials(typed)
        st.session_state[_TYPED_CREDENTIALS] = credentials
    return credentials


def sidebar(studio: Studio) -> DeltaGenerator:
    """Draw the sidebar; return the slot that `counters` fills once the page has run."""
    with st.sidebar:
        backend = st.container()
        if studio.settings.api_key is None:
            st.text_input(
                "FoxAPI key",
                type="password",
                key=KEY_FIELD,
                placeholder="sk-…",
                help=(
                    "Used for this browser session only: kept in the server's memory, "
                    "never written anywhere. Leave it empty to keep using the demo backend."
                ),
            )
        credentials = session_credentials(studio)
        with backend:
            if credentials.backend is Backend.DEMO:
                st.info(
                    "Demo backend: images are drawn on this machine and nothing is billed",
                    icon=":material/science:",
                )
            else:
                whose = (
                    " with the key you entered (this browser session only)"
                    if credentials is not studio.credentials
                    else ""
                )
                st.success(
                    f"FoxAPI at {escape_markdown(credentials.host)}{whose}",
                    icon=":material/cloud_done:",
                )
        return st.empty()


def counters(studio: Studio, slot: DeltaGenerator) -> None:
    """Jobs in flight and images billed today, drawn after the page so a job it just
    sent is counted."""
    with slot.container():
        st.metric("Jobs in flight", studio.jobs_in_flight(), help="Jobs not finished yet")
        st.metric(
            "Images billed today",
            studio.images_billed_today(),
            help="Images FoxAPI accepted since midnight (demo images cost nothing).",
        )


def queue_toast(message: str, icon: str) -> None:
    """A toast for the next full run (a fragment that is about to rerun the app cannot show it)."""
    st.session_state.setdefault(_PENDING_TOASTS, []).append((message, icon))


def show_toasts() -> None:
    # Each toast leaves the queue only once shown: a run stopped by a newer one (a double
    # click) raises inside st.toast, and the newer run shows it instead.
    pending = st.session_state.get(_PENDING_TOASTS, [])
    while pending:
        message, icon = pending[0]
        st.toast(message, icon=icon)
        pending.pop(0)
