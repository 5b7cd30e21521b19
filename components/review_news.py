"""The designer hears what reviewers said: votes, comments and finished reviews on their
boards since they last opened each, counted in the tab's title and on Boards.

While any of their boards has an open review link, a small fragment asks the store every
few seconds (two small counts, no page redrawn) and hands the browser the number; with
no open link nothing new can come, and nothing is asked between runs.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from components import tab_title
from studio.service import Studio

NEWS_SECONDS = 10


def show(service: Callable[[], Studio]) -> None:
    """`service` is the frame's: the person's service as each run finds them."""
    found = service().boards.board_news()
    if found.listening:
        _listen(service)
    else:
        tab_title.reviewers_said(found.total)


@st.fragment(run_every=NEWS_SECONDS)
def _listen(service: Callable[[], Studio]) -> None:
    tab_title.reviewers_said(service().boards.board_news().total)
