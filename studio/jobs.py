"""The jobs service: the one way pages, components and the command line reach the core.

It validates what a person asks for (once), sends it through the engine, and answers
every question a page asks about jobs and images. The store keeps persistence, the
engine talks to FoxAPI, the archive keeps bytes; callers see none of them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import NoResultFound

from studio import export, exposure, formats, imaging, web
from studio.archive import Archive
from studio.credentials import Backend, Credentials
from studio.engine import Engine
from studio.errors import InvalidImage
from studio.export import DownloadCopy
from studio.health import Health, check_parts
from studio.records import GalleryFilter, GalleryItem, ImageRecord, JobRecord
from studio.request import MAX_INPUT_IMAGES, GenerationRequest, InvalidRequest, check_image_url
from studio.settings import Settings
from studio.states import IN_FLIGHT, NEEDS_ATTENTION, ImageStatus, JobStatus, status_words
from studio.store import Store
from studio.web import UrlSigner

PREVIEW_PX = 256  # an upload's preview on the Edit page
ATTENTION_WINDOW = 24 * 3600  # failed jobs older than this no longer ask for attention
RETRY_LOOKBACK = 60  # recent jobs searched for retries of a failed one
NO_INPUTS = "Add at least one image to edit: a link, an upload or a gallery image."
GONE_FROM_GALLERY = (
    "A gallery image you chose is no longer in the archive. Remove it and pick another."
)


@dataclass(frozen=True)
class EditInput:
    """An image to edit: a link, a cleaned upload, or a gallery image."""

    kind: str  # "url", "upload" or "gallery"
    label: str
    url: str | None = None
    image: imaging.CleanImage | None = field(default=None, repr=False)
    preview: bytes | None = field(default=None, repr=False)
    image_id: int | None = None

    @classmethod
    def from_url(cls, url: str) -> EditInput:
        """A link, checked for its form (raises ValueError with a message for people)."""
        return cls("url", url, url=check_image_url(url.strip()))

    @property
    def identity(self) -> str:
        """Equal for the same picture chosen twice, whatever it is called."""
        if self.kind == "upload" and self.image is not None:
            return "upload:" + hashlib.sha256(self.image.data).hexdigest()
        if self.kind == "gallery":
            return f"gallery:{self.image_id}"
        return f"url:{self.url}"


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
    def __init__(
        self,
        settings: Settings,
        store: Store,
        archive: Archive,
        engine: Engine,
        server_credentials: Credentials,
        signer: UrlSigner,
    ) -> None:
        self.settings = settings
        self._store = store
        self._archive = archive
        self._engine = engine
        self.server_credentials = server_credentials
        self.signer = signer

    # Health ---------------------------------------------------------------------------

    def health(self) -> Health:
        """Whether this server can do its work, for `/healthz`: database and storage answer."""
        return check_parts({"database": self._store.check, "storage": self._archive.check})

    # Keys -----------------------------------------------------------------------------

    @property
    def server_has_key(self) -> bool:
        return self.settings.api_key is not None

    def typed_key(self, api_key: str) -> Credentials:
        """Credentials for a key typed into the browser; kept in server memory only."""
        credentials = Credentials(Backend.FOXAPI, self.settings.foxapi_base_url, api_key.strip())
        self._engine.add_credentials(credentials)
        return credentials

    def has_key_for(self, job: JobRecord) -> bool:
        """Whether the key `job` was sent with is at hand (a typed key is lost on restart)."""
        return self._engine.has_credentials(job.key_id)

    # Sending --------------------------------------------------------------------------

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
    ) -> JobRecord:
        """Turn the inputs into links FoxAPI can fetch, then send the one POST.

        `sent_links` remembers the link each upload or gallery image got per key, so an
        edit sent again does not upload the same picture again. Raises FoxAPIError when
        FoxAPI refused (nothing billed), OutcomeUnknown when the POST may have arrived.
        """
        request = submission.request
        if submission.inputs:
            links = sent_links if sent_links is not None else {}
            urls = tuple(self._link(item, credentials, links) for item in submission.inputs)
            request = request.with_image_urls(urls)
        return self._engine.submit(request, credentials)

    def retry(self, job_id: str, credentials: Credentials) -> JobRecord:
        """Send a failed or uncertain job's request again, as a new (billed) job."""
        return self._engine.retry(job_id, credentials)

    def _link(
        self, item: EditInput, credentials: Credentials, sent_links: MutableMapping[str, str]
    ) -> str:
        if item.kind == "url" and item.url:
            return item.url
        cache_key = f"{item.identity}|{credentials.key_id}"
        if cache_key not in sent_links:
            if item.image is not None:
                sent_links[cache_key] = self._engine.upload(item.image, credentials)
            else:
                gallery_item = self.image(item.image_id) if item.image_id is not None else None
                if gallery_item is None:
                    raise InvalidImage(GONE_FROM_GALLERY)
                sent_links[cache_key] = self._engine.input_url(gallery_item, credentials)
        return sent_links[cache_key]

    # Inputs ---------------------------------------------------------------------------

    def upload_input(self, data: bytes, filename: str) -> EditInput:
        """An upload checked, turned upright and stripped of metadata; InvalidImage if not."""
        image = imaging.clean_upload(
            data,
            filename,
            max_bytes=self.settings.studio_max_upload_bytes,
            max_pixels=self.settings.studio_max_upload_pixels,
        )
        preview = imaging.make_thumbnail(image.data, PREVIEW_PX)
        return EditInput("upload", image.filename, image=image, preview=preview)

    def file_input(self, path: Path) -> EditInput:
        """A file on this machine as an input: its size checked before any of it is read."""
        max_bytes = self.settings.studio_max_upload_bytes
        imaging.check_upload_size(path.stat().st_size, path.name, max_bytes)
        with path.open("rb") as file:
            # No more than the limit is read, should the file grow meanwhile.
            return self.upload_input(file.read(max_bytes + 1), path.name)

    def exposure_warning(self, server_address: str | None) -> str | None:
        """The sidebar's warning when anyone who can reach the server can spend its key."""
        return exposure.exposure_warning(self.settings, server_address)

    def gallery_input(self, image_id: int) -> EditInput | None:
        item = self.image(image_id)
        if item is None:
            return None
        return EditInput("gallery", item.job.prompt, image_id=item.image.id)

    # Jobs -----------------------------------------------------------------------------

    def job(self, job_id: str) -> JobRecord | None:
        try:
            return self._store.job(job_id)
        except NoResultFound:
            return None

    def jobs(self, job_ids: Iterable[str]) -> list[JobRecord]:
        """The jobs still on record among `job_ids`, in that order."""
        return [job for job in map(self.job, job_ids) if job is not None]

    def recent_jobs(self, limit: int) -> list[JobRecord]:
        return self._store.jobs(limit=limit)

    def in_flight(self, only: Iterable[str] | None = None) -> list[JobRecord]:
        """Unfinished jobs, newest first: all of them, or those among `only`."""
        jobs = self._store.jobs(IN_FLIGHT)
        if only is None:
            return jobs
        wanted = set(only)
        return [job for job in jobs if job.id in wanted]

    def count_in_flight(self) -> int:
        return len(self._store.jobs(IN_FLIGHT))

    def needing_attention(self, *, hidden: Iterable[str] = (), limit: int) -> list[JobRecord]:
        """Recent failed, lost or uncertain jobs that nobody has retried or hidden yet."""
        # Both reads are bounded, so this costs the same with 50 jobs or 50,000.
        candidates = self._store.jobs(NEEDS_ATTENTION, limit=limit * 2)
        recent = self._store.jobs(limit=RETRY_LOOKBACK)
        skip = {job.retry_of for job in recent if job.retry_of} | set(hidden)
        now = time.time()
        fresh = [
            job
            for job in candidates
            if job.id not in skip and now - (job.finished_at or job.updated_at) < ATTENTION_WINDOW
        ]
        return fresh[:limit]

    def saved_images(self, job_id: str) -> list[ImageRecord]:
        return [
            image
            for image in self._store.job_images(job_id)
            if image.status is ImageStatus.ARCHIVED
        ]

    def recent_prompts(self, *, limit: int = 50, search: str = "") -> list[str]:
        """The prompts sent before, most recent first, for the prompt box to offer."""
        limit_chars = self.settings.studio_max_prompt_chars
        return self._store.recent_prompts(limit=limit, search=search[:limit_chars])

    def images_billed_today(self) -> int:
        midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        return self._store.images_billed_since(midnight.timestamp())

    # Images ---------------------------------------------------------------------------

    def gallery(self, where: GalleryFilter, *, limit: int, offset: int) -> list[GalleryItem]:
        return self._store.gallery(where, limit=limit, offset=offset)

    def gallery_count(self, where: GalleryFilter) -> int:
        return self._store.gallery_count(where)

    def gallery_position(self, where: GalleryFilter, image_id: int) -> int | None:
        """The image's place in the gallery `where` shows, counting from 0; None if not in it."""
        return self._store.gallery_position(where, image_id)

    def image(self, image_id: int) -> GalleryItem | None:
        return self._store.image(image_id)

    def images(self, image_ids: Iterable[int]) -> list[GalleryItem]:
        return [item for item in map(self.image, image_ids) if item is not None]

    def set_favourite(self, image_id: int, favourite: bool) -> None:
        self._store.set_favourite(image_id, favourite)

    def thumbnail(self, image: ImageRecord) -> bytes | None:
        """The gallery thumbnail's bytes, or None when it is missing from the archive."""
        if not image.thumb_path:
            return None
        try:
            return self._archive.read(image.thumb_path)
        except OSError:
            return None

    def original(self, image: ImageRecord) -> bytes:
        return self._archive.read(image.file_path or "")

    def original_location(self, image: ImageRecord) -> str | None:
        """Where a person finds the original: a path on this machine, or an s3:// address."""
        if not image.file_path:
            return None
        return self._archive.location(image.file_path)

    def download(self, item: GalleryItem) -> DownloadCopy:
        """The original with its prompt and settings written in."""
        return export.download_copy(item, self._archive)

    def download_filename(self, item: GalleryItem) -> str:
        return export.copy_filename(item)

    def zip(self, image_ids: Sequence[int]) -> bytes:
        return export.build_zip(self.images(image_ids), self._archive)

    def stream_zip(self, image_ids: Sequence[int]) -> Iterator[bytes]:
        """The zip piece by piece, reading one image at a time."""
        return export.stream_zip(map(self.image, image_ids), self._archive)

    def mime_type(self, image: ImageRecord) -> str:
        return formats.mime_type(image.format)

    # Links ----------------------------------------------------------------------------

    def image_link(self, image: ImageRecord, kind: str, viewer: str) -> str:
        """A signed link to an image's thumbnail, original or download copy."""
        extension = "webp" if kind == "thumb" else formats.extension(image.format or "png")
        path = web.image_path(kind, image.id, image.sha256 or "none", extension)
        return self.signer.sign(path, viewer)

    def zip_link(self, image_ids: Sequence[int], viewer: str) -> str:
        return self.signer.sign(web.zip_path(list(image_ids)), viewer)

    def progress_link(self, job_ids: Sequence[str] | None, viewer: str) -> str:
        return self.signer.sign(web.progress_path(list(job_ids) if job_ids else None), viewer)

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

    def zip_filename(self, count: int) -> str:
        return export.zip_filename(count)
