"""What the store hands out: plain, frozen records of jobs and images, and gallery filters."""

from __future__ import annotations

from dataclasses import dataclass

from studio.request import GenerationRequest, Mode
from studio.states import IN_FLIGHT, ImageStatus, JobStatus


@dataclass(frozen=True)
class JobOrigin:
    """Where a job comes from: the sweep it is part of, the images an edit was made from."""

    batch_id: str | None = None
    parent_image_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class JobRecord:
    id: str
    created_at: float
    updated_at: float
    request: GenerationRequest
    backend: str
    key_id: str
    task_id: str | None
    status: JobStatus
    progress: int
    error_code: str | None
    error_message: str | None
    credits_reserved: float | None
    estimated_time: float | None
    submitted_at: float | None
    finished_at: float | None
    retry_of: str | None
    origin: JobOrigin = JobOrigin()
    owner_sub: str | None = None
    owner_email: str | None = None

    @property
    def prompt(self) -> str:
        return self.request.prompt

    @property
    def mode(self) -> Mode:
        return self.request.mode

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT


@dataclass(frozen=True)
class ImageRecord:
    id: int
    job_id: str
    position: int
    status: ImageStatus
    source_url: str
    created_at: float
    archived_at: float | None
    file_path: str | None
    thumb_path: str | None
    sha256: str | None
    width: int | None
    height: int | None
    format: str | None
    size_bytes: int | None
    favourite: bool


@dataclass(frozen=True)
class GalleryItem:
    """An archived image with the job that made it, as the gallery shows it."""

    image: ImageRecord
    job: JobRecord


@dataclass(frozen=True)
class GalleryFilter:
    search: str = ""
    mode: Mode | None = None
    favourites_only: bool = False
    # Only the images of `owner_sub` (None: those that belong to nobody).
    mine: bool = False
    owner_sub: str | None = None


@dataclass(frozen=True)
class ArchivedFile:
    file_path: str
    thumb_path: str
    sha256: str
    width: int
    height: int
    format: str
    size_bytes: int


@dataclass(frozen=True)
class Style:
    """A named prompt snippet; `mine` when the person asking made it (and may delete it)."""

    id: int
    name: str
    text: str
    shared: bool
    mine: bool
