"""Ids never reused: on SQLite, every table whose id a link or a page names counts its
ids with AUTOINCREMENT, so an id deleted is never given to another row.

Without it SQLite hands out the largest id in the table plus one, so after a delete the
next image could take a deleted image's id (and a link made for that one could name it).
PostgreSQL's identity sequences never go back: nothing changes there.

SQLite cannot add AUTOINCREMENT to a table, so each is rebuilt (batch mode: a copy with
every row and id, the old one dropped, the copy renamed). Its sqlite_sequence starts at
the largest id kept. Foreign keys are off while a migration runs (see
studio.database), as SQLite's own procedure for rebuilding a table asks, and checked
after. The prompt search triggers of 0002 go with the old `images` table and are made
again; the search index itself (rows keyed by image id) is untouched.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Parents before the tables that point at them.
TABLES = ("images", "input_assets", "styles", "boards", "review_links", "review_notes")
GALLERY_INDEXES = {
    "ix_images_gallery": ["status"],
    "ix_images_owner_gallery": ["owner_sub", "status"],
}
ORDER_TAIL = ("job_id", "position")
SEARCH_TRIGGERS = ("image_search_insert", "image_search_delete", "image_search_prompt")
# As 0002 made them.
SEARCH_TRIGGER_SQL = (
    """CREATE TRIGGER image_search_insert AFTER INSERT ON images BEGIN
        INSERT INTO image_search (rowid, prompt) SELECT NEW.id, prompt FROM jobs
        WHERE id = NEW.job_id;
    END""",
    """CREATE TRIGGER image_search_delete AFTER DELETE ON images BEGIN
        DELETE FROM image_search WHERE rowid = OLD.id;
    END""",
    """CREATE TRIGGER image_search_prompt AFTER UPDATE OF prompt ON jobs BEGIN
        UPDATE image_search SET prompt = NEW.prompt
        WHERE rowid IN (SELECT id FROM images WHERE job_id = NEW.id);
    END""",
)


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)


def _rebuild(*, autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    # A trigger naming a table that is, for a moment, not there stops the rename.
    for trigger in SEARCH_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
    # Reflection loses an index's DESC: the gallery's two are made again as 0001 and
    # 0004 made them.
    for name, columns in GALLERY_INDEXES.items():
        op.drop_index(name, "images")
        op.create_index(name, "images", [*columns, sa.text("job_created_at DESC"), *ORDER_TAIL])
    for statement in SEARCH_TRIGGER_SQL:
        op.execute(statement)
    broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"Rebuilding the tables broke their foreign keys: {broken[:5]}")
