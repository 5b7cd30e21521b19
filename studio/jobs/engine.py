"""The job engine: the only part that talks to FoxAPI and writes jobs to the store.

One per process, in its own thread, independent of any browser. It records a job before
the POST leaves, the task id the moment the answer arrives, polls every unfinished job
it holds a lease on, and archives results as soon as they complete.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from studio.archive import Archive
from studio.credentials import Credentials
from studio.db.database import DatabaseUnavailable
from studio.errors import (
    FoxAPIError,
    NotFound,
    OutcomeUnknown,
    Unauthorized,
    UnusableTask,
)
from studio.fetch import Fetcher, FetchPolicy
from studio.jobs import downloads, leases
from studio.jobs.agenda import Agenda, Backoff
from studio.jobs.clients import RESULT_LIFETIME, Clients
from studio.jobs.downloads import Downloads, Fetched
from studio.jobs.notes import (
    INTERNAL_PROBLEM,
    JOB_EXPIRED,
    KEY_REFUSED,
    RESUBMIT_NEVER,
    UPSTREAM_TROUBLE,
)
from studio.jobs.results import ResultSaver
from studio.jobs.schedule import HISTORY_SIZE, PollSchedule
from studio.jobs.store import JobStore, WorkStore
from studio.people import LOCAL, Person, Quota
from studio.records import ImageRecord, JobOrigin, JobRecord
from studio.request import GenerationRequest
from studio.settings import DEFAULTS
from studio.states import POLLED, JobEvent, JobStatus
from studio.task import Task, TaskStatus

log = logging.getLogger(__name__)

MAX_POLL_REFUSALS = 5  # answers that retrying cannot obviously fix (400, 403, unreadable...)
MAX_UNEXPECTED_FAILURES = 8
CLAIM_INTERVAL = 2.0  # seconds between looks for jobs to take up (new, lapsed, orphaned)
DATABASE_RETRY = 2.0  # seconds between tries of a job while the database does not answer


class Engine:
    def __init__(
        self,
        jobs: JobStore,
        work: WorkStore,
        archive: Archive,
        *,
        requests_per_second: float = DEFAULTS.studio_max_requests_per_second,
        lease_seconds: float = DEFAULTS.studio_lease_seconds,
        workers: int = 4,
        max_downloads: int = downloads.MAX_CONCURRENT_DOWNLOADS,
        transport: httpx.BaseTransport | None = None,
        fetch_policy: FetchPolicy | None = None,
        retry_seconds: float = 2.0,
        on_job_finished: Callable[[str], None] | None = None,
    ) -> None:
        """`retry_seconds` is the first wait after a failure; each next one doubles, up to a
        minute. `fetch_policy` governs result downloads (FetchPolicy.from_settings).
        `on_job_finished` hears of each job this engine moved to its final state."""
        self._on_job_finished = on_job_finished
        self.jobs = jobs
        self.work = work
        self.archive = archive
        self.lease_seconds = lease_seconds
        self.owner = leases.engine_name()
        self._poll_schedule = PollSchedule(
            lambda backend: jobs.finishes(backend, limit=HISTORY_SIZE)
        )
        # Results are fetched without any key; each upstream's own origin is trusted as
        # its credentials arrive (the demo backend serves its results on loopback).
        self._fetcher = Fetcher(fetch_policy or FetchPolicy.defaults(), transport=transport)
        self.clients = Clients(
            work,
            archive,
            self._fetcher,
            requests_per_second=requests_per_second,
            transport=transport,
        )
        # Apart from polls, and each on a thread of its own: a slow result host (each
        # download may take up to the fetch deadline) holds up neither polls nor others.
        self._downloads = Downloads(self._fetcher, max_concurrent=max_downloads)
        self._backoff = Backoff(retry_seconds)
        self._agenda = Agenda(workers)
        self._results = ResultSaver(
            jobs,
            work,
            archive,
            self._agenda,
            self._backoff,
            owner=self.owner,
            finished=self._finished,
        )
        self._wake = self._agenda.wake
        self._lock = threading.Lock()  # for the two flags below
        self._claim_failing = False
        self._database_down = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="studio-engine")

    # Keys -------------------------------------------------------------------------

    def add_credentials(self, credentials: Credentials) -> None:
        """Make a key usable by the engine (kept in memory only) and resume its jobs."""
        self.clients.add(credentials)
        self._wake.set()

    def has_credentials(self, key_id: str) -> bool:
        return self.clients.has(key_id)

    # Running ----------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="studio-engine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop working and hand this engine's leases back so another can go on at once."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._downloads.close()
        try:
            self.work.release_leases(self.owner)
        except DatabaseUnavailable as exc:  # the leases lapse by themselves instead
            log.warning("%s Leases were not handed back.", exc.message)
        self.clients.close()
        self._fetcher.close()

    # What pages and the command line call -----------------------------------------

    def submit(
        self,
        request: GenerationRequest,
        credentials: Credentials,
        *,
        retry_of: str | None = None,
        origin: JobOrigin = JobOrigin(),  # noqa: B008 (frozen: one shared empty origin is fine)
        owner: Person = LOCAL,
        quota: Quota | None = None,
    ) -> JobRecord:
        """Record the job, send the one POST, record the task id and return the job.

        Raises SpendLimitReached when the job does not fit in `quota` (nothing sent), the
        client's error when FoxAPI refused it (nothing billed, nothing kept), or
        OutcomeUnknown when the request may have arrived (the job stays, marked so).
        """
        self.add_credentials(credentials)
        # Named, and said to be sending, before its row exists: a claim in between would
        # otherwise take it for a job a dead process left mid-POST and mark it unknown.
        job_id = uuid.uuid4().hex
        self._agenda.sending(job_id, True)
        try:
            job = self.jobs.create_job(
                request,
                backend=credentials.backend,
                key_id=credentials.key_id,
                lease_owner=self.owner,
                lease_seconds=self.lease_seconds,
                retry_of=retry_of,
                origin=origin,
                owner_sub=owner.sub,
                owner_email=owner.email,
                quota=quota,
                job_id=job_id,
            )
            task = self._post(job.id, request, credentials)
        finally:
            self._agenda.sending(job_id, False)
        self.jobs.mark_submitted(
            job.id, _progress_event(task), task, owner=self.owner, lease_seconds=self.lease_seconds
        )
        first_poll = self._poll_schedule.next_delay(
            backend=credentials.backend,
            mode=request.mode,
            num_outputs=request.num_outputs,
            elapsed=0,
            estimated_time=task.estimated_time,
            progress=0,
        )
        self._agenda.expect(job.id, time.time(), 0, task.estimated_time, 0)
        self._agenda.schedule(job.id, first_poll)
        return self.jobs.job(job.id)

    def _post(self, job_id: str, request: GenerationRequest, credentials: Credentials) -> Task:
        """The job's one POST: a refused one forgets the job, a lost one marks it unknown."""
        try:
            return self.clients.client(credentials).submit(request)
        except FoxAPIError as exc:
            if not exc.may_have_arrived:
                self.jobs.delete_unsent_job(job_id)
                raise
            message = (
                f"{exc.message} FoxAPI may have received the request and billed it; "
                "the studio did not send it again."
            )
            self.jobs.mark_outcome_unknown(job_id, message, error_code=exc.code)
            raise OutcomeUnknown(message, job_id=job_id, status=exc.status, code=exc.code) from exc
        except BaseException:
            # Interrupted mid-request (Ctrl-C): the POST may have arrived.
            self.jobs.mark_outcome_unknown(job_id, RESUBMIT_NEVER)
            raise

    # The loop ---------------------------------------------------------------------

    def _run(self) -> None:
        next_claim = 0.0
        while not self._stopping.is_set():
            now = time.time()
            if now >= next_claim:
                self._claim()
                next_claim = now + min(self.lease_seconds / 3, CLAIM_INTERVAL)
            ready, upcoming = self._agenda.take_due(now)
            for job_id in ready:
                self._pool.submit(self._work, job_id)
            self._wake.wait(timeout=min(1.0, max(0.02, upcoming - now)))
            self._wake.clear()

    def _claim(self) -> None:
        """Take up every job this engine may work on; renew the leases it holds."""
        try:
            dead = leases.dead_owners(self.work.lease_owners())
            claimed = self.work.claim_jobs(self.owner, self.lease_seconds, dead_owners=dead)
            self._database_answers()
            # Jobs whose lease went elsewhere drop out in _work, when the store refuses a write.
            for job in self._agenda.new_to_us(claimed):
                if job.status is JobStatus.SUBMITTING:
                    self.jobs.mark_outcome_unknown(job.id, RESUBMIT_NEVER)
                else:
                    self._agenda.schedule(job.id, 0)
        except DatabaseUnavailable as exc:
            self._database_away(exc)
        except Exception as exc:
            # The whole story once; while it lasts, a plain line (this runs every 2 s).
            if self._claim_failing:
                log.warning("Still cannot read unfinished jobs from the store: %r", exc)
            else:
                log.exception("Could not read unfinished jobs from the store")
            self._claim_failing = True
            return
        self._claim_failing = False

    def _work(self, job_id: str) -> None:
        handed_over = False
        try:
            job = self.jobs.job(job_id)
            if job.status in POLLED:
                self._poll(job)
            elif job.status is JobStatus.DOWNLOADING:
                pending = self._results.pending(job)
                handed_over = True  # the job stays busy until its results are saved
                self._downloads.fetch_all(
                    [image.source_url for image in pending],
                    lambda fetched: self._save(job, pending, fetched),
                )
                return
            else:
                self._agenda.forget(job_id)
            self._agenda.unexpected.clear(job_id)
        except DatabaseUnavailable as exc:
            self._wait_for_database(job_id, exc)
        except Exception as exc:
            self._unexpected_failure(job_id, exc)
        finally:
            self._agenda.worker_back()
            if not handed_over:
                self._agenda.release(job_id)
            else:
                self._wake.set()  # a worker is free for the next due job

    def _save(self, job: JobRecord, pending: list[ImageRecord], fetched: list[Fetched]) -> None:
        try:
            self._results.save(job, pending, fetched)
            self._agenda.unexpected.clear(job.id)
        except DatabaseUnavailable as exc:
            self._wait_for_database(job.id, exc)
        except Exception as exc:
            self._unexpected_failure(job.id, exc)
        finally:
            self._agenda.release(job.id)

    def _wait_for_database(self, job_id: str, problem: DatabaseUnavailable) -> None:
        # Nothing is decided about a job while the database is away: ask again soon.
        self._database_away(problem)
        self._agenda.schedule(job_id, DATABASE_RETRY)

    def _unexpected_failure(self, job_id: str, exc: Exception) -> None:
        """A bug or a store that cannot be reached: retried with backoff, then ended.

        The traceback is logged the first time only; repeats get a plain line.
        """
        count = self._agenda.unexpected.add(job_id)
        if count == 1:
            log.exception("Unexpected problem working on job %s", job_id)
        else:
            log.warning("Unexpected problem working on job %s again (%d): %r", job_id, count, exc)
        if count >= MAX_UNEXPECTED_FAILURES:
            try:
                self._end(job_id, INTERNAL_PROBLEM)
                return
            except Exception as ending:
                log.warning("Could not end job %s either: %r", job_id, ending)
        self._agenda.schedule(job_id, self._backoff.delay(count))

    def _poll(self, job: JobRecord) -> None:
        if time.time() - (job.submitted_at or job.created_at) > RESULT_LIFETIME:
            # Whatever FoxAPI made for it is deleted by now (a downloading job's images
            # are judged one by one in _download).
            self._end(job.id, JOB_EXPIRED)
            return
        credentials = self.clients.credentials(job.key_id)
        if credentials is None or job.task_id is None:
            self._agenda.schedule(job.id, 2)  # waits until the key is entered again
            return
        try:
            task = self.clients.client(credentials).get_task(job.task_id)
        except NotFound:
            self.jobs.finish_job(
                job.id,
                JobEvent.TASK_LOST,
                owner=self.owner,
                error_code="not_found",
                error_message="FoxAPI no longer knows this task, so its images cannot be fetched.",
            )
            self._finished(job.id)
            return
        except UnusableTask as exc:
            self._end(job.id, exc.message)
            return
        except Unauthorized:
            self.jobs.set_job_note(job.id, KEY_REFUSED, owner=self.owner)
            self.clients.drop(job.key_id)
            self._agenda.schedule(job.id, 5)
            return
        except FoxAPIError as exc:
            # Outages are ridden out (until the results' 24 hours are up); an answer that
            # retrying cannot obviously fix ends the job after a few tries.
            failures = self._agenda.failures.add(job.id)
            if not exc.retryable and failures >= MAX_POLL_REFUSALS:
                self._end(job.id, f"The studio stopped checking this job. {exc.message}")
                return
            note = UPSTREAM_TROUBLE if exc.retryable else exc.message
            self.jobs.set_job_note(job.id, note, owner=self.owner)
            self._agenda.schedule(job.id, self._backoff.retry_delay(failures, exc))
            return
        self._agenda.failures.clear(job.id)
        if task.succeeded:
            # Only the images asked for are fetched and kept, however many FoxAPI sent.
            count_note = downloads.count_note(len(task.result_urls), job.request.num_outputs)
            task = task.first(job.request.num_outputs)
            if self.jobs.record_results(job.id, task, owner=self.owner):
                if count_note:
                    self._agenda.count_note.set(job.id, count_note)
                    self.jobs.set_job_note(job.id, count_note, owner=self.owner)
                self._agenda.results_ready(job.id)
                self._agenda.schedule(job.id, 0)  # saved by a download thread
        elif task.failed:
            self.jobs.finish_job(
                job.id,
                JobEvent.TASK_FAILED,
                owner=self.owner,
                error_code=task.error_code,
                error_message=task.error_message or "FoxAPI could not generate this image.",
            )
            self._finished(job.id)
        elif self.jobs.record_progress(job.id, _progress_event(task), task, owner=self.owner):
            if job.error_message:
                self.jobs.set_job_note(job.id, None, owner=self.owner)
            submitted_at = job.submitted_at or job.created_at
            elapsed = time.time() - submitted_at
            estimated_time = task.estimated_time or job.estimated_time
            next_poll = self._poll_schedule.next_delay(
                backend=job.backend,
                mode=job.mode,
                num_outputs=job.request.num_outputs,
                elapsed=elapsed,
                estimated_time=estimated_time,
                progress=task.progress,
                crowded=self._agenda.crowded,
            )
            self._agenda.expect(job.id, submitted_at, elapsed, estimated_time, task.progress)
            self._agenda.schedule(job.id, next_poll)
        else:
            self._agenda.forget(job.id)  # another engine holds it now

    def _end(self, job_id: str, reason: str) -> None:
        """The studio stops trying: the job fails with `reason`, in words its owner can read."""
        self.jobs.finish_job(job_id, JobEvent.GAVE_UP, owner=self.owner, error_message=reason)
        self._finished(job_id)

    # Helpers ----------------------------------------------------------------------

    def _database_away(self, problem: DatabaseUnavailable) -> None:
        with self._lock:
            first, self._database_down = not self._database_down, True
        if first:
            log.warning("%s Jobs wait and resume when it answers again.", problem.message)

    def _database_answers(self) -> None:
        with self._lock:
            was_down, self._database_down = self._database_down, False
        if was_down:
            log.warning("The database answers again: jobs resume.")

    def _finished(self, job_id: str) -> None:
        self._agenda.forget(job_id)
        if self._on_job_finished is not None:
            try:
                self._on_job_finished(job_id)
            except Exception:  # a listener's trouble is never the job's
                log.exception("A listener failed on finished job %s", job_id)


def _progress_event(task: Task) -> JobEvent:
    # `completed` without results is still running: only results make it final.
    if task.status is TaskStatus.PENDING:
        return JobEvent.TASK_PENDING
    return JobEvent.TASK_PROCESSING
