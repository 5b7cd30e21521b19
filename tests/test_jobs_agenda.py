"""studio.jobs.agenda: which held jobs a free worker takes next, and how long the engine
waits after failures in a row."""

from __future__ import annotations

import time

import pytest

from studio.errors import RateLimited, ServerError
from studio.jobs.agenda import MAX_BACKOFF, Agenda, Backoff


def test_with_more_jobs_due_than_workers_the_likeliest_finished_go_and_the_rest_wait() -> None:
    agenda = Agenda(workers=2)
    now = time.time()
    for job_id, finishes_in in (("late", 60.0), ("soon", 1.0), ("now", 0.0)):
        agenda.schedule(job_id, 0)
        agenda.expect(job_id, now, 0, finishes_in, 0)

    ready, upcoming = agenda.take_due(now + 0.01)

    assert sorted(ready) == ["now", "soon"]
    assert agenda.crowded and upcoming == pytest.approx(now + 1.01)  # waits for a worker
    assert agenda.take_due(now + 0.02)[0] == []  # both workers are still out
    agenda.forget("now")  # its job finished
    agenda.worker_back()
    agenda.release("now")
    assert agenda.take_due(now + 0.03)[0] == ["late"]


def test_a_job_being_sent_or_scheduled_is_not_new_to_the_engine() -> None:
    class Claimed:
        def __init__(self, job_id: str) -> None:
            self.id = job_id

    agenda = Agenda(workers=4)
    agenda.sending("posting", True)
    agenda.schedule("polled", 5)
    claimed = [Claimed("posting"), Claimed("polled"), Claimed("orphan")]

    assert [job.id for job in agenda.new_to_us(claimed)] == ["orphan"]  # type: ignore[arg-type]
    agenda.sending("posting", False)
    agenda.forget("polled")
    assert len(agenda.new_to_us(claimed)) == 3  # type: ignore[arg-type]


def test_failures_in_a_row_count_per_job_and_are_forgotten_with_it() -> None:
    agenda = Agenda(workers=1)
    assert [agenda.failures.add("a"), agenda.failures.add("a"), agenda.failures.add("b")] == [
        1,
        2,
        1,
    ]
    agenda.gave_up.set("a", "The host refused.")
    agenda.forget("a")
    assert agenda.failures.add("a") == 1
    assert agenda.gave_up.get("a") is None


def test_the_wait_doubles_up_to_a_minute_and_retry_after_may_ask_for_longer() -> None:
    backoff = Backoff(2.0)
    assert [backoff.delay(failures) for failures in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert backoff.delay(20) == MAX_BACKOFF
    assert backoff.retry_delay(1, RateLimited("slow down", retry_after=30)) == 30
    assert backoff.retry_delay(1, RateLimited("slow down", retry_after=3600)) == MAX_BACKOFF
    assert backoff.retry_delay(2, ServerError("busy")) == 4.0
