"""Sending a request from a page: once per click, with the outcome in plain words.

A double click reaches the server as two runs with the same form values, and the
second stops the first at its next Streamlit call (reading session state counts) while
its POST may still be out. So each page remembers what it last sent and when; the same
request again within a few seconds is the same click, not a new job. The send keeps its
outcome on a plain object before touching the session, and whichever run is still alive
(the stopped one cannot) puts that outcome in the session and shows it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import streamlit as st

from components import frame
from components.text import FIELD_LABELS, escape_markdown, excerpt, plural
from studio.credentials import Backend
from studio.engine import OutcomeUnknown
from studio.errors import FoxAPIError
from studio.imaging import InvalidImage
from studio.request import InvalidRequest
from studio.store import JobRecord

DUPLICATE_WINDOW = 3.0  # seconds within which an identical request is the same click
SEND_WAIT = 120.0  # longest a repeated click waits for the first send (timeouts, 429 waits)
RECENT_JOBS = "session_jobs"  # ids of the jobs this session sent, newest first
_RECENT_LIMIT = 8


@dataclass(frozen=True)
class Feedback:
    kind: str  # "error" or "warning"
    message: str


@dataclass(frozen=True)
class _Outcome:
    job_id: str | None = None
    feedback: Feedback | None = None
    toast: str | None = None
    may_resend: bool = False  # refused before anything was billed


@dataclass
class _Send:
    """One send of a request, shared by the runs of the click (or double click) behind it."""

    fingerprint: str
    at: float
    finished: threading.Event = field(default_factory=threading.Event)
    outcome: _Outcome | None = None
    toast_queued: bool = False


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def invalid(
    scope: str, error: InvalidRequest | InvalidImage, *, labels: Mapping[str, str] | None = None
) -> None:
    """A field-specific error, named the way the form labels the field."""
    st.session_state[f"feedback:{scope}"] = _invalid_feedback(error, labels)


def _invalid_feedback(
    error: InvalidRequest | InvalidImage, labels: Mapping[str, str] | None = None
) -> Feedback:
    if isinstance(error, InvalidRequest):
        names = {**FIELD_LABELS, **(labels or {})}
        label = names.get(error.field, error.field.replace("_", " ").capitalize())
        return Feedback("error", f"{label}: {error.message}")
    return Feedback("error", error.message)


def clear_feedback(scope: str) -> None:
    st.session_state.pop(f"feedback:{scope}", None)


def show_feedback(scope: str) -> None:
    """The last outcome under the form, until the next attempt replaces it."""
    feedback = st.session_state.get(f"feedback:{scope}")
    if not isinstance(feedback, Feedback):
        return
    if feedback.kind == "warning":
        st.warning(escape_markdown(feedback.message), icon=":material/help:")
    else:
        st.error(escape_markdown(feedback.message), icon=":material/error:")


def send_once(scope: str, request_fingerprint: str, send: Callable[[], JobRecord]) -> None:
    """Call `send` unless this session sent the same request within the last few seconds.

    FoxAPI's refusals become the page's error; an outcome FoxAPI may or may not have
    received becomes a warning. Success is a toast and a card under the form.
    """
    last = st.session_state.get(f"last_sent:{scope}")
    now = time.monotonic()
    if (
        isinstance(last, _Send)
        and last.fingerprint == request_fingerprint
        and now - last.at < DUPLICATE_WINDOW
    ):
        show_send_outcome(scope)
        return
    sending = _Send(request_fingerprint, now)
    st.session_state[f"last_sent:{scope}"] = sending
    clear_feedback(scope)
    try:
        sending.outcome = _attempt(send)
    finally:
        sending.finished.set()
    show_send_outcome(scope)


def show_send_outcome(scope: str) -> None:
    """Put the last send's outcome in the session and show its toast, once it is known.

    A double click's second run may come without the click (Streamlit counted it
    already) while the first run's POST is still out: it waits here for the outcome,
    which the first run, stopped, can no longer show. Applying an outcome twice is
    harmless, so it does not matter which run gets there first.
    """
    sending = st.session_state.get(f"last_sent:{scope}")
    if not isinstance(sending, _Send):
        return
    sending.finished.wait(timeout=SEND_WAIT)
    outcome = sending.outcome
    if outcome is None:
        return
    if outcome.job_id is not None:
        remember_job(outcome.job_id)
    if outcome.feedback is not None:
        st.session_state[f"feedback:{scope}"] = outcome.feedback
    if outcome.may_resend:
        st.session_state.pop(f"last_sent:{scope}", None)
    if outcome.toast is not None and not sending.toast_queued:
        frame.queue_toast(outcome.toast, ":material/send:")
        sending.toast_queued = True
    frame.show_toasts()


def _attempt(send: Callable[[], JobRecord]) -> _Outcome:
    """Send and say what happened, without touching the session (see the module's note)."""
    try:
        job = send()
    except OutcomeUnknown as exc:
        # The job's card under the form says what happened.
        return _Outcome(job_id=exc.job_id, feedback=Feedback("warning", exc.message))
    except FoxAPIError as exc:
        return _Outcome(feedback=Feedback("error", exc.message), may_resend=True)
    except InvalidImage as exc:
        return _Outcome(feedback=_invalid_feedback(exc), may_resend=True)
    billed = (
        "nothing is billed on the demo backend"
        if job.backend == Backend.DEMO
        else f"{plural(job.request.num_outputs, 'image')} billed"
    )
    toast = f"Sent: “{escape_markdown(excerpt(job.prompt, 60))}” ({billed})"
    return _Outcome(job_id=job.id, toast=toast)


def remember_job(job_id: str) -> None:
    recent = [job_id, *st.session_state.get(RECENT_JOBS, [])]
    st.session_state[RECENT_JOBS] = list(dict.fromkeys(recent))[:_RECENT_LIMIT]
