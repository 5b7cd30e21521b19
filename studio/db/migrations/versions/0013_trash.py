"""The Trash: a deleted image is kept, out of sight, until it is restored or purged.

`images.trashed_at` says when an image went to the Trash (its status then "trashed"), so
expiry can purge what has been there longer than STUDIO_TRASH_DAYS. Nothing is in the
Trash at the upgrade: every image keeps its status, and the new column is empty.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("images", sa.Column("trashed_at", sa.Float))
    op.create_index("ix_images_trash", "images", ["status", "trashed_at"])


def downgrade() -> None:
    # The release before has no Trash and no such status: what is in it comes back.
    op.execute("UPDATE images SET status = 'archived' WHERE status = 'trashed'")
    op.drop_index("ix_images_trash", "images")
    op.drop_column("images", "trashed_at")
