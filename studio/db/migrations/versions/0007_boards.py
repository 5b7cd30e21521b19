"""Boards and review links: ordered collections of images, shared by unguessable links
whose reviewers vote and comment.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "boards",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner_sub", sa.String(255)),
        sa.Column("owner_email", sa.String(320)),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("archived", sa.Boolean, nullable=False),
    )
    op.create_index("ix_boards_owner_updated", "boards", ["owner_sub", "updated_at"])
    op.create_table(
        "board_images",
        sa.Column("board_id", sa.Integer, sa.ForeignKey("boards.id"), primary_key=True),
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id"), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_index("ix_board_images_image", "board_images", ["image_id"])
    op.create_table(
        "review_links",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("board_id", sa.Integer, sa.ForeignKey("boards.id"), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("label", sa.String(120), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float),
        sa.Column("revoked_at", sa.Float),
        sa.Column("allow_downloads", sa.Boolean, nullable=False),
        sa.Column("window_start", sa.Float, nullable=False),
        sa.Column("window_changes", sa.Integer, nullable=False),
    )
    op.create_index("ix_review_links_board", "review_links", ["board_id"])
    op.create_table(
        "review_notes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("link_id", sa.Integer, sa.ForeignKey("review_links.id"), nullable=False),
        sa.Column("reviewer", sa.String(60), nullable=False),
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id"), nullable=False),
        sa.Column("vote", sa.String(16)),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.UniqueConstraint("link_id", "reviewer", "image_id", name="uq_review_notes_reviewer"),
    )
    op.create_index("ix_review_notes_image", "review_notes", ["image_id", "link_id"])


def downgrade() -> None:
    op.drop_table("review_notes")
    op.drop_table("review_links")
    op.drop_table("board_images")
    op.drop_table("boards")
