"""Batches and lineage: which sweep a job belongs to, and which images an edit was made from.

A sweep's jobs share `batch_id` (its grid is their prompts by their ratios, in the order
they were made). An edit keeps the gallery images it was made from in
`parent_image_ids`, written ",12,15," so one LIKE finds an image's children anywhere.
Jobs written before this revision have neither: they stand alone.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("batch_id", sa.String(32)))
    op.add_column("jobs", sa.Column("parent_image_ids", sa.Text))
    op.create_index("ix_jobs_batch_id", "jobs", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_jobs_batch_id", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("parent_image_ids")
        batch.drop_column("batch_id")
