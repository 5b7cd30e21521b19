"""When a board's owner last opened it, so votes, comments and finished reviews since
then show as news (a badge on Boards and in the tab's title).

Boards that exist at the upgrade count as seen at that moment: a studio cannot know what
its owners looked at before, and every old verdict flagged as new at once would bury
the next real one. Their verdicts are all still on the boards, as before.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    board_seen = op.create_table(
        "board_seen",
        sa.Column("board_id", sa.Integer, sa.ForeignKey("boards.id"), primary_key=True),
        sa.Column("seen_at", sa.Float, nullable=False),
    )
    boards = sa.table("boards", sa.column("id", sa.Integer))
    op.execute(
        board_seen.insert().from_select(
            ["board_id", "seen_at"],
            sa.select(boards.c.id, sa.literal(time.time(), sa.Float)),
        )
    )


def downgrade() -> None:
    op.drop_table("board_seen")
