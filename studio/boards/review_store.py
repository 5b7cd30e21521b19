"""The review links' tables: links, what reviewers say through them, and who finished.

Every read and write a reviewer makes goes through the token's hash and the link being
live in the same query (see live_link), so a revoke or an expiry takes effect at once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Literal

import sqlalchemy as sa

from studio.db import mappers
from studio.db.database import DomainStore
from studio.db.schema import (
    board_images,
    boards,
    images,
    jobs,
    review_finishes,
    review_links,
    review_notes,
)
from studio.people.access import owned_by
from studio.records import (
    FinishedReview,
    ImageRecord,
    ReviewImage,
    ReviewLink,
    ReviewNote,
)
from studio.states import ImageStatus

RATE_WINDOW = 60.0  # seconds: review changes are counted per link per minute


class ReviewStore(DomainStore):
    """Review links, and what reviewers say through them."""

    def create_review_link(
        self,
        board_id: int,
        token_sha256: str,
        *,
        label: str,
        expires_at: float | None,
        allow_downloads: bool,
    ) -> int:
        now = time.time()
        with self.engine.begin() as conn:
            new_id = conn.execute(
                review_links.insert()
                .values(
                    board_id=board_id,
                    token_sha256=token_sha256,
                    label=label,
                    created_at=now,
                    expires_at=expires_at,
                    revoked_at=None,
                    allow_downloads=allow_downloads,
                    window_start=now,
                    window_changes=0,
                )
                .returning(review_links.c.id)
            ).scalar_one()
        return int(new_id)

    def review_links(self, board_id: int) -> list[ReviewLink]:
        """The board's links, newest first."""
        return self._review_links(review_links.c.board_id == board_id)

    def review_link(self, link_id: int) -> ReviewLink | None:
        found = self._review_links(review_links.c.id == link_id)
        return found[0] if found else None

    def review_link_by_token(self, token_sha256: str) -> tuple[ReviewLink, str] | None:
        """The link with this token hash, live or not, and its board's name."""
        found = self._review_links(review_links.c.token_sha256 == token_sha256)
        if not found:
            return None
        with self.engine.connect() as conn:
            name = conn.execute(
                sa.select(boards.c.name).where(boards.c.id == found[0].board_id)
            ).scalar_one()
        return found[0], name

    def revoke_review_link(self, link_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                review_links.update()
                .where(review_links.c.id == link_id, review_links.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            )

    def _review_links(self, condition: sa.ColumnElement[bool]) -> list[ReviewLink]:
        reviewers = (
            sa.select(sa.func.count(sa.distinct(review_notes.c.reviewer)))
            .where(review_notes.c.link_id == review_links.c.id)
            .scalar_subquery()
        )
        query = (
            sa.select(review_links, reviewers.label("reviewer_count"))
            .where(condition)
            .order_by(review_links.c.created_at.desc(), review_links.c.id.desc())
        )
        with self.engine.connect() as conn:
            return [
                ReviewLink(
                    id=row.id,
                    board_id=row.board_id,
                    label=row.label,
                    created_at=row.created_at,
                    expires_at=row.expires_at,
                    revoked=row.revoked_at is not None,
                    allow_downloads=bool(row.allow_downloads),
                    reviewer_count=int(row.reviewer_count),
                )
                for row in conn.execute(query)
            ]

    def review_images(self, token_sha256: str, now: float) -> list[ReviewImage] | None:
        """The images of the live link's board in order; None when no live link has it."""
        # Left joins one after another, from the link down: one row (with no image) for
        # an empty board, none for a link that is not live; each step is a key lookup.
        archived = sa.and_(
            images.c.id == board_images.c.image_id,
            images.c.status == ImageStatus.ARCHIVED.value,
        )
        query = (
            sa.select(
                images.c.id,
                jobs.c.prompt,
                jobs.c.aspect_ratio,
                images.c.width,
                images.c.height,
                images.c.format,
            )
            .select_from(
                review_links.outerjoin(
                    board_images, board_images.c.board_id == review_links.c.board_id
                )
                .outerjoin(images, archived)
                .outerjoin(jobs, jobs.c.id == images.c.job_id)
            )
            .where(live_link(token_sha256, now))
            .order_by(board_images.c.position, board_images.c.image_id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return None
        return [
            ReviewImage(
                image_id=row.id,
                position=index,
                prompt=row.prompt,
                aspect_ratio=row.aspect_ratio,
                width=row.width or 0,
                height=row.height or 0,
                format=row.format or "png",
            )
            for index, row in enumerate(row for row in rows if row.id is not None)
        ]

    def review_image(
        self, token_sha256: str, now: float, image_id: int
    ) -> tuple[int, bool, ImageRecord | None] | None:
        """(link id, downloads allowed, the image if it is on the link's board), or None
        when no live link has this token."""
        on_board = sa.and_(
            board_images.c.board_id == review_links.c.board_id,
            board_images.c.image_id == image_id,
        )
        archived = sa.and_(
            images.c.id == board_images.c.image_id,
            images.c.status == ImageStatus.ARCHIVED.value,
        )
        query = (
            sa.select(review_links.c.id, review_links.c.allow_downloads, images)
            .select_from(review_links.outerjoin(board_images, on_board).outerjoin(images, archived))
            .where(live_link(token_sha256, now))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        image = None if row[2] is None else mappers.image(row[2:])
        return row[0], bool(row[1]), image

    def review_link_shows(self, link_id: int, image_id: int, now: float) -> tuple[bool, bool]:
        """(whether live link `link_id` shows archived image `image_id`, downloads allowed)."""
        query = (
            sa.select(review_links.c.allow_downloads)
            .select_from(
                review_links.join(
                    board_images, board_images.c.board_id == review_links.c.board_id
                ).join(images, images.c.id == board_images.c.image_id)
            )
            .where(
                review_links.c.id == link_id,
                review_links.c.revoked_at.is_(None),
                sa.or_(review_links.c.expires_at.is_(None), review_links.c.expires_at > now),
                board_images.c.image_id == image_id,
                images.c.status == ImageStatus.ARCHIVED.value,
            )
        )
        with self.engine.connect() as conn:
            allowed = conn.execute(query).scalar_one_or_none()
        return allowed is not None, bool(allowed)

    def reviewer_notes(
        self, token_sha256: str, now: float, reviewer: str
    ) -> list[ReviewNote] | None:
        """What `reviewer` said through the live link; None when no live link has it."""
        query = (
            sa.select(*mappers.NOTE_COLUMNS)
            .select_from(
                review_links.outerjoin(
                    review_notes,
                    sa.and_(
                        review_notes.c.link_id == review_links.c.id,
                        review_notes.c.reviewer == reviewer,
                    ),
                )
            )
            .where(live_link(token_sha256, now))
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return None
        return [mappers.note(row) for row in rows if row.image_id is not None]

    def review_change(
        self,
        token_sha256: str,
        now: float,
        *,
        reviewer: str,
        image_id: int,
        changes: dict[str, Any],
        per_minute: int,
    ) -> Literal["saved", "closed", "limited", "not_on_board"]:
        """Save a reviewer's vote or comment (`changes`) through the live link.

        The link's count of changes this minute is checked and moved in one statement
        (the row's lock on PostgreSQL, the write lock on SQLite), so reviewers changing
        at once can never pass the limit between them.
        """
        window_over = review_links.c.window_start <= now - RATE_WINDOW
        counted = (
            review_links.update()
            .where(
                live_link(token_sha256, now),
                sa.or_(window_over, review_links.c.window_changes < per_minute),
            )
            .values(
                window_start=sa.case((window_over, now), else_=review_links.c.window_start),
                window_changes=sa.case((window_over, 1), else_=review_links.c.window_changes + 1),
            )
            .returning(review_links.c.id, review_links.c.board_id)
        )
        try:
            with self.engine.begin() as conn:
                counted_row = conn.execute(counted).first()
                if counted_row is None:
                    live = conn.execute(
                        sa.select(review_links.c.id).where(live_link(token_sha256, now))
                    ).first()
                    return "limited" if live is not None else "closed"
                link_id, board_id = counted_row
                on_board = conn.execute(
                    sa.select(board_images.c.image_id)
                    .select_from(board_images.join(images, images.c.id == board_images.c.image_id))
                    .where(
                        board_images.c.board_id == board_id,
                        board_images.c.image_id == image_id,
                        images.c.status == ImageStatus.ARCHIVED.value,
                    )
                ).first()
                if on_board is None:
                    raise _NotOnBoard  # rolls the count back too: nothing was changed
                insert: Any = self._db.upsert(review_notes)
                note = insert.values(
                    link_id=link_id,
                    reviewer=reviewer,
                    image_id=image_id,
                    vote=None,
                    comment="",
                    updated_at=now,
                ).values(**changes)
                conn.execute(
                    note.on_conflict_do_update(
                        index_elements=[
                            review_notes.c.link_id,
                            review_notes.c.reviewer,
                            review_notes.c.image_id,
                        ],
                        set_={**changes, "updated_at": now},
                    )
                )
        except _NotOnBoard:
            return "not_on_board"
        return "saved"

    def notes_on(self, image_ids: Sequence[int], owner_sub: str | None) -> list[ReviewNote]:
        """Votes and comments on `image_ids` through the links of `owner_sub`'s boards,
        newest first; notes with neither a vote nor a comment are left out."""
        # The images' notes are found through their index, then kept if their link is
        # one of the owner's (a planner starting from the owner's links reads them all).
        owners_links = (
            sa.select(review_links.c.id)
            .join(boards, boards.c.id == review_links.c.board_id)
            .where(owned_by(boards.c.owner_sub, owner_sub))
        )
        query = (
            sa.select(*mappers.NOTE_COLUMNS)
            .select_from(
                review_notes.join(review_links, review_links.c.id == review_notes.c.link_id)
            )
            .where(
                review_notes.c.image_id.in_(list(image_ids)),
                review_notes.c.link_id.in_(owners_links),
                sa.or_(review_notes.c.vote.is_not(None), review_notes.c.comment != ""),
            )
            .order_by(review_notes.c.updated_at.desc(), review_notes.c.id.desc())
        )
        with self.engine.connect() as conn:
            return [mappers.note(row) for row in conn.execute(query)]

    def review_activity(self, board_id: int) -> str:
        """A mark that moves whenever a vote or comment arrives on the board, or a link is
        revoked: each change moves its link's (window_start, window_changes), so reading
        the board's few links answers it, however many notes they hold."""
        query = (
            sa.select(
                review_links.c.id,
                review_links.c.window_start,
                review_links.c.window_changes,
                review_links.c.revoked_at,
            )
            .where(review_links.c.board_id == board_id)
            .order_by(review_links.c.id)
        )
        with self.engine.connect() as conn:
            return ";".join(",".join(map(repr, row)) for row in conn.execute(query))

    # Finished reviews: a reviewer saying "Send my review" through a live link.

    def finish(self, token_sha256: str, now: float, reviewer: str) -> bool | None:
        """Record that `reviewer` finished reviewing through the live link; None when no
        live link has this token (revoked or expired since). Else whether it is news: the
        reviewer's first "Send my review" here, or one after a vote or comment changed
        (a second press with nothing changed only moves the time)."""
        with self.engine.begin() as conn:
            link_id = conn.execute(
                sa.select(review_links.c.id).where(live_link(token_sha256, now))
            ).scalar_one_or_none()
            if link_id is None:
                return None
            reviewers = (review_notes.c.link_id == link_id, review_notes.c.reviewer == reviewer)
            last_change = conn.execute(
                sa.select(sa.func.max(review_notes.c.updated_at)).where(*reviewers)
            ).scalar_one_or_none()
            sent_before = conn.execute(
                sa.select(review_finishes.c.finished_at).where(
                    review_finishes.c.link_id == link_id, review_finishes.c.reviewer == reviewer
                )
            ).scalar_one_or_none()
            conn.execute(
                self._db.upsert(review_finishes)
                .values(link_id=link_id, reviewer=reviewer, finished_at=now)
                .on_conflict_do_update(
                    index_elements=[review_finishes.c.link_id, review_finishes.c.reviewer],
                    set_={"finished_at": now},
                )
            )
        return sent_before is None or (last_change is not None and last_change > sent_before)

    def finished_on(self, token_sha256: str, reviewer: str) -> float | None:
        """When `reviewer` last sent their review through this link, if they did."""
        query = (
            sa.select(review_finishes.c.finished_at)
            .join(review_links, review_links.c.id == review_finishes.c.link_id)
            .where(
                review_links.c.token_sha256 == token_sha256,
                review_finishes.c.reviewer == reviewer,
            )
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def finished_reviews(self, board_id: int) -> list[FinishedReview]:
        """Who sent their review through any of the board's links, newest first."""
        query = (
            sa.select(
                review_finishes.c.reviewer, review_links.c.label, review_finishes.c.finished_at
            )
            .join(review_links, review_links.c.id == review_finishes.c.link_id)
            .where(review_links.c.board_id == board_id)
            .order_by(review_finishes.c.finished_at.desc())
        )
        with self.engine.connect() as conn:
            return [
                FinishedReview(row.reviewer, row.label, row.finished_at)
                for row in conn.execute(query)
            ]


class _NotOnBoard(Exception):
    """Raised inside a review change to roll it back: the image is not on the board."""


def live_link(token_sha256: str, now: float) -> sa.ColumnElement[bool]:
    """The review link with this token hash, unless it was revoked or has expired."""
    return sa.and_(
        review_links.c.token_sha256 == token_sha256,
        review_links.c.revoked_at.is_(None),
        sa.or_(review_links.c.expires_at.is_(None), review_links.c.expires_at > now),
    )
