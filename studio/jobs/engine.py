"""The job engine: the only part that talks to FoxAPI and writes jobs to the store.

One per process, in its own thread, independent of any browser. It records a job before
the POST leaves, the task id the moment the answer arrives, polls every unfinished job
it holds a lease on, and archives results as soon as they complete.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from studio import downloads, leases
from studio.archive import Archive
from studio.credentials import Credentials
from studio.db.database import DatabaseUnavailable
from studio.decoding import NotDecodable
from studio.downloads import Downloads, Fetched
from studio.errors import (
    AddressNotAllowed,
    DownloadTooLarge,
    DownloadTooSlow,
    FoxAPIError,
    InvalidImage,
    NotAnImage,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    ResultExpired,
    Unauthorized,
    UnusableTask,
)
from studio.fetch import Fetcher, FetchPolicy
from studio.jobs.clients import RESULT_LIFETIME, Clients
from studio.jobs.notes import (
    DISK_FULL,
    INTERNAL_PROBLEM,
    JOB_EXPIRED,
    KEY_REFUSED,
    RESUBMIT_NEVER,
    RESULTS_EXPIRED,
    STORAGE_UNWRITABLE,
    UPSTREAM_TROUBLE,
)
from studio.jobs.store import JobStore, WorkStore
from studio.people import LOCAL, Person, Quota
from studio.records import ImageRecord, JobOrigin, JobRecord
from studio.request import GenerationRequest
from studio.schedule import HISTORY_SIZE, PollSchedule, likely_finish, most_likely_first
from studio.settings import DEFAULTS
from studio.states import POLLED, ImageStatus, JobEvent, JobStatus
from studio.task import Task, TaskStatus

log = logging.getLogger(__name__)

MAX_DOWNLOAD_ATTEMPTS = 8  # with the backoff below, about three minutes of patience
MAX_POLL_REFUSALS = 5  # answers that retrying cannot obviously fix (400, 403, unreadable...)
MAX_UNEXPECTED_FAILURES = 8
MAX_BACKOFF = 60.0
CLAIM_INTERVAL = 2.0  # seconds between looks for jobs to take up (new, lapsed, orphaned)
# Fetch failures that another try cannot change: the image is given up at once.
_FINAL_FETCH_FAILURES = (AddressNotAllowed, DownloadTooSlow, DownloadTooLarge, NotAnImage)
_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
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
        self._retry_seconds = retry_seconds
        self._lock = threading.Lock()
        self._due: dict[str, float] = {}  # job id -> when to work on it next
        # job id -> when (time.time()) its task most likely finishes, from its last answer
        self._likely_finish: dict[str, float] = {}
        self._busy: set[str] = set()
        self._workers = workers
        self._working = 0  # jobs handed to the pool and not yet back
        self._crowded = False  # whether due jobs had to wait for a worker last time round
        self._sending: set[str] = set()  # jobs whose POST this process is sending now
        self._failures: dict[str, int] = {}  # job id -> FoxAPI or fetch failures in a row
        self._disk_waits: dict[str, int] = {}  # job id -> archive writes failed in a row
        self._unexpected: dict[str, int] = {}  # job id -> unexpected errors in a row
        self._gave_up: dict[str, str] = {}  # job id -> why its last image was given up
        self._sent_more: dict[str, str] = {}  # job id -> the note that FoxAPI sent more
        self._claim_failing = False
        self._database_down = False
        self._wake = threading.Event()
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
        )
        with self._lock:
            self._sending.add(job.id)
        try:
            task = self.clients.client(credentials).submit(request)
        except FoxAPIError as exc:
            if not exc.may_have_arrived:
                self.jobs.delete_unsent_job(job.id)
                raise
            message = (
                f"{exc.message} FoxAPI may have received the request and billed it; "
                "the studio did not send it again."
            )
            self.jobs.mark_outcome_unknown(job.id, message, error_code=exc.code)
            raise OutcomeUnknown(message, job_id=job.id, status=exc.status, code=exc.code) from exc
        except BaseException:
            # Interrupted mid-request (Ctrl-C): the POST may have arrived.
            self.jobs.mark_outcome_unknown(job.id, RESUBMIT_NEVER)
            raise
        finally:
            with self._lock:
                self._sending.discard(job.id)
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
        self._expect(job.id, time.time(), 0, task.estimated_time, 0)
        self._schedule(job.id, first_poll)
        return self.jobs.job(job.id)

    # The loop ---------------------------------------------------------------------

    def _run(self) -> None:
        next_claim = 0.0
        while not self._stopping.is_set():
            now = time.time()
            if now >= next_claim:
                self._claim()
                next_claim = now + min(self.lease_seconds / 3, CLAIM_INTERVAL)
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
                # A busy job's next turn is set when it is released (which wakes this loop),
                # and a job left waiting goes when a worker comes back (which wakes it too).
                upcoming = min(
                    (due for job_id, due in self._due.items() if job_id not in self._busy),
                    default=now + 1.0,
                )
                self._crowded = len(ready) < len(due)
                if self._crowded:
                    upcoming = now + 1.0
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
            with self._lock:
                fresh = [job for job in claimed if job.id not in self._due.keys() | self._sending]
            for job in fresh:
                if job.status is JobStatus.SUBMITTING:
                    self.jobs.mark_outcome_unknown(job.id, RESUBMIT_NEVER)
                else:
                    self._schedule(job.id, 0)
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
                pending = self._pending_results(job)
                handed_over = True  # the job stays busy until its results are saved
                self._downloads.fetch_all(
                    [image.source_url for image in pending],
                    lambda fetched: self._save(job, pending, fetched),
                )
                return
            else:
                self._forget(job_id)
            with self._lock:
                self._unexpected.pop(job_id, None)
        except DatabaseUnavailable as exc:
            self._wait_for_database(job_id, exc)
        except Exception as exc:
            self._unexpected_failure(job_id, exc)
        finally:
            with self._lock:
                self._working -= 1
            if not handed_over:
                self._release(job_id)
            else:
                self._wake.set()  # a worker is free for the next due job

    def _pending_results(self, job: JobRecord) -> list[ImageRecord]:
        """The job's results still to fetch; those past FoxAPI's 24 hours are expired."""
        pending = []
        for image in self.work.pending_images(job.id):
            if time.time() - image.created_at > RESULT_LIFETIME:
                self.work.expire_image(image.id)
            else:
                pending.append(image)
        return pending

    def _save(self, job: JobRecord, pending: list[ImageRecord], fetched: list[Fetched]) -> None:
        try:
            self._archive_results(job, pending, fetched)
            with self._lock:
                self._unexpected.pop(job.id, None)
        except DatabaseUnavailable as exc:
            self._wait_for_database(job.id, exc)
        except Exception as exc:
            self._unexpected_failure(job.id, exc)
        finally:
            self._release(job.id)

    def _wait_for_database(self, job_id: str, problem: DatabaseUnavailable) -> None:
        # Nothing is decided about a job while the database is away: ask again soon.
        self._database_away(problem)
        self._schedule(job_id, DATABASE_RETRY)

    def _release(self, job_id: str) -> None:
        with self._lock:
            self._busy.discard(job_id)
        self._wake.set()

    def _unexpected_failure(self, job_id: str, exc: Exception) -> None:
        """A bug or a store that cannot be reached: retried with backoff, then ended.

        The traceback is logged the first time only; repeats get a plain line.
        """
        count = self._count(self._unexpected, job_id)
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
        self._schedule(job_id, self._delay(count))

    def _poll(self, job: JobRecord) -> None:
        if time.time() - (job.submitted_at or job.created_at) > RESULT_LIFETIME:
            # Whatever FoxAPI made for it is deleted by now (a downloading job's images
            # are judged one by one in _download).
            self._end(job.id, JOB_EXPIRED)
            return
        credentials = self.clients.credentials(job.key_id)
        if credentials is None or job.task_id is None:
            self._schedule(job.id, 2)  # waits until the key is entered again
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
            self._schedule(job.id, 5)
            return
        except FoxAPIError as exc:
            # Outages are ridden out (until the results' 24 hours are up); an answer that
            # retrying cannot obviously fix ends the job after a few tries.
            failures = self._count(self._failures, job.id)
            if not exc.retryable and failures >= MAX_POLL_REFUSALS:
                self._end(job.id, f"The studio stopped checking this job. {exc.message}")
                return
            note = UPSTREAM_TROUBLE if exc.retryable else exc.message
            self.jobs.set_job_note(job.id, note, owner=self.owner)
            self._schedule(job.id, self._retry_delay(failures, exc))
            return
        self._failures.pop(job.id, None)
        if task.succeeded:
            # Only the images asked for are fetched and kept, however many FoxAPI sent.
            sent_more = downloads.sent_more(len(task.result_urls), job.request.num_outputs)
            task = task.first(job.request.num_outputs)
            if self.jobs.record_results(job.id, task, owner=self.owner):
                if sent_more:
                    with self._lock:
                        self._sent_more[job.id] = sent_more
                    self.jobs.set_job_note(job.id, sent_more, owner=self.owner)
                with self._lock:
                    self._likely_finish.pop(job.id, None)  # done: its download goes first
                self._schedule(job.id, 0)  # saved by a download thread
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
                crowded=self._crowded,
            )
            self._expect(job.id, submitted_at, elapsed, estimated_time, task.progress)
            self._schedule(job.id, next_poll)
        else:
            self._forget(job.id)  # another engine holds it now

    def _archive_results(
        self, job: JobRecord, pending: list[ImageRecord], fetched: list[Fetched]
    ) -> None:
        sent_more = self._sent_more.get(job.id) or downloads.sent_more_in(job.error_message)
        noted = job.error_message not in (None, sent_more)
        retry: FoxAPIError | None = None  # the first failure another try may cure
        for image, result in zip(pending, fetched, strict=True):
            if isinstance(result, ResultExpired):
                self.work.expire_image(image.id)
                continue
            if isinstance(result, _FINAL_FETCH_FAILURES):
                self._give_up_image(job.id, image.id, result.message)
                continue
            if isinstance(result, FoxAPIError):
                retry = retry or result
                continue
            if isinstance(result, Exception):
                raise result
            try:
                archived = self.archive.save(result.content)
            except InvalidImage as exc:  # a format not decoded (NotDecodable) is never kept
                saying = "" if isinstance(exc, NotDecodable) else "The result could not be saved. "
                self._give_up_image(job.id, image.id, saying + exc.message)
                continue
            except OSError as exc:
                # Nothing is lost: the result stays pending and is fetched again.
                full = exc.errno in _DISK_FULL_ERRNOS
                log.warning("Could not archive a result of job %s: %s", job.id, exc)
                self.jobs.set_job_note(
                    job.id, DISK_FULL if full else STORAGE_UNWRITABLE, owner=self.owner
                )
                self._schedule(job.id, self._retry_delay(self._count(self._disk_waits, job.id)))
                return
            self._disk_waits.pop(job.id, None)
            if noted:
                self.jobs.set_job_note(job.id, sent_more, owner=self.owner)
                noted = False
            self.work.archive_image(image.id, archived)
        if retry is not None:
            failures = self._count(self._failures, job.id)
            if failures < MAX_DOWNLOAD_ATTEMPTS:
                self._schedule(job.id, self._retry_delay(failures, retry))
                return
            message = f"The result could not be fetched. {retry.message}"
            for image in self.work.pending_images(job.id):
                self._give_up_image(job.id, image.id, message)
        with self._lock:
            gave_up = self._gave_up.get(job.id)
        saved = any(image.status is ImageStatus.ARCHIVED for image in self.work.images_of(job.id))
        # A job with nothing saved says why; one with images, what it lacks, if anything.
        note = downloads.final_note(gave_up if saved else gave_up or RESULTS_EXPIRED, sent_more)
        event = JobEvent.SAVED if saved else JobEvent.NOTHING_SAVED
        self.jobs.finish_job(job.id, event, owner=self.owner, error_message=note)
        self._finished(job.id)

    def _give_up_image(self, job_id: str, image_id: int, reason: str) -> None:
        log.warning("Gave up on image %s of job %s: %s", image_id, job_id, reason)
        with self._lock:
            self._gave_up[job_id] = reason
        self.work.expire_image(image_id)

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

    def _schedule(self, job_id: str, delay: float) -> None:
        with self._lock:
            self._due[job_id] = time.time() + delay
        self._wake.set()

    def _expect(
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

    def _finished(self, job_id: str) -> None:
        self._forget(job_id)
        if self._on_job_finished is not None:
            try:
                self._on_job_finished(job_id)
            except Exception:  # a listener's trouble is never the job's
                log.exception("A listener failed on finished job %s", job_id)

    def _forget(self, job_id: str) -> None:
        with self._lock:
            self._due.pop(job_id, None)
            self._likely_finish.pop(job_id, None)
            self._failures.pop(job_id, None)
            self._disk_waits.pop(job_id, None)
            self._unexpected.pop(job_id, None)
            self._gave_up.pop(job_id, None)
            self._sent_more.pop(job_id, None)

    def _count(self, counts: dict[str, int], job_id: str) -> int:
        """One more failure of a kind for `job_id`; how many in a row now."""
        with self._lock:
            failures = counts[job_id] = counts.get(job_id, 0) + 1
        return failures

    def _delay(self, failures: int) -> float:
        return min(MAX_BACKOFF, self._retry_seconds * 2.0 ** (failures - 1))

    def _retry_delay(self, failures: int, error: FoxAPIError | None = None) -> float:
        delay = self._delay(failures)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return max(delay, min(error.retry_after, MAX_BACKOFF))
        return delay


def _progress_event(task: Task) -> JobEvent:
    # `completed` without results is still running: only results make it final.
    if task.status is TaskStatus.PENDING:
        return JobEvent.TASK_PENDING
    return JobEvent.TASK_PROCESSING
