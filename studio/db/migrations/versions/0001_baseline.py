"""Baseline: the schema the release before migrations made with `metadata.create_all`.

A database that release wrote has these tables and no alembic_version table; the studio
stamps it with this revision and upgrades it from here.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("request_json", sa.Text, nullable=False),
        sa.Column("num_outputs", sa.Integer, nullable=False),
        sa.Column("aspect_ratio", sa.String(16)),
        sa.Column("output_format", sa.String(8)),
        sa.Column("backend", sa.String(16), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("task_id", sa.String(128)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer, nullable=False),
        sa.Column("error_code", sa.String(128)),
        sa.Column("error_message", sa.Text),
        sa.Column("credits_reserved", sa.Float),
        sa.Column("estimated_time", sa.Float),
        sa.Column("submitted_at", sa.Float),
        sa.Column("finished_at", sa.Float),
        sa.Column("retry_of", sa.String(32)),
        sa.Column("lease_owner", sa.String(128)),
        sa.Column("lease_until", sa.Float),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id"),
    )
    op.create_index("ix_jobs_created_at", "jobs", ["created_at"])
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_table(
        "images",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source_url", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("archived_at", sa.Float),
        sa.Column("file_path", sa.Text),
        sa.Column("thumb_path", sa.Text),
        sa.Column("sha256", sa.String(64)),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("format", sa.String(8)),
        sa.Column("size_bytes", sa.Integer),
        sa.Column("favourite", sa.Boolean, nullable=False),
        sa.Column("job_created_at", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job_id", "position", name="uq_images_job_position"),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"]),
    )
    op.create_index(
        "ix_images_gallery",
        "images",
        ["status", sa.text("job_created_at DESC"), "job_id", "position"],
    )


def downgrade() -> None:
    op.drop_table("images")
    op.drop_table("jobs")
