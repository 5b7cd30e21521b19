"""Row mappers: a database row made into the records the rest of the studio reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from studio.db.schema import images, jobs, review_links, review_notes
from studio.records import (
    GalleryItem,
    ImageRecord,
    InputAsset,
    InputKind,
    InputSource,
    JobOrigin,
    JobRecord,
    ReviewNote,
)
from studio.request import GenerationRequest
from studio.states import ImageStatus, JobStatus

_SOURCE_LETTERS = {InputKind.GALLERY: "g", InputKind.UPLOAD: "a", InputKind.LINK: "l"}
_SOURCE_KINDS = {letter: kind for kind, letter in _SOURCE_LETTERS.items()}


def id_list(ids: Sequence[int]) -> str | None:
    return "," + ",".join(map(str, ids)) + "," if ids else None


def sources_text(sources: Sequence[InputSource]) -> str | None:
    tokens = [_SOURCE_LETTERS[source.kind] + str(source.id or "") for source in sources]
    return "," + ",".join(tokens) + "," if tokens else None


def sources(text: str | None) -> tuple[InputSource, ...]:
    return tuple(
        InputSource(_SOURCE_KINDS[token[0]], int(token[1:]) if token[1:] else None)
        for token in (text or "").split(",")
        if token
    )


def input_asset(row: Any) -> InputAsset:
    return InputAsset(**dict(row._mapping))


def job(row: Sequence[Any]) -> JobRecord:
    values = dict(zip(jobs.columns.keys(), row, strict=True))
    return JobRecord(
        id=values["id"],
        created_at=values["created_at"],
        updated_at=values["updated_at"],
        request=GenerationRequest.from_json(values["request_json"]),
        backend=values["backend"],
        key_id=values["key_id"],
        task_id=values["task_id"],
        status=JobStatus(values["status"]),
        progress=values["progress"],
        error_code=values["error_code"],
        error_message=values["error_message"],
        credits_reserved=values["credits_reserved"],
        estimated_time=values["estimated_time"],
        submitted_at=values["submitted_at"],
        finished_at=values["finished_at"],
        retry_of=values["retry_of"],
        origin=JobOrigin(
            values["batch_id"],
            tuple(int(part) for part in (values["parent_image_ids"] or "").split(",") if part),
            sources(values["input_sources"]),
        ),
        owner_sub=values["owner_sub"],
        owner_email=values["owner_email"],
    )


def image(row: Sequence[Any], *, favourite: bool = False) -> ImageRecord:
    values = dict(zip(images.columns.keys(), row, strict=True))
    return ImageRecord(
        id=values["id"],
        job_id=values["job_id"],
        position=values["position"],
        status=ImageStatus(values["status"]),
        source_url=values["source_url"],
        created_at=values["created_at"],
        archived_at=values["archived_at"],
        file_path=values["file_path"],
        thumb_path=values["thumb_path"],
        sha256=values["sha256"],
        width=values["width"],
        height=values["height"],
        format=values["format"],
        size_bytes=values["size_bytes"],
        favourite=bool(favourite),
        trashed_at=values["trashed_at"],
    )


def note(row: Sequence[Any]) -> ReviewNote:
    """A note from a row of NOTE_COLUMNS (a vote is one of VOTE_KINDS, as written)."""
    return ReviewNote(*row)


def gallery_item(row: Sequence[Any]) -> GalleryItem:
    """A row of images, jobs and _favourite_of, in that order."""
    image_columns = len(images.columns)
    return GalleryItem(
        image=image(row[:image_columns], favourite=row[-1]), job=job(row[image_columns:-1])
    )


# A ReviewNote's fields, in its order: what reads of notes select.
NOTE_COLUMNS = (
    review_notes.c.link_id,
    review_links.c.label,
    review_notes.c.reviewer,
    review_notes.c.image_id,
    review_notes.c.vote,
    review_notes.c.comment,
    review_notes.c.updated_at,
)
