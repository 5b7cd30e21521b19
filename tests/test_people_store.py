"""studio.people.store: what each person was billed.

Every test here runs twice: on a SQLite file and on a real PostgreSQL database.
"""

from __future__ import annotations

import time

import pytest

from studio.states import JobEvent
from studio.store import Store
from studio.task import Task, TaskStatus
from tests.store_support import new_job, request


@pytest.fixture
def store(store_on_each_database: Store) -> Store:
    return store_on_each_database


def test_billed_today_counts_accepted_and_uncertain_jobs_only(store: Store) -> None:
    accepted = new_job(store, num_outputs=3)
    store.jobs.mark_submitted(
        accepted.id,
        JobEvent.TASK_PENDING,
        Task(id="t-a", status=TaskStatus.PENDING),
        owner="a",
        lease_seconds=1,
    )
    uncertain = new_job(store, num_outputs=2)
    store.jobs.mark_outcome_unknown(uncertain.id, "timed out")
    refused = new_job(store, num_outputs=4)
    store.jobs.delete_unsent_job(refused.id)
    demo = store.jobs.create_job(
        request(), backend="demo", key_id="demo", lease_owner="a", lease_seconds=1
    )
    store.jobs.mark_submitted(
        demo.id,
        JobEvent.TASK_PENDING,
        Task(id="t-d", status=TaskStatus.PENDING),
        owner="a",
        lease_seconds=1,
    )
    assert store.people.images_billed_since(time.time() - 60) == 5
