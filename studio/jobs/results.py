"""Saving a finished job's results: each fetched image archived, or given up with the
reason its owner reads; the job ends once none is left to fetch, or waits to try again."""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable

from studio.archive import Archive
from studio.decoding import NotDecodable
from studio.errors import (
    AddressNotAllowed,
    DownloadTooLarge,
    DownloadTooSlow,
    FoxAPIError,
    InvalidImage,
    NotAnImage,
    ResultExpired,
)
from studio.jobs import downloads
from studio.jobs.agenda import Agenda, Backoff
from studio.jobs.clients import RESULT_LIFETIME
from studio.jobs.downloads import Fetched
from studio.jobs.notes import DISK_FULL, RESULTS_EXPIRED, STORAGE_UNWRITABLE
from studio.jobs.store import JobStore, WorkStore
from studio.records import ImageRecord, JobRecord
from studio.states import ImageStatus, JobEvent

log = logging.getLogger(__name__)

MAX_DOWNLOAD_ATTEMPTS = 8  # with the engine's backoff, about three minutes of patience
# Fetch failures that another try cannot change: the image is given up at once.
_FINAL_FETCH_FAILURES = (AddressNotAllowed, DownloadTooSlow, DownloadTooLarge, NotAnImage)
_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class ResultSaver:
    """An engine's hands for results: `finished` hears of each job it ends."""

    def __init__(
        self,
        jobs: JobStore,
        work: WorkStore,
        archive: Archive,
        agenda: Agenda,
        backoff: Backoff,
        *,
        owner: str,
        finished: Callable[[str], None],
    ) -> None:
        self.jobs, self.work, self.archive = jobs, work, archive
        self.owner = owner
        self._agenda = agenda
        self._backoff = backoff
        self._finished = finished

    def pending(self, job: JobRecord) -> list[ImageRecord]:
        """The job's results still to fetch; those past FoxAPI's 24 hours are expired."""
        pending = []
        for image in self.work.pending_images(job.id):
            if time.time() - image.created_at > RESULT_LIFETIME:
                self.work.expire_image(image.id)
            else:
                pending.append(image)
        return pending

    def save(self, job: JobRecord, pending: list[ImageRecord], fetched: list[Fetched]) -> None:
        """Keep what was fetched of `pending`; end the job, or schedule another try."""
        count_note = self._agenda.count_note.get(job.id) or downloads.count_note_in(
            job.error_message
        )
        noted = job.error_message not in (None, count_note)
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
                self._agenda.schedule(
                    job.id, self._backoff.retry_delay(self._agenda.disk_waits.add(job.id))
                )
                return
            self._agenda.disk_waits.clear(job.id)
            if noted:
                self.jobs.set_job_note(job.id, count_note, owner=self.owner)
                noted = False
            self.work.archive_image(image.id, archived)
        if retry is not None:
            failures = self._agenda.failures.add(job.id)
            if failures < MAX_DOWNLOAD_ATTEMPTS:
                self._agenda.schedule(job.id, self._backoff.retry_delay(failures, retry))
                return
            message = f"The result could not be fetched. {retry.message}"
            for image in self.work.pending_images(job.id):
                self._give_up_image(job.id, image.id, message)
        gave_up = self._agenda.gave_up.get(job.id)
        saved = any(image.status is ImageStatus.ARCHIVED for image in self.work.images_of(job.id))
        # A job with nothing saved says why; one with images, what it lacks, if anything.
        note = downloads.final_note(gave_up if saved else gave_up or RESULTS_EXPIRED, count_note)
        event = JobEvent.SAVED if saved else JobEvent.NOTHING_SAVED
        self.jobs.finish_job(job.id, event, owner=self.owner, error_message=note)
        self._finished(job.id)

    def _give_up_image(self, job_id: str, image_id: int, reason: str) -> None:
        log.warning("Gave up on image %s of job %s: %s", image_id, job_id, reason)
        self._agenda.gave_up.set(job_id, reason)
        self.work.expire_image(image_id)
