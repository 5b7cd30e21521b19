"""Owners: who made each job, for Mine, deletion rights and each person's daily limit.

`owner_sub` is the OpenID Connect subject (stable), `owner_email` what people are shown.
Both stay NULL for jobs made before sign-in was configured (and for the one local
person of a studio without sign-in): they belong to nobody and admins see them.
Images copy their job's owner, as they copy its created_at, so the gallery's Mine page
is one walk of its own index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN on both databases: no table is rebuilt, so the
    # search triggers of 0002 stay.
    op.add_column("jobs", sa.Column("owner_sub", sa.String(255)))
    op.add_column("jobs", sa.Column("owner_email", sa.String(320)))
    op.add_column("images", sa.Column("owner_sub", sa.String(255)))
    # Each person's images billed today: one range of this index.
    op.create_index("ix_jobs_owner_created_at", "jobs", ["owner_sub", "created_at"])
    op.create_index(
        "ix_images_owner_gallery",
        "images",
        ["owner_sub", "status", sa.text("job_created_at DESC"), "job_id", "position"],
    )


def downgrade() -> None:
    op.drop_index("ix_images_owner_gallery", "images")
    op.drop_index("ix_jobs_owner_created_at", "jobs")
    # SQLite 3.35 and later drop an unindexed column in place, keeping the triggers.
    op.drop_column("images", "owner_sub")
    op.drop_column("jobs", "owner_email")
    op.drop_column("jobs", "owner_sub")
