"""Image Studio: the entry point. A thin router over the pages, with the shared frame.

`streamlit run app.py` finds `app` below and serves it, so the studio (engine, store,
demo backend) starts with the server and resumes unfinished jobs before any browser
connects; each browser session then runs this file as the page script.
"""

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import streamlit as st

if __name__ != "__main__":
    # Imported once by `streamlit run` (each session's run is __main__): what Streamlit
    # made is frozen before the studio's imports, whose full collections then skip it
    # (about a tenth of the start); runtime.freeze_start_up_objects does the rest.
    gc.freeze()

from components import appearance, frame, outage, present, review, undo_notice
from studio import health, runtime, web
from studio.db.database import DatabaseError
from studio.errors import StorageError

if __name__ != "__main__":
    # And what the studio's imports made (modules, classes: next to no garbage), so the
    # lifespan's collection before its own freeze walks only what opening the studio
    # made: about 25 ms sooner healthy.
    gc.freeze()

# A local file: a Material icon would make every browser fetch it from Google's servers.
ICON = Path(__file__).parent / "assets" / "icon.png"


def _run_alone(
    draw: Callable[[], None], title: str, default_path: str, page_file: str, url_path: str
) -> None:
    """One page on its own: no navigation, no sidebar. `draw` is the default page and
    `page_file` the one at `url_path`: a default page's address is "/", so the page at
    `url_path` must not be it, or `url_path` would be "not found" (run under a warning)."""
    page = st.navigation(
        [
            st.Page(draw, title=title, url_path=default_path, default=True),
            st.Page(page_file, title=title, url_path=url_path),
        ],
        position="hidden",
    )
    frame.mark_frame_ran()
    page.run()


def run() -> None:
    st.set_page_config(page_title="Image Studio", page_icon=str(ICON), layout="wide")
    appearance.apply()
    if review.asked_for():
        # A review link works signed out, and shows that board alone (or, with no token,
        # why there is none): no gate, no navigation, no sidebar. Every other page still
        # meets the gate below.
        _run_alone(review.review, "Review", "review-link", "pages/review.py", review.PATH)
        return
    # With sign-in configured, nobody gets further without being signed in and admitted;
    # a deep link on a fresh server comes here too (see frame.ensure_frame).
    if not frame.gate():
        return
    if present.asked_for():
        # The owner's board full-screen: signed in as above, and nothing else on screen
        # (no navigation, no sidebar).
        _run_alone(present.present, "Present", "present-board", "pages/present.py", present.PATH)
        return
    pages = [
        st.Page(
            "pages/generate.py",
            title="Generate",
            icon=":material/auto_awesome:",
            url_path="",
            default=True,
        ),
        st.Page("pages/edit.py", title="Edit", icon=":material/edit:", url_path="edit"),
        st.Page(
            "pages/gallery.py",
            title="Gallery",
            icon=":material/photo_library:",
            url_path="gallery",
        ),
        st.Page("pages/boards.py", title="Boards", icon=":material/dashboard:", url_path="boards"),
    ]
    if frame.studio().person.admin and frame.sign_in_configured():
        pages.append(
            st.Page("pages/usage.py", title="Usage", icon=":material/bar_chart:", url_path="usage")
        )
    page = st.navigation(pages)
    counters_slot = frame.sidebar()
    frame.show_toasts()
    undo_notice.show()
    frame.mark_frame_ran()
    page.run()
    frame.counters(counters_slot)


@asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    try:
        frame.get_studio()
    except DatabaseError as exc:
        # One line, not a traceback; the server stops for its supervisor to retry later.
        raise SystemExit(f"Image Studio cannot start. {exc.message}") from None
    except StorageError as exc:
        raise SystemExit(f"Image Studio cannot start. {exc}") from None
    runtime.freeze_start_up_objects()
    yield
    # Stops the engine, handing its leases back, and the demo backend.
    frame.get_studio.clear()


if __name__ == "__main__":
    run()
else:
    # `streamlit run app.py` imports this module to find `app`: a data folder or storage
    # the studio cannot use ends the server here with one line, before the lifespan
    # would raise with a traceback.
    frame.exit_unless_startable()
    app = st.App(
        "app.py",
        lifespan=lifespan,
        routes=[*web.routes(frame.server_studio), health.route(frame.server_studio)],
        # A database outage in any run, fragment or callback: a sentence and a retry.
        on_script_error=outage.on_script_error,
    )
