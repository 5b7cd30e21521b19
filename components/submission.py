"""Sending a request from a page: once per click, with the outcome in plain words.

A double click reaches the server as two runs with the same form values, and the
second may even interrupt the first. So each page remembers what it last sent and
when; the same request again within a few seconds is the same click, not a new job.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

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
RECENT_JOBS = "session_jobs"  # ids of the jobs this session sent, newest first
_RECENT_LIMIT = 8


@dataclass(frozen=True)
class Feedback:
    kind: str  # "error" or "warning"
    message: str


@dataclass(frozen=True)
class _LastSent:
    fingerprint: str
    at: float


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def set_feedback(scope: str, kind: str, message: str) -> None:
    st.session_state[f"feedback:{scope}"] = Feedback(kind, message)


def invalid(
    scope: str, error: InvalidRequest | InvalidImage, *, labels: Mapping[str, str] | None = None
) -> None:
    """A field-specific error, named the way the form labels the field."""
    if isinstance(error, InvalidRequest):
        names = {**FIELD_LABELS, **(labels or {})}
        label = names.get(error.field, error.field.replace("_", " ").capitalize())
        set_feedback(scope, "error", f"{label}: {error.message}")
    else:
        set_feedback(scope, "error", error.message)


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
        isinstance(last, _LastSent)
        and last.fingerprint == request_fingerprint
        and now - last.at < DUPLICATE_WINDOW
    ):
        return
    st.session_state[f"last_sent:{scope}"] = _LastSent(request_fingerprint, now)
    clear_feedback(scope)
    try:
        job = send()
    except OutcomeUnknown as exc:
        remember_job(exc.job_id)  # its card under the form says what happened
        set_feedback(scope, "warning", exc.message)
        return
    except FoxAPIError as exc:
        # Refused before anything was billed: the same request may be sent again at once.
        st.session_state.pop(f"last_sent:{scope}", None)
        set_feedback(scope, "error", exc.message)
        return
    except InvalidImage as exc:
        st.session_state.pop(f"last_sent:{scope}", None)
        invalid(scope, exc)
        return
    remember_job(job.id)
    billed = (
        "nothing is billed on the demo backend"
        if job.backend == Backend.DEMO
        else f"{plural(job.request.num_outputs, 'image')} billed"
    )
    frame.queue_toast(
        f"Sent: “{escape_markdown(excerpt(job.prompt, 60))}” ({billed})", ":material/send:"
    )
    frame.show_toasts()


def remember_job(job_id: str) -> None:
    recent = [job_id, *st.session_state.get(RECENT_JOBS, [])]
    st.session_state[RECENT_JOBS] = list(dict.fromkeys(recent))[:_RECENT_LIMIT]
