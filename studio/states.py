"""A job's life: its states, the events that move it, and the one table of transitions.

The engine decides which event happened; the store applies it only from a state the
table allows, in the same UPDATE, so two processes can never move a job along two
different paths. Nothing else writes a job's status.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class JobStatus(StrEnum):
    SUBMITTING = "submitting"  # recorded; the POST is on its way
    QUEUED = "queued"  # FoxAPI accepted it (pending)
    RUNNING = "running"  # FoxAPI is generating (processing)
    DOWNLOADING = "downloading"  # FoxAPI finished; the studio is archiving the results
    DONE = "done"
    FAILED = "failed"  # FoxAPI reported a failure, or the results could not be saved
    LOST = "lost"  # FoxAPI no longer knows the task (404)
    UNKNOWN = "unknown"  # the POST may or may not have arrived; never resent by itself


class ImageStatus(StrEnum):
    PENDING = "pending"  # FoxAPI gave a URL; not downloaded yet
    ARCHIVED = "archived"
    EXPIRED = "expired"  # the URL died (or never served an image) before it was saved
    TRASHED = "trashed"  # archived, then deleted: in the Trash until restored or purged


class JobEvent(StrEnum):
    TASK_PENDING = "task_pending"  # FoxAPI answered: the task waits
    TASK_PROCESSING = "task_processing"  # FoxAPI answered: the task is being generated
    RESULTS_READY = "results_ready"  # the task completed with result URLs
    SAVED = "saved"  # at least one result is in the archive
    NOTHING_SAVED = "nothing_saved"  # no result could be saved
    TASK_FAILED = "task_failed"  # FoxAPI reported failure
    TASK_LOST = "task_lost"  # FoxAPI answered 404 for the task
    GAVE_UP = "gave_up"  # the studio stopped trying (results past their lifetime, bad task)
    OUTCOME_UNKNOWN = "outcome_unknown"  # the POST may have arrived; it will not be resent


_S, _E = JobStatus, JobEvent

# (state, event) -> next state. Anything not listed is refused.
TRANSITIONS: dict[tuple[JobStatus, JobEvent], JobStatus] = {
    # The POST's answer is the truth, even after another engine marked it uncertain.
    (_S.SUBMITTING, _E.TASK_PENDING): _S.QUEUED,
    (_S.SUBMITTING, _E.TASK_PROCESSING): _S.RUNNING,
    (_S.UNKNOWN, _E.TASK_PENDING): _S.QUEUED,
    (_S.UNKNOWN, _E.TASK_PROCESSING): _S.RUNNING,
    (_S.SUBMITTING, _E.OUTCOME_UNKNOWN): _S.UNKNOWN,
    # Polling.
    (_S.QUEUED, _E.TASK_PENDING): _S.QUEUED,
    (_S.QUEUED, _E.TASK_PROCESSING): _S.RUNNING,
    (_S.RUNNING, _E.TASK_PENDING): _S.QUEUED,
    (_S.RUNNING, _E.TASK_PROCESSING): _S.RUNNING,
    (_S.QUEUED, _E.RESULTS_READY): _S.DOWNLOADING,
    (_S.RUNNING, _E.RESULTS_READY): _S.DOWNLOADING,
    (_S.DOWNLOADING, _E.RESULTS_READY): _S.DOWNLOADING,
    (_S.QUEUED, _E.TASK_FAILED): _S.FAILED,
    (_S.RUNNING, _E.TASK_FAILED): _S.FAILED,
    (_S.QUEUED, _E.TASK_LOST): _S.LOST,
    (_S.RUNNING, _E.TASK_LOST): _S.LOST,
    (_S.QUEUED, _E.GAVE_UP): _S.FAILED,
    (_S.RUNNING, _E.GAVE_UP): _S.FAILED,
    (_S.DOWNLOADING, _E.GAVE_UP): _S.FAILED,
    # Archiving.
    (_S.DOWNLOADING, _E.SAVED): _S.DONE,
    (_S.DOWNLOADING, _E.NOTHING_SAVED): _S.FAILED,
}

IN_FLIGHT = (JobStatus.SUBMITTING, JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DOWNLOADING)
POLLED = (JobStatus.QUEUED, JobStatus.RUNNING)
# Ended badly: a person decides what happens next (retry, or hide).
NEEDS_ATTENTION = (JobStatus.FAILED, JobStatus.UNKNOWN, JobStatus.LOST)
FINAL = (JobStatus.DONE, *NEEDS_ATTENTION)


def sources(event: JobEvent) -> tuple[JobStatus, ...]:
    """Every state `event` may move a job from."""
    return tuple(status for status, listed in TRANSITIONS if listed is event)


def target(event: JobEvent) -> JobStatus:
    """The one state `event` leads to (the store writes it in one UPDATE)."""
    targets = {TRANSITIONS[(status, event)] for status in sources(event)}
    if len(targets) != 1:
        raise ValueError(f"The event {event.value} must lead to exactly one state.")
    return targets.pop()


WAITING_FOR_KEY = "Waiting for the API key: enter it in the sidebar to resume."


def status_words(
    status: JobStatus,
    *,
    progress: int = 0,
    error_message: str | None = None,
    key_available: bool = True,
) -> str:
    """What a job is doing, in words: "Queued", "Generating 45 %", "Failed: <reason>"..."""
    if status in POLLED and not key_available:
        return WAITING_FOR_KEY
    match status:
        case JobStatus.SUBMITTING:
            return "Sending"
        case JobStatus.QUEUED:
            return "Queued"
        case JobStatus.RUNNING:
            return f"Generating {progress} %"
        case JobStatus.DOWNLOADING:
            return "Saving images"
        case JobStatus.DONE:
            return "Done"
        case JobStatus.FAILED:
            return f"Failed: {error_message or 'FoxAPI gave no reason.'}"
        case JobStatus.LOST:
            return f"Lost: {error_message or 'FoxAPI no longer knows this job.'}"
        case JobStatus.UNKNOWN:
            return "Outcome unknown"


def values(statuses: Iterable[JobStatus]) -> list[str]:
    return [status.value for status in statuses]
