"""Favourites per person: each person marks their own, instead of one flag for everyone.

`favourites` holds one row per person and image they marked. Today's flags are kept as
their images' owners' favourites (images made before sign-in belong to nobody: "", the
one person of a studio without sign-in), then `images.favourite` goes. SQLite drops the
column in place (3.35 and later), so the search triggers of 0002 stay.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "favourites",
        sa.Column("owner_sub", sa.String(255), primary_key=True),
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id"), primary_key=True),
    )
    op.create_index("ix_favourites_image", "favourites", ["image_id"])
    op.execute(
        "INSERT INTO favourites (owner_sub, image_id)"
        " SELECT COALESCE(owner_sub, ''), id FROM images WHERE favourite"
    )
    op.drop_column("images", "favourite")


def downgrade() -> None:
    # A flag per image again: marked when anyone had it among their favourites.
    op.add_column(
        "images",
        sa.Column("favourite", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.execute("UPDATE images SET favourite = TRUE WHERE id IN (SELECT image_id FROM favourites)")
    op.drop_index("ix_favourites_image", "favourites")
    op.drop_table("favourites")
