"""studio.records: a job's prompt and mode are its request's, and whether it is in flight."""

from __future__ import annotations

from dataclasses import replace

import pytest

from studio.records import JobRecord
from studio.request import GenerationRequest, Mode
from studio.states import JobStatus
from studio.store import Store

# Whether a job in each state is still on its way: its card stays live, it counts in flight.
IN_FLIGHT = {
    JobStatus.SUBMITTING: True,
    JobStatus.QUEUED: True,
    JobStatus.RUNNING: True,
    JobStatus.DOWNLOADING: True,
    JobStatus.DONE: False,
    JobStatus.FAILED: False,
    JobStatus.LOST: False,
    JobStatus.UNKNOWN: False,
}


def _create(store: Store, request: GenerationRequest) -> JobRecord:
    return store.jobs.create_job(
        request, backend="demo", key_id="demo", lease_owner="test", lease_seconds=30
    )


def test_a_jobs_prompt_and_mode_are_those_of_its_request(store: Store) -> None:
    generation = GenerationRequest.build(prompt="a red fox in the snow")
    edit = GenerationRequest.build(prompt="make it night", image_urls=["https://e.x/fox.png"])

    made, edited = _create(store, generation), _create(store, edit)

    assert (made.prompt, made.mode) == ("a red fox in the snow", Mode.GENERATE)
    read_back = store.jobs.job(edited.id)
    assert (read_back.prompt, read_back.mode) == ("make it night", Mode.EDIT)
    # Held once: a record can never show a prompt its request does not have.
    assert (replace(made, request=edit).prompt, replace(made, request=edit).mode) == (
        "make it night",
        Mode.EDIT,
    )


def test_the_table_covers_every_state() -> None:
    assert set(IN_FLIGHT) == set(JobStatus)


@pytest.mark.parametrize(("status", "in_flight"), IN_FLIGHT.items())
def test_a_job_is_in_flight_until_it_ends(store: Store, status: JobStatus, in_flight: bool) -> None:
    job = _create(store, GenerationRequest.build(prompt="a red fox"))

    assert replace(job, status=status).in_flight is in_flight
