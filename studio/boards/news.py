"""What reviewers said on a person's boards since they last opened each one: votes and
comments changed, and reviews finished. The studio shows it as a badge on Boards and in
the tab's title, and on each board's card.

Queries on the boards store's engine and tables, kept apart from BoardStore's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from studio.boards.store import BoardStore
from studio.db.schema import (
    board_seen,
    boards,
    images,
    review_finishes,
    review_links,
    review_notes,
)
from studio.states import ImageStatus


@dataclass(frozen=True)
class BoardNews:
    """News on one person's boards."""

    # Board id: how many votes or comments changed and reviews were finished on it since
    # its owner last opened it (boards with none are left out).
    new: dict[int, int] = field(default_factory=dict)
    # Whether any of the boards has a review link still open: only then can news come.
    listening: bool = False

    @property
    def total(self) -> int:
        return sum(self.new.values())


def news(store: BoardStore, owner_sub: str | None, now: float) -> BoardNews:
    """The news on `owner_sub`'s boards (None: the one local person's)."""
    owned = boards.c.owner_sub.is_(None) if owner_sub is None else boards.c.owner_sub == owner_sub
    seen = sa.func.coalesce(
        sa.select(board_seen.c.seen_at)
        .where(board_seen.c.board_id == boards.c.id)
        .scalar_subquery(),
        0.0,
    )
    to_links = boards.join(review_links, review_links.c.board_id == boards.c.id)
    notes = (
        sa.select(boards.c.id, sa.func.count())
        .select_from(
            to_links.join(review_notes, review_notes.c.link_id == review_links.c.id).join(
                images, images.c.id == review_notes.c.image_id
            )
        )
        .where(
            owned,
            # Notes on an image in the Trash wait there with it: news again once restored.
            images.c.status == ImageStatus.ARCHIVED.value,
            review_notes.c.updated_at > seen,
            # A vote taken back with no comment left says nothing new.
            sa.or_(review_notes.c.vote.is_not(None), review_notes.c.comment != ""),
        )
        .group_by(boards.c.id)
    )
    finishes = (
        sa.select(boards.c.id, sa.func.count())
        .select_from(to_links.join(review_finishes, review_finishes.c.link_id == review_links.c.id))
        .where(owned, review_finishes.c.finished_at > seen)
        .group_by(boards.c.id)
    )
    open_link = (
        sa.select(review_links.c.id)
        .select_from(to_links)
        .where(
            owned,
            review_links.c.revoked_at.is_(None),
            sa.or_(review_links.c.expires_at.is_(None), review_links.c.expires_at > now),
        )
        .limit(1)
    )
    new: dict[int, int] = {}
    with store.engine.connect() as conn:
        for query in (notes, finishes):
            for board_id, count in conn.execute(query):
                new[board_id] = new.get(board_id, 0) + count
        listening = conn.execute(open_link).first() is not None
    return BoardNews(new, listening)


def mark_seen(store: BoardStore, board_id: int, at: float) -> None:
    """The board's owner opened it at `at`: what came before is no longer news."""
    dialect: Any = sqlite
    if store.engine.dialect.name != "sqlite":
        # Imported only on PostgreSQL: a SQLite install never needs its 2 MB.
        from sqlalchemy.dialects import postgresql as dialect
    with store.engine.begin() as conn:
        conn.execute(
            dialect.insert(board_seen)
            .values(board_id=board_id, seen_at=at)
            .on_conflict_do_update(index_elements=[board_seen.c.board_id], set_={"seen_at": at})
        )
