"""What the store hands out: plain, frozen records of jobs, images, boards and reviews,
and gallery filters."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

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
    favourite: bool = False  # one of the favourites of the person it was read for
    trashed_at: float | None = None  # when it went to the Trash; None when it is not there


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
    # Whose favourites the images are marked with, and favourites_only keeps.
    viewer_sub: str | None = None
    # Only the images of this board (in the URL as `board=ID`); with own_board_only, only
    # if the board is `viewer_sub`'s (someone else's board then shows nothing).
    board_id: int | None = None
    own_board_only: bool = False


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


VoteKind = Literal["approve", "changes"]  # "Approve" / "Needs changes"
VOTE_KINDS: tuple[VoteKind, ...] = ("approve", "changes")


@dataclass(frozen=True)
class Board:
    """A named, ordered collection of images, owned by a person."""

    id: int
    name: str
    owner_sub: str | None
    owner_email: str | None
    created_at: float
    updated_at: float
    archived: bool
    image_count: int
    cover_image_id: int | None  # its first image, None when empty


@dataclass(frozen=True)
class ReviewLink:
    """A link that shows one board to whoever holds its token (the token is never kept)."""

    id: int
    board_id: int
    label: str  # who it is for, e.g. "Acme (Jane)"; may be ""
    created_at: float
    expires_at: float | None  # None: never
    revoked: bool
    allow_downloads: bool
    reviewer_count: int


@dataclass(frozen=True)
class ReviewNote:
    """One reviewer's verdict on one image."""

    link_id: int
    link_label: str
    reviewer: str  # the name they gave; plain text, never markup
    image_id: int
    vote: VoteKind | None
    comment: str  # "" when none
    updated_at: float


@dataclass(frozen=True)
class Verdicts:
    """What the owner sees for one image."""

    approvals: int
    changes: int
    notes: tuple[ReviewNote, ...]  # newest first; only those with a vote or comment


NO_VERDICTS = Verdicts(0, 0, ())


@dataclass(frozen=True)
class ReviewImage:
    """An image as a reviewer sees it: no owner, no key id, no job id."""

    image_id: int
    position: int
    prompt: str
    aspect_ratio: str | None
    width: int
    height: int
    format: str


ClosedReason = Literal["unknown", "revoked", "expired"]


@dataclass(frozen=True)
class ReviewClosed:
    """Why a review link shows nothing; `message` is the one sentence to show."""

    reason: ClosedReason
    message: str


@dataclass(frozen=True)
class FinishedReview:
    """One reviewer who sent their review through one of the board's links."""

    reviewer: str  # the name they gave; plain text, never markup
    link_label: str
    finished_at: float
