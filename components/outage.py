"""A database that stops answering: one sentence and a retry, never Streamlit's crash page.

app.py hands `on_script_error` to st.App. Streamlit calls it with whatever a run did not
catch, in a page, in the frame around it, in a fragment's run or in a widget's callback,
so no call to the store needs a guard of its own. The core raises DatabaseUnavailable
for an outage, on connect or mid-query (studio.db.database); anything else is shown as
Streamlit always shows it.
"""

from __future__ import annotations

import streamlit as st

from components.state import SessionValue
from studio.errors import DatabaseUnavailable

SENTENCE = "The studio's database is not answering. Nothing is lost; this page retries by itself."
RETRY_SECONDS = 3.0

# Whether the retry fragment has waited one interval since the sentence was drawn.
_waited: SessionValue[bool] = SessionValue("outage_waited", lambda: False)


def on_script_error(problem: Exception) -> bool:
    """Draw the sentence and arm the retry for an outage (True: Streamlit shows nothing
    more); leave any other failure to Streamlit (False)."""
    if not is_outage(problem):
        return False
    st.warning(SENTENCE, icon=":material/cloud_off:")
    _waited.set(False)
    _retry()
    return True


def is_outage(problem: BaseException) -> bool:
    """Whether `problem`, or a failure it was raised from or while handling, is an outage."""
    seen: set[int] = set()
    current: BaseException | None = problem
    while current is not None and id(current) not in seen:
        if isinstance(current, DatabaseUnavailable):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


@st.fragment(run_every=RETRY_SECONDS)
def _retry() -> None:
    # Drawn while the error is handled, where a rerun must not start; each tick after
    # that runs the whole app again, which either works or draws this again.
    if _waited.get():
        st.rerun(scope="app")
    _waited.set(True)
