"""The Trash's queries: images moved there, brought back, listed, and purged for good.

An image in the Trash keeps its row, its files, its boards, favourites and reviewers'
notes, with status "trashed": every query of the gallery, the boards and the reviewer's
side reads archived images alone, so it is out of sight everywhere until it is restored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from studio.db import mappers
from studio.db.database import DomainStore
from studio.db.queries import delete_images, favourite_of
from studio.db.schema import images, jobs
from studio.people.access import owned_by
from studio.records import GalleryItem
from studio.states import ImageStatus

TRASHED, ARCHIVED = ImageStatus.TRASHED.value, ImageStatus.ARCHIVED.value


@dataclass(frozen=True)
class TrashScope:
    """Whose images in the Trash a person may restore or delete: everyone's (an admin),
    or those of `owner_sub` (None: nobody's, which only an admin may change)."""

    everyone: bool
    owner_sub: str | None = None

    def condition(self) -> sa.ColumnElement[bool]:
        if self.everyone:
            return images.c.status == TRASHED
        if self.owner_sub is None:
            return sa.false()
        return sa.and_(images.c.status == TRASHED, owned_by(images.c.owner_sub, self.owner_sub))


def _chosen(scope: TrashScope, image_ids: Sequence[int] | None) -> sa.ColumnElement[bool]:
    """The images of `scope` in the Trash among `image_ids` (None: all of them)."""
    if image_ids is None:
        return scope.condition()
    return sa.and_(scope.condition(), images.c.id.in_(sorted(set(image_ids))))


class TrashStore(DomainStore):
    """Moves images in and out of the Trash, and deletes them from it for good."""

    def move_to_trash(self, image_ids: Sequence[int], now: float) -> list[int]:
        """Move the archived images among `image_ids` to the Trash; return those moved."""
        if not image_ids:
            return []
        self._db.changed()
        with self.engine.begin() as conn:
            moved = conn.execute(
                images.update()
                .where(images.c.id.in_(sorted(set(image_ids))), images.c.status == ARCHIVED)
                .values(status=TRASHED, trashed_at=now)
                .returning(images.c.id)
            ).scalars()
            return sorted(moved)

    def restore(self, scope: TrashScope, image_ids: Sequence[int] | None = None) -> list[int]:
        """Bring back the images of `scope` among `image_ids` (None: every one of them);
        return those restored, each where it was in the gallery and on its boards."""
        self._db.changed()
        with self.engine.begin() as conn:
            restored = conn.execute(
                images.update()
                .where(_chosen(scope, image_ids))
                .values(status=ARCHIVED, trashed_at=None)
                .returning(images.c.id)
            ).scalars()
            return sorted(restored)

    def delete_for_good(
        self, scope: TrashScope, image_ids: Sequence[int] | None = None
    ) -> tuple[int, list[str]]:
        """Delete the images of `scope` in the Trash among `image_ids` (None: all); return
        how many went, and their files that no other image (in the Trash or not) uses."""
        self._db.changed()
        which = _chosen(scope, image_ids)
        with self.engine.begin() as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(images).where(which))
            going = int(count.scalar_one())
            return going, delete_images(conn, which)

    def purge_expired(self, trashed_before: float) -> list[str]:
        """Delete every image in the Trash since before `trashed_before`; return the files no
        other image uses. Safe to run on several servers at once: a row another deleted
        first is simply not there, and its files are named by that server alone."""
        expired = sa.and_(images.c.status == TRASHED, images.c.trashed_at < trashed_before)
        with self.engine.connect() as conn:
            if conn.execute(sa.select(images.c.id).where(expired).limit(1)).first() is None:
                return []  # the usual case, answered from the index alone
        self._db.changed()
        with self.engine.begin() as conn:
            return delete_images(conn, expired)

    def trashed(
        self, scope: TrashScope, *, viewer_sub: str | None, limit: int, offset: int = 0
    ) -> list[GalleryItem]:
        """The images of `scope` in the Trash with their jobs, the last one in first."""
        query = (
            sa.select(images, jobs, favourite_of(viewer_sub))
            .select_from(images.join(jobs, jobs.c.id == images.c.job_id))
            .where(scope.condition())
            .order_by(images.c.trashed_at.desc(), images.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            return [mappers.gallery_item(row) for row in conn.execute(query)]

    def count(self, scope: TrashScope) -> int:
        query = sa.select(sa.func.count()).select_from(images).where(scope.condition())
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def trashed_image(self, image_id: int) -> GalleryItem | None:
        """One image in the Trash with its job; None when it is not there."""
        query = (
            sa.select(images, jobs, favourite_of(None))
            .select_from(images.join(jobs, jobs.c.id == images.c.job_id))
            .where(images.c.id == image_id, images.c.status == TRASHED)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else mappers.gallery_item(row)
