"""Finished reviews: a reviewer's "Send my review", so the board's owner hears of it.

One row per link and reviewer name, with when they last sent it (sending again moves it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_finishes",
        sa.Column("link_id", sa.Integer, sa.ForeignKey("review_links.id"), primary_key=True),
        sa.Column("reviewer", sa.String(60), primary_key=True),
        sa.Column("finished_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("review_finishes")
