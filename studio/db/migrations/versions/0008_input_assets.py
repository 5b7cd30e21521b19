"""Input assets: the uploads an edit was made from, kept (cleaned) for its lineage.

`input_assets` holds one row per distinct upload (its bytes are content-addressed in
the archive under `inputs/`), and `jobs.input_sources` lists an edit's input images in
the order they were sent, as ",g12,a3,l," (g: a gallery image, a: an input asset, l: a
link), so one LIKE finds whether any job still uses an asset. Jobs written before this
revision have no list: their gallery parents (`parent_image_ids`) stay their lineage.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "input_assets",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("file_path", sa.Text, nullable=False),
        sa.Column("thumb_path", sa.Text, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("sha256", name="uq_input_assets_sha256"),
    )
    op.add_column("jobs", sa.Column("input_sources", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("input_sources")
    op.drop_table("input_assets")
