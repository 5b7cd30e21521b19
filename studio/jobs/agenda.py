"""What an engine knows of each job it holds: when it is next due, whether a worker has it,
when its task most likely finishes, and its troubles in a row.

The engine's loop and its workers read and change it at once, so each part holds a lock;
the loop sleeps on `wake` until something here changes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from studio.errors import FoxAPIError, RateLimited
from studio.jobs.schedule import likely_finish, most_likely_first
from studio.records import JobRecord

Value = TypeVar("Value")
MAX_BACKOFF = 60.0


@dataclass(frozen=True)
class Backoff:
    """How long to wait after failures in a row: `first` seconds, each next one doubled,
    up to a minute; longer when FoxAPI's Retry-After asks."""

    first: float

    def delay(self, failures: int) -> float:
        return min(MAX_BACKOFF, self.first * 2.0 ** (failures - 1))

    def retry_delay(self, failures: int, error: FoxAPIError | None = None) -> float:
        delay = self.delay(failures)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return max(delay, min(error.retry_after, MAX_BACKOFF))
        return delay


class PerJob(Generic[Value]):
    """One value per job, kept across threads."""

    def __init__(self) -> None:
        self._values: dict[str, Value] = {}
        self._lock = threading.Lock()

    def get(self, job_id: str) -> Value | None:
        with self._lock:
            return self._values.get(job_id)

    def set(self, job_id: str, value: Value) -> None:
        with self._lock:
            self._values[job_id] = value

    def clear(self, job_id: str) -> None:
        with self._lock:
            self._values.pop(job_id, None)


class Streak(PerJob[int]):
    """Failures of one kind in a row, per job."""

    def add(self, job_id: str) -> int:
        """One more failure for `job_id`; how many in a row now."""
        with self._lock:
            count = self._values[job_id] = self._values.get(job_id, 0) + 1
        return count


class Agenda:
    """When each held job is next worked on, and by no more workers than there are."""

    def __init__(self, workers: int) -> None:
        self.wake = threading.Event()
        self._workers = workers
        self._lock = threading.Lock()
        self._due: dict[str, float] = {}  # job id -> when to work on it next
        # job id -> when (time.time()) its task most likely finishes, from its last answer
        self._likely_finish: dict[str, float] = {}
        self._busy: set[str] = set()
        self._working = 0  # jobs handed to workers and not yet back
        self._sending: set[str] = set()  # jobs whose POST this process is sending now
        self.crowded = False  # whether due jobs had to wait for a worker last time round
        self.failures = Streak()  # FoxAPI or fetch failures in a row
        self.disk_waits = Streak()  # archive writes failed in a row
        self.unexpected = Streak()  # unexpected errors in a row
        self.gave_up = PerJob[str]()  # why the job's last image was given up
        self.count_note = PerJob[str]()  # the note that FoxAPI sent more or fewer than asked

    def take_due(self, now: float) -> tuple[list[str], float]:
        """The due jobs a free worker can take now, marked busy; and when to look again."""
        with self._lock:
            due = [
                job_id
                for job_id, due in self._due.items()
                if due <= now and job_id not in self._busy
            ]
            # No more than the workers can take: when more are due (many tasks sent at
            # once, polls queueing at the request-rate cap), those most likely finished
            # go first and the others stay due, ranked again as each worker comes back.
            ready = most_likely_first(due, self._likely_finish, self._workers - self._working)
            self._busy.update(ready)
            self._working += len(ready)
            # A busy job's next turn is set when it is released (which wakes the loop),
            # and a job left waiting goes when a worker comes back (which wakes it too).
            upcoming = min(
                (due for job_id, due in self._due.items() if job_id not in self._busy),
                default=now + 1.0,
            )
            self.crowded = len(ready) < len(due)
            if self.crowded:
                upcoming = now + 1.0
        return ready, upcoming

    def worker_back(self) -> None:
        with self._lock:
            self._working -= 1

    def release(self, job_id: str) -> None:
        """The job's worker is done with it (its next turn is already scheduled)."""
        with self._lock:
            self._busy.discard(job_id)
        self.wake.set()

    def sending(self, job_id: str, now_sending: bool) -> None:
        """Whether this process is sending the job's POST now (so no claim takes it)."""
        with self._lock:
            if now_sending:
                self._sending.add(job_id)
            else:
                self._sending.discard(job_id)

    def new_to_us(self, jobs: Iterable[JobRecord]) -> list[JobRecord]:
        """The claimed jobs this engine neither schedules nor is sending."""
        with self._lock:
            known = self._due.keys() | self._sending
            return [job for job in jobs if job.id not in known]

    def schedule(self, job_id: str, delay: float) -> None:
        with self._lock:
            self._due[job_id] = time.time() + delay
        self.wake.set()

    def expect(
        self,
        job_id: str,
        submitted_at: float,
        elapsed: float,
        estimated_time: float | None,
        progress: int,
    ) -> None:
        """Note when the job's task most likely finishes, as its latest answer tells."""
        finish = likely_finish(elapsed=elapsed, estimated_time=estimated_time, progress=progress)
        with self._lock:
            self._likely_finish[job_id] = submitted_at + finish

    def results_ready(self, job_id: str) -> None:
        """The job's task has finished: its download goes before any poll."""
        with self._lock:
            self._likely_finish.pop(job_id, None)

    def forget(self, job_id: str) -> None:
        with self._lock:
            self._due.pop(job_id, None)
            self._likely_finish.pop(job_id, None)
        for kept in (self.failures, self.disk_waits, self.unexpected):
            kept.clear(job_id)
        self.gave_up.clear(job_id)
        self.count_note.clear(job_id)
