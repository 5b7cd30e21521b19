"""The frame every page shares: one studio per process, the sidebar, and the page guard."""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components.state import SessionValue
from components.text import escape_markdown
from studio.credentials import Backend, Credentials
from studio.errors import StorageError
from studio.jobs import JobService
from studio.runtime import Studio, check_start_up, open_studio
from studio.settings import Settings

APP_FILE = Path(__file__).resolve().parent.parent / "app.py"
LOCAL_VIEWER = "local"  # the one person of a studio without sign-in
KEY_FIELD = "foxapi_key"  # the sidebar's password field; its value lives in server memory only
_frame_ran = SessionValue("_frame_ran", lambda: False)
_typed_credentials: SessionValue[Credentials | None] = SessionValue(
    "_typed_credentials", lambda: None
)
_pending_toasts: SessionValue[list[tuple[str, str]]] = SessionValue("_pending_toasts", list)


@st.cache_resource(show_spinner="Starting the studio…", on_release=Studio.close)
def get_studio() -> Studio:
    """The process's one studio: store, archive, engine and, with no key, the demo backend."""
    return open_studio()


def exit_unless_startable() -> None:
    """At server start, before anything listens: one clear line instead of a traceback."""
    try:
        check_start_up(Settings())
    except StorageError as exc:
        raise SystemExit(str(exc)) from None


def jobs() -> JobService:
    """The jobs service: everything pages and components ask of the core."""
    return get_studio().jobs


def viewer() -> str:
    """Who is looking: the person links to images are signed for."""
    return LOCAL_VIEWER


def mark_frame_ran() -> None:
    """Called by app.py just before it runs the page."""
    _frame_ran.set(True)


def ensure_frame() -> None:
    """Make sure app.py framed this run of the page; if not, run the page through it.

    Until some session has called st.navigation, Streamlit serves `pages/*.py` by its old
    folder rules, so a first request to /gallery on a fresh server runs gallery.py alone:
    no page config, no sidebar. The page then runs app.py in its place, which frames it
    and runs it again, in the same script run: the URL, its query parameters and any
    widget event that triggered the run are all kept (st.switch_page would drop the event).
    """
    if _frame_ran.get():
        _frame_ran.clear()
        return
    runpy.run_path(str(APP_FILE), run_name="__main__")
    st.stop()


def session_credentials() -> Credentials:
    """The key this browser session sends jobs with: a key typed in the sidebar, or the server's."""
    service = jobs()
    typed = str(st.session_state.get(KEY_FIELD) or "").strip()
    if service.server_has_key or not typed:
        return service.server_credentials
    credentials = _typed_credentials.get()
    if credentials is None or credentials.api_key != typed:
        credentials = service.typed_key(typed)
        _typed_credentials.set(credentials)
    return credentials


def sidebar() -> DeltaGenerator:
    """Draw the sidebar; return the slot that `counters` fills once the page has run."""
    service = jobs()
    with st.sidebar:
        backend = st.container()
        if not service.server_has_key:
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
        credentials = session_credentials()
        warning = service.exposure_warning(st.get_option("server.address"))
        if warning is not None:
            st.warning(warning, icon=":material/warning:")
        with backend:
            if credentials.backend is Backend.DEMO:
                st.info(
                    "Demo backend: images are drawn on this machine and nothing is billed",
                    icon=":material/science:",
                )
            else:
                whose = (
                    " with the key you entered (this browser session only)"
                    if credentials is not service.server_credentials
                    else ""
                )
                st.success(
                    f"FoxAPI at {escape_markdown(credentials.host)}{whose}",
                    icon=":material/cloud_done:",
                )
        return st.empty()


def counters(slot: DeltaGenerator) -> None:
    """Jobs in flight and images billed today, drawn after the page so a job it just
    sent is counted."""
    service = jobs()
    with slot.container():
        st.metric("Jobs in flight", service.count_in_flight(), help="Jobs not finished yet")
        st.metric(
            "Images billed today",
            service.images_billed_today(),
            help="Images FoxAPI accepted since midnight (demo images cost nothing).",
        )


def queue_toast(message: str, icon: str) -> None:
    """A toast for the next full run (a fragment that is about to rerun the app cannot show it)."""
    pending = _pending_toasts.get()
    pending.append((message, icon))
    _pending_toasts.set(pending)


def show_toasts() -> None:
    # Each toast leaves the queue only once shown: a run stopped by a newer one (a double
    # click) raises inside st.toast, and the newer run shows it instead.
    pending = _pending_toasts.get()
    while pending:
        message, icon = pending[0]
        st.toast(message, icon=icon)
        pending.pop(0)
