"""The job lifecycle: one table of transitions, and a store that applies exactly it."""

from __future__ import annotations

import itertools
from collections import deque
from pathlib import Path

import pytest

from studio.request import GenerationRequest
from studio.states import (
    FINAL,
    IN_FLIGHT,
    TRANSITIONS,
    JobEvent,
    JobStatus,
    status_words,
    target,
)
from studio.store import Store

EVERY_PAIR = list(itertools.product(JobStatus, JobEvent))


def path_to(status: JobStatus) -> list[JobEvent]:
    """The shortest list of events that takes a new job (submitting) to `status`."""
    paths: dict[JobStatus, list[JobEvent]] = {JobStatus.SUBMITTING: []}
    queue = deque([JobStatus.SUBMITTING])
    while queue:
        current = queue.popleft()
        for (source, event), reached in TRANSITIONS.items():
            if source is current and reached not in paths:
                paths[reached] = [*paths[current], event]
                queue.append(reached)
    assert status in paths, f"no job can ever be {status.value}"
    return paths[status]


@pytest.fixture(scope="module")
def module_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    return Store(f"sqlite:///{Path(tmp_path_factory.mktemp('states')) / 'studio.db'}")


def job_in(store: Store, status: JobStatus) -> str:
    job = store.jobs.create_job(
        GenerationRequest.build(prompt="a fox"),
        backend="foxapi",
        key_id="key-test",
        lease_owner="engine-a",
        lease_seconds=30,
    )
    for event in path_to(status):
        assert store.jobs._transition(job.id, event, None, {})
    assert store.jobs.job(job.id).status is status
    return job.id


@pytest.mark.parametrize(("status", "event"), EVERY_PAIR)
def test_the_store_applies_exactly_the_table(
    module_store: Store, status: JobStatus, event: JobEvent
) -> None:
    job_id = job_in(module_store, status)
    allowed = (status, event) in TRANSITIONS

    applied = module_store.jobs._transition(job_id, event, None, {})

    assert applied is allowed
    expected = TRANSITIONS[(status, event)] if allowed else status
    assert module_store.jobs.job(job_id).status is expected


@pytest.mark.parametrize("event", list(JobEvent))
def test_each_event_leads_to_one_state(event: JobEvent) -> None:
    reached = {TRANSITIONS[pair] for pair in TRANSITIONS if pair[1] is event}
    assert reached == {target(event)}


def test_every_state_is_reachable_and_every_job_in_flight_can_end() -> None:
    for status in JobStatus:
        path_to(status)
    for status in IN_FLIGHT:
        reachable = {status}
        frontier = [status]
        while frontier:
            current = frontier.pop()
            for (source, _event), reached in TRANSITIONS.items():
                if source is current and reached not in reachable:
                    reachable.add(reached)
                    frontier.append(reached)
        assert reachable & set(FINAL), f"a {status.value} job could never end"


def test_a_finished_job_stays_finished_except_an_uncertain_one_answered_late() -> None:
    leaving = {source for (source, _event), reached in TRANSITIONS.items() if reached != source}
    assert leaving & set(FINAL) == {JobStatus.UNKNOWN}


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (JobStatus.SUBMITTING, "Sending"),
        (JobStatus.QUEUED, "Queued"),
        (JobStatus.RUNNING, "Generating 45 %"),
        (JobStatus.DOWNLOADING, "Saving images"),
        (JobStatus.DONE, "Done"),
        (JobStatus.FAILED, "Failed: refused"),
        (JobStatus.LOST, "Lost: refused"),
        (JobStatus.UNKNOWN, "Outcome unknown"),
    ],
)
def test_every_state_has_words_people_read(status: JobStatus, words: str) -> None:
    assert status_words(status, progress=45, error_message="refused") == words


def test_a_job_waiting_for_its_key_says_so() -> None:
    assert status_words(JobStatus.RUNNING, key_available=False).startswith(
        "Waiting for the API key"
    )
    assert status_words(JobStatus.DONE, key_available=False) == "Done"
