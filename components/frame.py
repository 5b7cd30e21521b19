"""The frame every page shares: one studio per process, who is signed in, the sidebar,
and the page guard."""

from __future__ import annotations

import runpy
from collections.abc import Mapping
from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components import review_news, tab_title
from components.state import SessionValue
from components.text import escape_markdown
from studio.credentials import Backend, Credentials
from studio.errors import StorageError
from studio.people import LOCAL, Person
from studio.records import GalleryFilter
from studio.runtime import Runtime, check_start_up, open_studio
from studio.service import Studio
from studio.settings import Settings

APP_FILE = Path(__file__).resolve().parent.parent / "app.py"
KEY_FIELD = "foxapi_key"  # the sidebar's password field; its value lives in server memory only
_frame_ran = SessionValue("_frame_ran", lambda: False)
# Without sign-in a typed key serves the browser session that typed it, as it always did.
_typed_credentials: SessionValue[Credentials | None] = SessionValue(
    "_typed_credentials", lambda: None
)
_pending_toasts: SessionValue[list[tuple[str, str]]] = SessionValue("_pending_toasts", list)
# The sidebar's slot for the counters, of the last full run, and whether a page's fragment
# drew them in this one (components/feed.py's, which keeps them current between full runs).
_counters_slot: SessionValue[DeltaGenerator | None] = SessionValue("_counters_slot", lambda: None)
_counters_drawn = SessionValue("_counters_drawn", lambda: False)


@st.cache_resource(show_spinner="Starting the studio…", on_release=Runtime.close)
def get_studio() -> Runtime:
    """The process's one studio: store, archive, engine and, with no key, the demo backend."""
    return open_studio()


def exit_unless_startable() -> None:
    """At server start, before anything listens: one clear line instead of a traceback."""
    try:
        check_start_up(Settings())
    except StorageError as exc:
        raise SystemExit(str(exc)) from None


def server_studio() -> Studio:
    """The studio as the server itself, for routes whose signed links say who asked."""
    return get_studio().service


def studio() -> Studio:
    """The studio acting as the signed-in person: what pages and components ask."""
    person = current_person()
    if person is None:  # app.py's gate stops such runs before any page draws
        st.stop()
    return get_studio().service.for_person(person)


def viewer() -> str:
    """Who is looking: the person links to images are signed for ("" for someone not
    admitted: a link signed for nobody opens nothing)."""
    person = current_person()
    return person.viewer if person is not None else ""


# Sign-in -------------------------------------------------------------------------------


def sign_in_configured() -> bool:
    """Whether `[auth]` is in Streamlit's secrets: then every page needs a signed-in person."""
    try:
        return bool(st.secrets.get("auth"))
    except FileNotFoundError:  # no secrets file at all
        return False


def providers() -> list[str]:
    """The named providers of `[auth]` (`[auth.google]`...); empty for the one default."""
    auth = st.secrets.get("auth") or {}
    return [name for name, value in auth.items() if isinstance(value, Mapping)]


def current_person() -> Person | None:
    """The person this session acts for: the local one without sign-in, else the signed-in
    person the studio admits, else None."""
    if not sign_in_configured():
        return LOCAL
    if not st.user.is_logged_in:
        return None
    service = get_studio().service
    email = _claim("email")
    if not service.people.policy.admits(email):
        return None
    sub = _claim("sub") or email or ""
    return service.people.policy.person(sub, email, _claim("name"))


def _claim(name: str) -> str | None:
    value = st.user.get(name)
    return str(value) if value else None


def gate() -> bool:
    """True when this session may see the studio; otherwise draw who may, and say why not.

    Runs in app.py before any page: the sign-in screen, or the refusal for a signed-in
    person outside STUDIO_ALLOWED_EMAILS, is then the only page there is.
    """
    if current_person() is not None:
        return True
    screen = _refusal_screen if st.user.is_logged_in else _sign_in_screen
    st.navigation(
        [st.Page(screen, title="Sign in", icon=":material/login:", url_path="sign-in")],
        position="hidden",
    ).run()
    return False


def _sign_in_screen() -> None:
    st.title("Image Studio")
    st.write(
        "A studio for making and editing images with FoxAPI's `grok-imagine-image` model, "
        "shared by a team: each person's images, history and spending are their own."
    )
    st.write("Sign in to go on.")
    named = providers()
    if not named:
        st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login)
    for provider in named:
        st.button(
            f"Sign in with {provider.replace('_', ' ').title()}",
            key=f"sign_in_{provider}",
            type="primary",
            icon=":material/login:",
            on_click=st.login,
            args=(provider,),
        )


def _refusal_screen() -> None:
    st.title("Image Studio")
    who = escape_markdown(_claim("email") or "this account")
    st.error(
        f"This studio is not open to {who}. Ask the person who runs it to add you, "
        "or sign in with another account.",
        icon=":material/block:",
    )
    st.button("Sign out", icon=":material/logout:", on_click=st.logout)


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
    """The key this session sends jobs with: the server's, else a typed one, else the demo
    backend's. A signed-in person's typed key serves them in all their sessions; without
    sign-in, the session that typed it."""
    service = studio()
    if service.person.signed_in:
        return service.jobs.credentials()
    typed = str(st.session_state.get(KEY_FIELD) or "").strip()
    if service.jobs.server_has_key or not typed:
        return service.jobs.server_credentials
    credentials = _typed_credentials.get()
    if credentials is None or credentials.api_key != typed:
        credentials = service.jobs.typed_key(typed)
        _typed_credentials.set(credentials)
    return credentials


def _key_typed() -> None:
    service = studio()
    if not service.person.signed_in:
        return  # session_credentials keeps it for this session
    typed = str(st.session_state.get(KEY_FIELD) or "").strip()
    if typed:
        service.jobs.typed_key(typed)
    else:
        service.jobs.forget_typed_key()


def sidebar() -> DeltaGenerator:
    """Draw the sidebar; return the slot that `counters` fills once the page has run."""
    service = studio()
    with st.sidebar:
        person = service.person
        if person.signed_in:
            who = escape_markdown(person.label)
            email = escape_markdown(person.email or "")
            st.markdown(f"Signed in as **{who}**" + (f"  \n{email}" if email != who else ""))
            st.button("Sign out", icon=":material/logout:", on_click=st.logout)
        # The field's value is in the session before the run starts: the key it holds
        # decides what the notice says and whether the field is asked for at all.
        credentials = session_credentials()
        demo = credentials.backend is Backend.DEMO
        if demo:
            st.info(
                "Demo backend: images are drawn on this machine and nothing is billed. "
                + (
                    "To use FoxAPI, enter your key below."
                    if person.signed_in
                    else "To use FoxAPI, start the studio with FOXAPI_API_KEY set, or "
                    "use a key in this browser session:"
                ),
                icon=":material/science:",
            )
        else:
            whose = (
                f" with the key you entered ({whose_key(service)} only)"
                if credentials is not service.jobs.server_credentials
                else ""
            )
            st.success(
                f"FoxAPI at {escape_markdown(credentials.host)}{whose}",
                icon=":material/cloud_done:",
            )
        if not service.jobs.server_has_key:
            # A demo without sign-in asks for no key: it is one click away for those
            # who have one. Signed-in people each keep their own, so theirs stays in view.
            place = (
                st.expander("Use a FoxAPI key", icon=":material/key:")
                if demo and not person.signed_in
                else st.container()
            )
            with place:
                st.text_input(
                    "FoxAPI key",
                    type="password",
                    key=KEY_FIELD,
                    placeholder="sk-…",
                    on_change=_key_typed,
                    help=(
                        f"Used for {whose_key(service)} only: kept in the server's memory, "
                        "never written anywhere. Leave it empty to keep using the demo backend."
                    ),
                )
        warning = service.people.exposure_warning(st.get_option("server.address"))
        if warning is not None:
            st.warning(warning, icon=":material/warning:")
        slot = st.empty()
    _counters_slot.set(slot)
    _counters_drawn.clear()
    return slot


def whose_key(service: Studio) -> str:
    return (
        "your jobs, in any of your sessions"
        if service.person.signed_in
        else ("this browser session")
    )


def counters(slot: DeltaGenerator) -> None:
    """Jobs in flight and, where anything can be billed, images billed today: drawn after
    the page so a job it just sent is counted (unless the page's feed drew them). What
    reviewers said is asked on every page, the feed's too, outside the slot the feed's
    fragment redraws."""
    if not _counters_drawn.get():
        service = studio()
        with slot.container():
            in_flight = _metrics(service)
            tab_title.show(
                running=in_flight, images=service.gallery.gallery_count(GalleryFilter(mine=True))
            )
    with st.sidebar:
        review_news.show(studio)


def counters_from_fragment() -> None:
    """The sidebar's counters drawn by a fragment, in every run of it, so its own reruns (a
    job finished) keep them current. The fragment shows the tab's title itself: a widget
    stays in a fragment's own body."""
    slot = _counters_slot.get()
    if slot is None:
        return
    _counters_drawn.set(True)
    with slot.container():
        _metrics(studio())


def _metrics(service: Studio) -> int:
    in_flight = service.jobs.count_in_flight()
    st.metric("Jobs in flight", in_flight, help="Jobs not finished yet")
    if service.person.signed_in or session_credentials().backend is not Backend.DEMO:
        st.metric(
            "Images billed today",
            service.people.images_billed_today(),
            help="Images FoxAPI accepted since midnight (demo images cost nothing).",
        )
    return in_flight


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
