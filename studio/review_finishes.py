"""Finished reviews: a reviewer saying "Send my review" through a live link, and the
owner's board reading who did.

Kept beside the store (which is over its size) on the store's own engine and tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from studio.store import Store, live_link, review_finishes, review_links


@dataclass(frozen=True)
class FinishedReview:
    """One reviewer who sent their review through one of the board's links."""

    reviewer: str  # the name they gave; plain text, never markup
    link_label: str
    finished_at: float


def finish(store: Store, token_sha256: str, now: float, reviewer: str) -> bool:
    """Record that `reviewer` finished reviewing through the live link; False when no
    live link has this token (revoked or expired since)."""
    with store.engine.begin() as conn:
        link_id = conn.execute(
            sa.select(review_links.c.id).where(live_link(token_sha256, now))
        ).scalar_one_or_none()
        if link_id is None:
            return False
        dialect: Any = sqlite if store.engine.dialect.name == "sqlite" else postgresql
        conn.execute(
            dialect.insert(review_finishes)
            .values(link_id=link_id, reviewer=reviewer, finished_at=now)
            .on_conflict_do_update(
                index_elements=[review_finishes.c.link_id, review_finishes.c.reviewer],
                set_={"finished_at": now},
            )
        )
    return True


def finished_on(store: Store, token_sha256: str, reviewer: str) -> float | None:
    """When `reviewer` last sent their review through this link, if they did."""
    query = (
        sa.select(review_finishes.c.finished_at)
        .join(review_links, review_links.c.id == review_finishes.c.link_id)
        .where(
            review_links.c.token_sha256 == token_sha256,
            review_finishes.c.reviewer == reviewer,
        )
    )
    with store.engine.connect() as conn:
        return conn.execute(query).scalar_one_or_none()


def finished_reviews(store: Store, board_id: int) -> list[FinishedReview]:
    """Who sent their review through any of the board's links, newest first."""
    query = (
        sa.select(review_finishes.c.reviewer, review_links.c.label, review_finishes.c.finished_at)
        .join(review_links, review_links.c.id == review_finishes.c.link_id)
        .where(review_links.c.board_id == board_id)
        .order_by(review_finishes.c.finished_at.desc())
    )
    with store.engine.connect() as conn:
        return [
            FinishedReview(row.reviewer, row.label, row.finished_at) for row in conn.execute(query)
        ]
