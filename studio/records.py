"""What the store hands out: plain, frozen records of jobs and images, and gallery filters."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from studio.request import GenerationRequest, Mode
from studio.states import IN_FLIGHT, ImageStatus, JobStatus


class InputKind(StrEnum):
    GALLERY = "gallery"  # an image of the gallery
    UPLOAD = "upload"  # a file a person uploaded, kept as an input asset
    LINK = "link"  # a link FoxAPI fetched itself; the studio never saw its bytes


@dataclass(frozen=True)
class InputSource:
    """One input image of an edit, where it came from: `id` is the gallery image's id or
    the input asset's (none for a link)."""

    kind: InputKind
    id: int | None = None


@dataclass(frozen=True)
class JobOrigin:
    """Where a job comes from: the sweep it is part of, the images an edit was made from.

    `inputs` are the edit's input images in the order they were sent (jobs made before
    migration 0008 have none); `parent_image_ids` are its gallery images alone, the
    index an image's children are found by.
    """

    batch_id: str | None = None
    parent_image_ids: tuple[int, ...] = ()
    inputs: tuple[InputSource, ...] = ()

    @property
    def input_asset_ids(self) -> tuple[int, ...]:
        return tuple(
            source.id
            for source in self.inputs
            if source.kind is InputKind.UPLOAD and source.id is not None
        )


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
class InputAsset:
    """An uploaded input image an edit was made from, kept (cleaned) for its lineage.

    Not a gallery image: it is in no gallery, count or zip, and only those who may see a
    job that used it see it.
    """

    id: int
    sha256: str
    file_path: str
    thumb_path: str
    width: int
    height: int
    format: str
    size_bytes: int
    created_at: float


@dataclass(frozen=True)
class Style:
    """A named prompt snippet; `mine` when the person asking made it (and may delete it)."""

    id: int
    name: str
    text: str
    shared: bool
    mine: bool
