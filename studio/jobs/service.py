"""Jobs: what one person sends to FoxAPI, checked once, and where each of their jobs stands."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import NoResultFound

from studio import contact_sheet, formats, links, sweeps
from studio.credentials import Backend, Credentials
from studio.errors import FoxAPIError, InvalidImage
from studio.gallery.service import EditInput, GalleryService
from studio.jobs.engine import Engine
from studio.jobs.keys import TypedKeys
from studio.jobs.store import JobStore
from studio.links import UrlSigner
from studio.people import NotAllowed, Quota
from studio.people.access import Access
from studio.people.service import PeopleService
from studio.records import (
    InputSource,
    JobOrigin,
    JobRecord,
)
from studio.request import MAX_INPUT_IMAGES, GenerationRequest, InvalidRequest
from studio.settings import Settings
from studio.states import IN_FLIGHT, NEEDS_ATTENTION, JobStatus, status_words

log = logging.getLogger(__name__)

ATTENTION_WINDOW = 24 * 3600  # failed jobs older than this no longer ask for attention
RETRY_LOOKBACK = 60  # recent jobs searched for retries of a failed one
NO_INPUTS = "Add at least one image to edit: a link, an upload or a gallery image."
GONE_FROM_GALLERY = (
    "A gallery image you chose is no longer in the archive. Remove it and pick another."
)


@dataclass(frozen=True)
class Submission:
    """A checked request, ready to send: its images still to be turned into links."""

    request: GenerationRequest
    inputs: tuple[EditInput, ...] = ()

    def fingerprint(self, credentials: Credentials) -> str:
        """The same for the same request with the same key: how a double click is known."""
        parts = [self.request.to_json(), *(item.identity for item in self.inputs)]
        parts.append(credentials.key_id)
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    @property
    def parent_image_ids(self) -> tuple[int, ...]:
        """The gallery images this edit is made from: its place in their lineage."""
        return tuple(item.image_id for item in self.inputs if item.image_id is not None)


@dataclass(frozen=True)
class Sweep:
    """Every job of one click: the prompt's variants in each chosen ratio, checked."""

    plan: sweeps.SweepPlan
    submissions: tuple[Submission, ...]

    def fingerprint(self, credentials: Credentials) -> str:
        parts = [submission.fingerprint(credentials) for submission in self.submissions]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class SweepResult:
    """The jobs a sweep sent, and the refusal that stopped it, if one did."""

    jobs: list[JobRecord]
    stopped_by: FoxAPIError | None = None


@dataclass(frozen=True)
class JobProgress:
    """Where a job stands, as the browser draws it between page runs."""

    id: str
    in_flight: bool
    progress: int
    words: str
    note: str | None  # a passing problem: FoxAPI busy, the key refused...
    elapsed: float
    estimated: float | None


class JobService:
    """One person's jobs: keys, sending (edits and sweeps), retries, and where each stands."""

    def __init__(
        self,
        settings: Settings,
        store: JobStore,
        engine: Engine,
        keys: TypedKeys,
        signer: UrlSigner,
        gallery: GalleryService,
        people: PeopleService,
        access: Access,
    ) -> None:
        self.settings = settings
        self._store = store
        self._engine = engine
        self._keys = keys
        self.server_credentials = keys.server_credentials
        self.signer = signer
        self._gallery = gallery
        self._people = people
        self._access = access
        self.person = access.person

    @property
    def server_has_key(self) -> bool:
        return self.settings.api_key is not None

    def typed_key(self, api_key: str) -> Credentials:
        """Credentials for a key typed into the browser; kept in server memory only.

        A signed-in person's key is kept for them (see credentials()) and serves only them.
        """
        credentials = Credentials(
            Backend.FOXAPI,
            self.settings.foxapi_base_url,
            api_key.strip(),
            owner_sub=self.person.sub,
        )
        self._engine.add_credentials(credentials)
        if self.person.signed_in:
            self._keys.keep(self.person, credentials)
        return credentials

    def forget_typed_key(self) -> None:
        self._keys.forget(self.person)

    def credentials(self) -> Credentials:
        """What this person's jobs are sent with: the server's key, else their typed one,
        else the demo backend."""
        if self.server_has_key:
            return self.server_credentials
        return self._keys.of(self.person)

    def has_key_for(self, job: JobRecord) -> bool:
        """Whether the key `job` was sent with is at hand (a typed key is lost on restart)."""
        return self._engine.has_credentials(job.key_id)

    def generation(
        self, *, prompt: str, num_outputs: int, aspect_ratio: str | None, output_format: str | None
    ) -> Submission:
        """Check a text-to-image request; InvalidRequest names the first bad field."""
        return Submission(
            GenerationRequest.build(
                max_prompt_chars=self.settings.studio_max_prompt_chars,
                prompt=prompt,
                num_outputs=num_outputs,
                aspect_ratio=aspect_ratio,
                output_format=output_format,
            )
        )

    def edit(
        self,
        *,
        prompt: str,
        num_outputs: int,
        output_format: str | None,
        inputs: Sequence[EditInput],
    ) -> Submission:
        """Check an edit once, before anything is uploaded or billed."""
        if not inputs:
            raise InvalidRequest("image_urls", NO_INPUTS)
        if len(inputs) > MAX_INPUT_IMAGES:
            raise InvalidRequest(
                "image_urls",
                f"An edit takes at most {MAX_INPUT_IMAGES} input images; you gave {len(inputs)}.",
            )
        request = GenerationRequest.build(
            max_prompt_chars=self.settings.studio_max_prompt_chars,
            prompt=prompt,
            num_outputs=num_outputs,
            output_format=output_format,
        )
        return Submission(request, tuple(inputs))

    def send(
        self,
        submission: Submission,
        credentials: Credentials,
        *,
        sent_links: MutableMapping[str, str] | None = None,
        batch_id: str | None = None,
    ) -> JobRecord:
        """Turn the inputs into links FoxAPI can fetch, then send the one POST.

        `sent_links` remembers the link each upload or gallery image got per key, so an
        edit sent again does not upload the same picture again. Raises FoxAPIError when
        FoxAPI refused (nothing billed), OutcomeUnknown when the POST may have arrived.
        """
        self._check_key_is_theirs(credentials)
        request = submission.request
        quota = self._quota(credentials)
        if quota is not None and submission.inputs:
            # Refused before anything is uploaded, when it plainly cannot fit.
            self._people.check_allowance(request.num_outputs)
        sources: tuple[InputSource, ...] = ()
        if submission.inputs:
            links = sent_links if sent_links is not None else {}
            urls = tuple(self._link(item, credentials, links) for item in submission.inputs)
            request = request.with_image_urls(urls)
            sources = tuple(map(self._gallery.input_source, submission.inputs))
        origin = JobOrigin(batch_id, submission.parent_image_ids, sources)
        try:
            return self._engine.submit(
                request, credentials, origin=origin, owner=self.person, quota=quota
            )
        except BaseException:
            # Refused before anything was billed, the job is gone: so are uploads it alone
            # used. (A job whose outcome is unknown stays, and keeps its uploads.)
            self._gallery.forget_unused_inputs(origin.input_asset_ids)
            raise

    def sweep(
        self,
        *,
        prompt: str,
        aspect_ratios: Sequence[str | None],
        num_outputs: int,
        output_format: str | None,
    ) -> Sweep:
        """Check every job of a sweep before any is sent; InvalidRequest names the field."""
        plan = sweeps.plan(prompt, list(aspect_ratios), num_outputs)
        submissions = tuple(
            self.generation(
                prompt=cell.prompt,
                num_outputs=num_outputs,
                aspect_ratio=cell.aspect_ratio,
                output_format=output_format,
            )
            for cell in plan.cells
        )
        return Sweep(plan, submissions)

    def send_sweep(self, sweep: Sweep, credentials: Credentials) -> SweepResult:
        """Send each job of the sweep, in order, as one batch.

        A refusal stops the sweep (the rest would be refused too): the jobs sent so far
        stand, and the refusal is returned with them. An uncertain POST stops it too.
        """
        batch_id = uuid.uuid4().hex if sweep.plan.is_sweep else None
        sent: list[JobRecord] = []
        for submission in sweep.submissions:
            try:
                sent.append(self.send(submission, credentials, batch_id=batch_id))
            except FoxAPIError as refusal:
                return SweepResult(sent, refusal)
        return SweepResult(sent)

    def batch(self, batch_id: str) -> list[JobRecord]:
        """A sweep's jobs that this person may see, in the order they were made."""
        return [job for job in self._store.batch_jobs(batch_id) if self._access.may_see(job)]

    def contact_sheet(self, batch_id: str, kind: str = "png") -> bytes:
        """A sweep's images on one captioned sheet, row by row, PNG or PDF."""
        jobs = self.batch(batch_id)
        ratios = len({job.request.aspect_ratio for job in jobs}) or 1
        items = []
        for job in jobs:
            saved = self._gallery.saved_images(job.id)
            ratio = job.request.aspect_ratio or "1:1"
            items.append(
                contact_sheet.SheetItem(
                    self._gallery.thumbnail(saved[0]) if saved else None,
                    job.prompt,
                    f"{ratio} · {formats.label(job.request.output_format)}",
                )
            )
        title = f"Sweep of {len(jobs)} jobs" if jobs else "An empty sweep"
        columns, paper = min(ratios, 4), self.settings.studio_paper
        return contact_sheet.build(title, items, columns=columns, kind=kind, paper=paper)

    def retry(self, job_id: str, credentials: Credentials) -> JobRecord:
        """Send a failed or uncertain job's request again, as a new (billed) job of theirs."""
        failed = self.job(job_id)
        if failed is None:
            raise NotAllowed("This job is not yours to see.")
        self._check_key_is_theirs(credentials)
        return self._engine.submit(
            failed.request,
            credentials,
            retry_of=job_id,
            origin=failed.origin,
            owner=self.person,
            quota=self._quota(credentials),
        )

    def _check_key_is_theirs(self, credentials: Credentials) -> None:
        if credentials.owner_sub is not None and credentials.owner_sub != self.person.sub:
            raise NotAllowed("That key belongs to someone else.")

    def _quota(self, credentials: Credentials) -> Quota | None:
        """The limits a job sent with `credentials` must fit in; demo jobs cost nothing."""
        if credentials.backend is Backend.DEMO:
            return None
        quota = Quota.now(self.settings)
        return quota if quota.daily_limit or quota.monthly_limit else None

    def _link(
        self, item: EditInput, credentials: Credentials, sent_links: MutableMapping[str, str]
    ) -> str:
        if item.kind == "url" and item.url:
            return item.url
        cache_key = f"{item.identity}|{credentials.key_id}"
        if cache_key not in sent_links:
            if item.image is not None:
                sent_links[cache_key] = self._engine.clients.upload(item.image, credentials)
            else:
                image_id = item.image_id
                gallery_item = self._gallery.image(image_id) if image_id is not None else None
                if gallery_item is None:
                    raise InvalidImage(GONE_FROM_GALLERY)
                sent_links[cache_key] = self._engine.clients.input_url(gallery_item, credentials)
        return sent_links[cache_key]

    def job(self, job_id: str) -> JobRecord | None:
        """The job, or None when it is gone or not this person's to see."""
        try:
            job = self._store.job(job_id)
        except NoResultFound:
            return None
        return job if self._access.may_see(job) else None

    def jobs(self, job_ids: Iterable[str]) -> list[JobRecord]:
        """The jobs still on record among `job_ids`, in that order."""
        return [job for job in map(self.job, job_ids) if job is not None]

    def recent_jobs(self, limit: int) -> list[JobRecord]:
        return self._jobs(limit=limit)

    def _jobs(
        self, statuses: Iterable[JobStatus] | None = None, *, limit: int | None = None
    ) -> list[JobRecord]:
        return self._store.jobs(
            statuses, limit=limit, only_owner=self._access.own_only, owner_sub=self.person.sub
        )

    def in_flight(self, only: Iterable[str] | None = None) -> list[JobRecord]:
        """Unfinished jobs, newest first: all of this person's, or those among `only`."""
        jobs = self._jobs(IN_FLIGHT)
        if only is None:
            return jobs
        wanted = set(only)
        return [job for job in jobs if job.id in wanted]

    def count_in_flight(self) -> int:
        return len(self._jobs(IN_FLIGHT))

    def needing_attention(self, *, hidden: Iterable[str] = (), limit: int) -> list[JobRecord]:
        """Recent failed, lost or uncertain jobs that nobody has retried or hidden yet."""
        # Both reads are bounded, so this costs the same with 50 jobs or 50,000.
        candidates = self._jobs(NEEDS_ATTENTION, limit=limit * 2)
        recent = self._jobs(limit=RETRY_LOOKBACK)
        skip = {job.retry_of for job in recent if job.retry_of} | set(hidden)
        now = time.time()
        fresh = [
            job
            for job in candidates
            if job.id not in skip and now - (job.finished_at or job.updated_at) < ATTENTION_WINDOW
        ]
        return fresh[:limit]

    def recent_prompts(self, *, limit: int = 50, search: str = "") -> list[str]:
        """The prompts this person sent before, most recent first, for the prompt box."""
        limit_chars = self.settings.studio_max_prompt_chars
        return self._store.recent_prompts(
            limit=limit,
            search=search[:limit_chars],
            only_owner=self._access.own_only,
            owner_sub=self.person.sub,
        )

    def export_jobs(self, job_ids: Sequence[str], folder: Path) -> list[Path]:
        """The jobs' images this person may see, written into `folder` as the zip holds
        them (metadata and content credentials inside), with manifest.json."""
        items = [item for job in self.jobs(job_ids) for item in self._gallery.saved_items(job)]
        return self._gallery.export(items, folder)

    def progress_link(self, job_ids: Sequence[str] | None, viewer: str) -> str:
        return self.signer.sign(links.progress_path(list(job_ids) if job_ids else None), viewer)

    def progress(self, only: Sequence[str] | None) -> list[JobProgress]:
        """Where each job stands, for a browser drawing progress between page runs.

        With `only`, those jobs whether finished or not (so the page learns they ended);
        without, every job in flight.
        """
        jobs = self.jobs(only) if only is not None else self.in_flight()
        now = time.time()
        return [
            JobProgress(
                id=job.id,
                in_flight=job.in_flight,
                progress=100 if job.status is JobStatus.DOWNLOADING else job.progress,
                words=status_words(
                    job.status,
                    progress=job.progress,
                    error_message=job.error_message,
                    key_available=self.has_key_for(job),
                ),
                note=job.error_message if job.in_flight else None,
                elapsed=now - (job.submitted_at or job.created_at),
                estimated=job.estimated_time,
            )
            for job in jobs
        ]
