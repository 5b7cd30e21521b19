"""The boards' tables: boards and the images on them, in their order."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from studio.db import mappers
from studio.db.database import DomainStore
from studio.db.queries import (
    favourite_of,
)
from studio.db.schema import (
    board_images,
    boards,
    images,
    jobs,
)
from studio.people.access import owned_by
from studio.records import (
    Board,
    GalleryItem,
)
from studio.states import ImageStatus

# A ReviewNote's fields come from mappers.NOTE_COLUMNS.


class BoardStore(DomainStore):
    """Boards and the images on them, in their order."""

    def create_board(self, owner_sub: str | None, owner_email: str | None, name: str) -> int:
        now = time.time()
        with self.engine.begin() as conn:
            new_id = conn.execute(
                boards.insert()
                .values(
                    owner_sub=owner_sub,
                    owner_email=owner_email,
                    name=name,
                    created_at=now,
                    updated_at=now,
                    archived=False,
                )
                .returning(boards.c.id)
            ).scalar_one()
        return int(new_id)

    def board(self, board_id: int) -> Board | None:
        found = self._boards(boards.c.id == board_id)
        return found[0] if found else None

    def boards(self, owner_sub: str | None, *, archived: bool) -> list[Board]:
        """`owner_sub`'s boards, archived or not, the most recently changed first."""
        return self._boards(
            sa.and_(owned_by(boards.c.owner_sub, owner_sub), boards.c.archived.is_(archived))
        )

    def boards_of_image(self, image_id: int, owner_sub: str | None) -> list[Board]:
        """`owner_sub`'s boards that hold `image_id`, archived or not."""
        holding = sa.select(board_images.c.board_id).where(board_images.c.image_id == image_id)
        return self._boards(
            sa.and_(owned_by(boards.c.owner_sub, owner_sub), boards.c.id.in_(holding))
        )

    def update_board(self, board_id: int, **changes: Any) -> None:
        """Change a board's name or archived flag; it counts as changed now."""
        with self.engine.begin() as conn:
            conn.execute(
                boards.update()
                .where(boards.c.id == board_id)
                .values(updated_at=time.time(), **changes)
            )

    def add_board_images(self, board_id: int, image_ids: Sequence[int]) -> int:
        """Append the archived images among `image_ids` not yet on the board, in that order;
        return how many were new."""
        self._db.changed()
        with self.engine.begin() as conn:
            self._touch_board(conn, board_id)  # first: the write lock before the reads
            present = set(
                conn.execute(
                    sa.select(board_images.c.image_id).where(board_images.c.board_id == board_id)
                ).scalars()
            )
            archived = set(
                conn.execute(
                    sa.select(images.c.id).where(
                        images.c.id.in_(list(image_ids)),
                        images.c.status == ImageStatus.ARCHIVED.value,
                    )
                ).scalars()
            )
            new = list(dict.fromkeys(i for i in image_ids if i in archived and i not in present))
            if not new:
                return 0
            last = conn.execute(
                sa.select(sa.func.max(board_images.c.position)).where(
                    board_images.c.board_id == board_id
                )
            ).scalar_one()
            start = -1 if last is None else int(last)
            rows = [
                {"board_id": board_id, "image_id": image_id, "position": start + 1 + offset}
                for offset, image_id in enumerate(new)
            ]
            conn.execute(board_images.insert(), rows)
        return len(new)

    def remove_board_image(self, board_id: int, image_id: int) -> None:
        self._db.changed()
        with self.engine.begin() as conn:
            self._touch_board(conn, board_id)
            conn.execute(
                board_images.delete().where(
                    board_images.c.board_id == board_id, board_images.c.image_id == image_id
                )
            )

    def board_image_ids(self, board_id: int) -> list[int]:
        """The board's images in its order (those in the Trash left out, as it shows them)."""
        query = (
            sa.select(board_images.c.image_id)
            .join(images, images.c.id == board_images.c.image_id)
            .where(
                board_images.c.board_id == board_id,
                images.c.status == ImageStatus.ARCHIVED.value,
            )
            .order_by(board_images.c.position, board_images.c.image_id)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def reorder_board(self, board_id: int, image_ids: Sequence[int]) -> None:
        """Put the board's images in the order `image_ids` gives; those it leaves out
        follow in their old order, and ids not on the board are ignored."""
        with self.engine.begin() as conn:
            self._touch_board(conn, board_id)
            current = list(
                conn.execute(
                    sa.select(board_images.c.image_id)
                    .where(board_images.c.board_id == board_id)
                    .order_by(board_images.c.position, board_images.c.image_id)
                ).scalars()
            )
            on_board = set(current)
            wanted = [i for i in dict.fromkeys(image_ids) if i in on_board]
            order = wanted + [i for i in current if i not in set(wanted)]
            for position, image_id in enumerate(order):
                conn.execute(
                    board_images.update()
                    .where(board_images.c.board_id == board_id, board_images.c.image_id == image_id)
                    .values(position=position)
                )

    def board_items(self, board_id: int, *, viewer_sub: str | None = None) -> list[GalleryItem]:
        """The board's archived images with their jobs, in the board's order (marked with
        `viewer_sub`'s favourites)."""
        query = (
            sa.select(images, jobs, favourite_of(viewer_sub))
            .select_from(
                board_images.join(images, images.c.id == board_images.c.image_id).join(
                    jobs, jobs.c.id == images.c.job_id
                )
            )
            .where(
                board_images.c.board_id == board_id,
                images.c.status == ImageStatus.ARCHIVED.value,
            )
            .order_by(board_images.c.position, board_images.c.image_id)
        )
        with self.engine.connect() as conn:
            return [mappers.gallery_item(row) for row in conn.execute(query)]

    def _touch_board(self, conn: sa.Connection, board_id: int) -> None:
        conn.execute(boards.update().where(boards.c.id == board_id).values(updated_at=time.time()))

    def _boards(self, condition: sa.ColumnElement[bool]) -> list[Board]:
        # Only the images the board shows: one in the Trash is neither counted nor its cover.
        shown = sa.and_(
            board_images.c.board_id == boards.c.id,
            board_images.c.image_id.in_(
                sa.select(images.c.id).where(images.c.status == ImageStatus.ARCHIVED.value)
            ),
        )
        count = sa.select(sa.func.count()).where(shown).scalar_subquery()
        cover = (
            sa.select(board_images.c.image_id)
            .where(shown)
            .order_by(board_images.c.position, board_images.c.image_id)
            .limit(1)
            .scalar_subquery()
        )
        query = (
            sa.select(boards, count.label("image_count"), cover.label("cover_image_id"))
            .where(condition)
            .order_by(boards.c.updated_at.desc(), boards.c.id.desc())
        )
        with self.engine.connect() as conn:
            return [
                Board(
                    id=row.id,
                    name=row.name,
                    owner_sub=row.owner_sub,
                    owner_email=row.owner_email,
                    created_at=row.created_at,
                    updated_at=row.updated_at,
                    archived=bool(row.archived),
                    image_count=int(row.image_count),
                    cover_image_id=row.cover_image_id,
                )
                for row in conn.execute(query)
            ]
