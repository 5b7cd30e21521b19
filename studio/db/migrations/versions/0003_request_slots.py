"""Request slots: the rate cap on FoxAPI requests, shared by every process using one key.

One row per key fingerprint: when that key may next send a request. A process reserves
the next slot in one locked read-and-update, so several servers and the command line
together stay under the cap.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_slots",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column("next_free", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("request_slots")
