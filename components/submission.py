"""Sending a request from a page: once per click, with the outcome in plain words.

A double click reaches the server as two runs with the same form values, and the second
stops the first at its next Streamlit call, which may be while its POST is still out.
So each form remembers what it last sent and when; the same request again within a few
seconds is the same click, not a new job. The send keeps its outcome on a plain object
before touching the session, and whichever run is still alive (the stopped one cannot)
puts that outcome in the session and shows it. A run that finds the send still out
waits in a small fragment that looks twice a second, never by blocking the page.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import streamlit as st

from components import frame
from components.state import Scoped
from components.text import FIELD_LABELS, escape_markdown, excerpt, plural
from studio.credentials import Backend
from studio.errors import FoxAPIError, InvalidImage, OutcomeUnknown
from studio.people import NotAllowed, SpendLimitReached
from studio.records import JobRecord
from studio.request import InvalidRequest
from studio.service import SweepResult

DUPLICATE_WINDOW = 3.0  # seconds within which an identical request is the same click


@dataclass(frozen=True)
class Feedback:
    kind: str  # "error" or "warning"
    message: str


@dataclass(frozen=True)
class _Outcome:
    feedback: Feedback | None = None
    toast: str | None = None
    may_resend: bool = False  # refused before anything was billed


@dataclass
class _Send:
    """One send of a request, shared by the runs of the click (or double click) behind it."""

    fingerprint: str
    at: float
    outcome: _Outcome | None = None
    toast_queued: bool = False


_feedback: Scoped[Feedback | None] = Scoped("feedback", lambda: None)
_last_send: Scoped[_Send | None] = Scoped("last_sent", lambda: None)


def invalid(
    scope: str, error: InvalidRequest | InvalidImage, *, labels: Mapping[str, str] | None = None
) -> None:
    """A field-specific error, named the way the form labels the field."""
    _feedback(scope).set(_invalid_feedback(error, labels))


def _invalid_feedback(
    error: InvalidRequest | InvalidImage, labels: Mapping[str, str] | None = None
) -> Feedback:
    if isinstance(error, InvalidRequest):
        names = {**FIELD_LABELS, **(labels or {})}
        label = names.get(error.field, error.field.replace("_", " ").capitalize())
        return Feedback("error", f"{label}: {error.message}")
    return Feedback("error", error.message)


def show_feedback(scope: str) -> None:
    """The last outcome under the form, until the next attempt replaces it."""
    feedback = _feedback(scope).get()
    if feedback is None:
        return
    if feedback.kind == "warning":
        st.warning(escape_markdown(feedback.message), icon=":material/help:")
    else:
        st.error(escape_markdown(feedback.message), icon=":material/error:")


def send_once(scope: str, fingerprint: str, send: Callable[[], JobRecord | SweepResult]) -> None:
    """Call `send` unless this session sent the same request within the last few seconds.

    FoxAPI's refusals become the page's error; an outcome FoxAPI may or may not have
    received becomes a warning. Success is a toast and a card in the feed.
    """
    last = _last_send(scope).get()
    now = time.monotonic()
    if last is not None and last.fingerprint == fingerprint and now - last.at < DUPLICATE_WINDOW:
        show_send_outcome(scope)
        return
    sending = _Send(fingerprint, now)
    _last_send(scope).set(sending)
    _feedback(scope).clear()
    sending.outcome = _attempt(send)
    show_send_outcome(scope)


def show_send_outcome(scope: str) -> None:
    """Put the last send's outcome in the session and show its toast, once it is known.

    A double click's second run comes after the first has stopped, so the outcome is
    on the send already; applying it twice is harmless, whichever run gets here first.
    """
    sending = _last_send(scope).get()
    if sending is None:
        return
    if sending.outcome is None:
        _still_sending(scope)
        return
    outcome = sending.outcome
    if outcome.feedback is not None:
        _feedback(scope).set(outcome.feedback)
    if outcome.may_resend:
        _last_send(scope).clear()
    if outcome.toast is not None and not sending.toast_queued:
        frame.queue_toast(outcome.toast, ":material/send:")
        sending.toast_queued = True
    frame.show_toasts()


@st.fragment(run_every=0.5)
def _still_sending(scope: str) -> None:
    sending = _last_send(scope).get()
    if sending is None or sending.outcome is not None:
        st.rerun()  # the whole page, so the outcome shows where it belongs
    st.caption("Sending your request…")


def _attempt(send: Callable[[], JobRecord | SweepResult]) -> _Outcome:
    """Send and say what happened, without touching the session (see the module's note)."""
    try:
        sent = send()
    except OutcomeUnknown as exc:
        # The job's card in the feed says what happened.
        return _Outcome(feedback=Feedback("warning", exc.message))
    except FoxAPIError as exc:
        return _Outcome(feedback=Feedback("error", exc.message), may_resend=True)
    except InvalidImage as exc:
        return _Outcome(feedback=_invalid_feedback(exc), may_resend=True)
    except (SpendLimitReached, NotAllowed) as exc:  # refused before anything was sent
        return _Outcome(feedback=Feedback("error", exc.message), may_resend=True)
    jobs = sent.jobs if isinstance(sent, SweepResult) else [sent]
    stopped = sent.stopped_by if isinstance(sent, SweepResult) else None
    feedback = None
    if stopped is not None:
        note = f"{plural(len(jobs), 'job')} of the sweep went out; the rest was not sent."
        feedback = Feedback("warning" if jobs else "error", f"{stopped.message} {note}")
    if not jobs:
        return _Outcome(feedback=feedback, may_resend=True)
    images = sum(job.request.num_outputs for job in jobs)
    billed = (
        "nothing is billed on the demo backend"
        if jobs[0].backend == Backend.DEMO
        else f"{plural(images, 'image')} billed"
    )
    what = f"“{escape_markdown(excerpt(jobs[0].prompt, 60))}”"
    if len(jobs) > 1:
        what = f"a sweep of {plural(len(jobs), 'job')} from {what}"
    return _Outcome(
        feedback=feedback,
        toast=f"Sent: {what} ({billed})",
    )
