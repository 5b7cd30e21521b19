"""Job cards: one per job, with prompt, settings, status in words and timing.

Jobs in flight are drawn by the browser (components/live_progress.py), which follows
their progress without rerunning the page; when one has finished, the page reruns
once, so the job's images join it, and a toast says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from components import frame, media
from components.live_progress import LiveJob, live_progress
from components.state import Scoped, SessionValue
from components.submission import Feedback
from components.text import (
    escape_markdown,
    excerpt,
    plural,
    settings_line,
    status_words,
    timing_line,
)
from studio.credentials import Backend
from studio.errors import FoxAPIError, OutcomeUnknown
from studio.records import JobRecord
from studio.request import DEFAULT_ASPECT_RATIO, RATIO_PIXELS
from studio.service import JobProgress
from studio.states import JobStatus

MAX_LIVE_CARDS = 12
_COLUMNS = 3

_confirm_retry: SessionValue[str | None] = SessionValue("confirm_retry", lambda: None)
_retry_feedback: SessionValue[dict[str, Feedback]] = SessionValue("retry_feedback", dict)
_hidden: SessionValue[set[str]] = SessionValue("hidden_jobs", set)
# The in-flight jobs a live area showed last time, so it can tell when one finished.
_watched: Scoped[set[str]] = Scoped("watched_jobs", set)


# Cards ---------------------------------------------------------------------------


def job_card(job: JobRecord, *, key: str) -> None:
    with st.container(border=True):
        st.text(excerpt(job.prompt, 240))
        st.caption(settings_line(job))
        if job.status is JobStatus.DONE:
            st.markdown(":green[:material/check_circle: Done]")
            if job.error_message:  # what it lacks: a refused result, results it did not keep
                st.caption(escape_markdown(job.error_message))
            _result_thumbnails(job)
            st.caption(timing_line(job))
        else:
            failure(job, key=key)


def failure(job: JobRecord, *, key: str) -> None:
    """What went wrong with a job that ended without images, in words, and Retry or Hide."""
    words = status_words(job, key_available=frame.studio().jobs.has_key_for(job))
    if job.status is JobStatus.UNKNOWN:
        st.warning(escape_markdown(words), icon=":material/help:")
    else:
        st.error(escape_markdown(words), icon=":material/error:")
    if job.status is not JobStatus.FAILED and job.error_message:
        st.caption(escape_markdown(job.error_message))
    st.caption(timing_line(job))
    _retry_controls(job, key=key)


def _result_thumbnails(job: JobRecord) -> None:
    images = frame.studio().gallery.saved_images(job.id)
    if not images:
        return
    columns = st.columns(len(images))
    for column, image in zip(columns, images, strict=True):
        with column:
            media.thumbnail(image, job.prompt)
    missing = job.request.num_outputs - len(images)
    if missing:
        st.caption(f"{plural(missing, 'image')} expired before the studio could save it.")


def _retry_controls(job: JobRecord, *, key: str) -> None:
    feedback = _retry_feedback.get().get(job.id)
    if feedback is not None:
        show = st.warning if feedback.kind == "warning" else st.error
        show(escape_markdown(feedback.message))
    if _confirm_retry.get() == job.id:
        # The retry goes out with this session's key, whatever the first attempt used.
        billed = frame.session_credentials().backend is not Backend.DEMO
        cost = (
            f"FoxAPI bills {plural(job.request.num_outputs, 'image')} again."
            if billed
            else "The demo backend bills nothing."
        )
        st.caption(f"Retrying sends the same request again as a new job. {cost}")
        confirm, cancel = st.columns(2)
        confirm.button(
            "Retry and bill again" if billed else "Send again",
            key=f"{key}-retry-confirm",
            type="primary",
            on_click=_retry,
            args=(job.id,),
        )
        cancel.button("Cancel", key=f"{key}-retry-cancel", on_click=_cancel_retry)
    else:
        retry, hide = st.columns(2)
        retry.button(
            "Retry",
            key=f"{key}-retry",
            icon=":material/replay:",
            on_click=_ask_retry,
            args=(job.id,),
        )
        hide.button("Hide", key=f"{key}-hide", on_click=_hide, args=(job.id,))


def _ask_retry(job_id: str) -> None:
    _confirm_retry.set(job_id)


def _cancel_retry() -> None:
    _confirm_retry.clear()


def hidden_jobs() -> set[str]:
    """The jobs this session hid (failed ones it does not want to see again)."""
    return _hidden.get()


def _hide(job_id: str) -> None:
    _hidden.set(_hidden.get() | {job_id})


def _retry(job_id: str) -> None:
    # Clearing the confirmation makes a second click of the same button do nothing.
    if _confirm_retry.get() != job_id:
        return
    _confirm_retry.clear()
    feedback = dict(_retry_feedback.get())
    feedback.pop(job_id, None)
    try:
        job = frame.studio().jobs.retry(job_id, frame.session_credentials())
    except OutcomeUnknown as exc:
        feedback[job_id] = Feedback("warning", exc.message)
    except FoxAPIError as exc:
        feedback[job_id] = Feedback("error", exc.message)
    else:
        _hide(job_id)
        frame.queue_toast(
            f"Sent again: “{escape_markdown(excerpt(job.prompt, 60))}”", ":material/replay:"
        )
    _retry_feedback.set(feedback)


def _grid(jobs: Sequence[JobRecord], *, key: str) -> None:
    for start in range(0, len(jobs), _COLUMNS):
        columns = st.columns(_COLUMNS)
        for column, job in zip(columns, jobs[start : start + _COLUMNS], strict=False):
            with column:
                job_card(job, key=f"{key}-{job.id}")


# Live cards ----------------------------------------------------------------------


def live_jobs(scope: str, *, only: Sequence[str] | None = None) -> None:
    """The jobs in flight (all, or those in `only`), followed by the browser."""
    service = frame.studio()
    jobs = service.jobs.in_flight(only)
    announce_finished(scope, jobs)
    if not jobs:
        return
    shown = jobs[:MAX_LIVE_CARDS]
    states = {state.id: state for state in service.jobs.progress([job.id for job in shown])}
    st.subheader("In progress")
    live_progress(
        f"live-{scope}",
        # Every job in flight where the area shows them all, so a new one is noticed too.
        service.jobs.progress_link(
            None if only is None else [job.id for job in shown], frame.viewer()
        ),
        [_live_job(job, states[job.id]) for job in shown],
        every_job=only is None,
    )
    if len(jobs) > MAX_LIVE_CARDS:
        st.caption(f"And {plural(len(jobs) - MAX_LIVE_CARDS, 'more job')} in flight.")


def _live_job(job: JobRecord, state: JobProgress) -> LiveJob:
    # An edit keeps its input's shape, unknown here: its placeholders are square.
    width, height = RATIO_PIXELS[job.request.aspect_ratio or DEFAULT_ASPECT_RATIO]
    return LiveJob(
        prompt=excerpt(job.prompt, 240),
        settings=settings_line(job),
        images=job.request.num_outputs,
        width=width,
        height=height,
        state=state,
    )


def announce_finished(scope: str, jobs: Sequence[JobRecord]) -> None:
    """Toast every job watched last time that has left flight since."""
    watched = _watched(scope)
    now_watched = {job.id for job in jobs}
    finished = watched.get() - now_watched
    watched.set(now_watched)
    for job in frame.studio().jobs.jobs(sorted(finished)):
        message, icon = _finish_message(job)
        st.toast(message, icon=icon)


def _finish_message(job: JobRecord) -> tuple[str, str]:
    prompt = f"“{escape_markdown(excerpt(job.prompt, 60))}”"
    if job.status is JobStatus.DONE:
        return f"Ready: {prompt} is in the gallery.", ":material/check_circle:"
    if job.status is JobStatus.UNKNOWN:
        return f"Outcome unknown: {prompt}", ":material/help:"
    return f"Failed: {prompt}", ":material/error:"


# What pages show -----------------------------------------------------------------


def needs_attention() -> None:
    """Recent failed, lost or uncertain jobs that nobody has retried or hidden yet."""
    jobs = frame.studio().jobs.needing_attention(hidden=_hidden.get(), limit=MAX_LIVE_CARDS)
    if jobs:
        st.subheader("Needs attention")
        _grid(jobs, key="attention")
