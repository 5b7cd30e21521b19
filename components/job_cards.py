"""Job cards: one per job, with prompt, settings, status in words and timing.

In-flight cards live in a fragment that redraws about once a second from the store,
and only while some job is in flight. When a job it watched has finished, it reruns
the whole app once, so the job's images join the page, and a toast says so.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import streamlit as st
from sqlalchemy.exc import NoResultFound

from components import frame, media
from components.submission import RECENT_JOBS, Feedback, remember_job
from components.text import (
    escape_markdown,
    excerpt,
    plural,
    settings_line,
    status_words,
    timing_line,
)
from studio.credentials import Backend
from studio.engine import OutcomeUnknown
from studio.errors import FoxAPIError
from studio.request import Mode
from studio.runtime import Studio
from studio.store import IN_FLIGHT, ImageStatus, JobRecord, JobStatus

REFRESH_SECONDS = 1.0
ATTENTION = (JobStatus.FAILED, JobStatus.UNKNOWN, JobStatus.LOST)
ATTENTION_WINDOW = 24 * 3600  # failed jobs older than this no longer ask for attention
MAX_LIVE_CARDS = 12
RETRY_LOOKBACK = 60  # recent jobs searched for retries of a failed one
_COLUMNS = 3
_CONFIRM_RETRY = "confirm_retry"
_RETRY_FEEDBACK = "retry_feedback"
_HIDDEN = "hidden_jobs"


# Cards ---------------------------------------------------------------------------


def job_card(studio: Studio, job: JobRecord, *, key: str) -> None:
    key_available = studio.engine.has_credentials(job.key_id)
    words = status_words(job, key_available=key_available)
    with st.container(border=True):
        st.text(excerpt(job.prompt, 240))
        st.caption(settings_line(job))
        if job.in_flight:
            progress = 100 if job.status is JobStatus.DOWNLOADING else job.progress
            st.progress(progress / 100, text=escape_markdown(words))
            if job.error_message:  # a passing problem: FoxAPI busy, the key refused...
                st.caption(escape_markdown(job.error_message))
            st.caption(timing_line(job))
        elif job.status is JobStatus.DONE:
            st.markdown(":green[:material/check_circle: Done]")
            _result_thumbnails(studio, job)
            st.caption(timing_line(job))
        else:
            if job.status is JobStatus.UNKNOWN:
                st.warning(escape_markdown(words), icon=":material/help:")
            else:
                st.error(escape_markdown(words), icon=":material/error:")
            if job.status is not JobStatus.FAILED and job.error_message:
                st.caption(escape_markdown(job.error_message))
            st.caption(timing_line(job))
            _retry_controls(studio, job, key=key)


def _result_thumbnails(studio: Studio, job: JobRecord) -> None:
    images = [
        image for image in studio.store.job_images(job.id) if image.status is ImageStatus.ARCHIVED
    ]
    if not images:
        return
    columns = st.columns(len(images))
    for column, image in zip(columns, images, strict=True):
        with column:
            media.thumbnail(studio.archive, image, job.prompt)
    missing = job.request.num_outputs - len(images)
    if missing:
        st.caption(f"{plural(missing, 'image')} expired before the studio could save it.")


def _retry_controls(studio: Studio, job: JobRecord, *, key: str) -> None:
    feedback = st.session_state.get(_RETRY_FEEDBACK, {}).get(job.id)
    if isinstance(feedback, Feedback):
        show = st.warning if feedback.kind == "warning" else st.error
        show(escape_markdown(feedback.message))
    if st.session_state.get(_CONFIRM_RETRY) == job.id:
        # The retry goes out with this session's key, whatever the first attempt used.
        billed = frame.session_credentials(studio).backend is not Backend.DEMO
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
    st.session_state[_CONFIRM_RETRY] = job_id


def _cancel_retry() -> None:
    st.session_state.pop(_CONFIRM_RETRY, None)


def _hide(job_id: str) -> None:
    st.session_state[_HIDDEN] = {*st.session_state.get(_HIDDEN, ()), job_id}


def _retry(job_id: str) -> None:
    # Popping the confirmation makes a second click of the same button do nothing.
    if st.session_state.pop(_CONFIRM_RETRY, None) != job_id:
        return
    studio = frame.get_studio()
    feedback: dict[str, Feedback] = dict(st.session_state.get(_RETRY_FEEDBACK, {}))
    feedback.pop(job_id, None)
    try:
        job = studio.engine.retry(job_id, frame.session_credentials(studio))
    except OutcomeUnknown as exc:
        remember_job(exc.job_id)
        feedback[job_id] = Feedback("warning", exc.message)
    except FoxAPIError as exc:
        feedback[job_id] = Feedback("error", exc.message)
    else:
        remember_job(job.id)
        _hide(job_id)
        frame.queue_toast(
            f"Sent again: “{escape_markdown(excerpt(job.prompt, 60))}”", ":material/replay:"
        )
    st.session_state[_RETRY_FEEDBACK] = feedback


def _grid(studio: Studio, jobs: Sequence[JobRecord], *, key: str) -> None:
    for start in range(0, len(jobs), _COLUMNS):
        columns = st.columns(_COLUMNS)
        for column, job in zip(columns, jobs[start : start + _COLUMNS], strict=False):
            with column:
                job_card(studio, job, key=f"{key}-{job.id}")


# Live cards ----------------------------------------------------------------------


def live_jobs(studio: Studio, scope: str, *, only: Sequence[str] | None = None) -> None:
    """The in-flight cards (all jobs, or those in `only`), refreshed while any is in flight."""
    jobs = _in_flight(studio, only)
    _announce_finished(studio, scope, jobs, in_fragment=False)
    if jobs:
        _live_cards(scope, tuple(only) if only is not None else None)


@st.fragment(run_every=REFRESH_SECONDS)
def _live_cards(scope: str, only: tuple[str, ...] | None) -> None:
    studio = frame.get_studio()
    jobs = _in_flight(studio, only)
    if _announce_finished(studio, scope, jobs, in_fragment=True):
        st.rerun()  # the whole app: the finished job's images join the page
    st.subheader("In progress")
    _grid(studio, jobs[:MAX_LIVE_CARDS], key=f"live-{scope}")
    if len(jobs) > MAX_LIVE_CARDS:
        st.caption(f"And {plural(len(jobs) - MAX_LIVE_CARDS, 'more job')} in flight.")


def _in_flight(studio: Studio, only: Sequence[str] | None) -> list[JobRecord]:
    jobs = studio.store.jobs(IN_FLIGHT)
    if only is None:
        return jobs
    wanted = set(only)
    return [job for job in jobs if job.id in wanted]


def _announce_finished(
    studio: Studio, scope: str, jobs: Sequence[JobRecord], *, in_fragment: bool
) -> bool:
    """Toast every job watched last time that has left flight since. True if any has."""
    key = f"watched_jobs:{scope}"
    watched = set(st.session_state.get(key, ()))
    st.session_state[key] = {job.id for job in jobs}
    finished = watched - st.session_state[key]
    for job_id in sorted(finished):
        job = _job_or_none(studio, job_id)
        if job is None:
            continue
        message, icon = _finish_message(job)
        if in_fragment:
            frame.queue_toast(message, icon)
        else:
            st.toast(message, icon=icon)
    return bool(finished)


def _finish_message(job: JobRecord) -> tuple[str, str]:
    prompt = f"“{escape_markdown(excerpt(job.prompt, 60))}”"
    if job.status is JobStatus.DONE:
        return f"Ready: {prompt} is in the gallery.", ":material/check_circle:"
    if job.status is JobStatus.UNKNOWN:
        return f"Outcome unknown: {prompt}", ":material/help:"
    return f"Failed: {prompt}", ":material/error:"


def _job_or_none(studio: Studio, job_id: str) -> JobRecord | None:
    try:
        return studio.store.job(job_id)
    except NoResultFound:
        return None


# What pages show -----------------------------------------------------------------


def session_jobs(studio: Studio, mode: Mode) -> None:
    """This session's recent jobs of one mode: live while in flight, then the outcome."""
    recent = (_job_or_none(studio, job_id) for job_id in st.session_state.get(RECENT_JOBS, []))
    jobs = [job for job in recent if job is not None and job.mode is mode]
    live_jobs(studio, f"session-{mode.value}", only=[job.id for job in jobs])
    finished = [job for job in jobs if not job.in_flight and job.id not in _hidden()]
    if finished:
        st.subheader("Your recent jobs")
        _grid(studio, finished, key=f"recent-{mode.value}")


def needs_attention(studio: Studio) -> None:
    """Recent failed, lost or uncertain jobs that nobody has retried or hidden yet."""
    # Both reads are bounded, so the gallery costs the same with 50 jobs or 50,000.
    candidates = studio.store.jobs(ATTENTION, limit=MAX_LIVE_CARDS * 2)
    retried = {job.retry_of for job in studio.store.jobs(limit=RETRY_LOOKBACK) if job.retry_of}
    hidden = _hidden()
    now = time.time()
    jobs = [
        job
        for job in candidates
        if job.id not in retried
        and job.id not in hidden
        and now - (job.finished_at or job.updated_at) < ATTENTION_WINDOW
    ]
    if jobs:
        st.subheader("Needs attention")
        _grid(studio, jobs[:MAX_LIVE_CARDS], key="attention")


def _hidden() -> set[str]:
    return set(st.session_state.get(_HIDDEN, ()))
