"""Prompt search through an index instead of a scan of every prompt.

SQLite: an FTS5 table `image_search` with the trigram tokenizer, so a search still finds
any part of a prompt ("fox" finds "A red fox"), case-insensitively. Its rowid is the
image's id (an INTEGER PRIMARY KEY, which never changes, unlike the jobs table's hidden
rowid), and triggers keep it in step with the images and their jobs' prompts. A later
revision that rebuilds `images` or `jobs` in batch mode drops these triggers with the old
table and must create them again.

PostgreSQL: a pg_trgm GIN index on jobs.prompt, which ILIKE '%...%' uses.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE image_search USING fts5(prompt, tokenize='trigram')",
    "INSERT INTO image_search (rowid, prompt)"
    " SELECT images.id, jobs.prompt FROM images JOIN jobs ON jobs.id = images.job_id",
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
SQLITE_DOWNGRADE = (
    "DROP TRIGGER image_search_prompt",
    "DROP TRIGGER image_search_delete",
    "DROP TRIGGER image_search_insert",
    "DROP TABLE image_search",
)
# pg_trgm is a trusted extension: the database's owner may create it, no superuser needed.
POSTGRESQL_UPGRADE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_jobs_prompt_trgm ON jobs USING gin (prompt gin_trgm_ops)",
)
POSTGRESQL_DOWNGRADE = ("DROP INDEX ix_jobs_prompt_trgm",)


def upgrade() -> None:
    statements = SQLITE_UPGRADE if _dialect() == "sqlite" else POSTGRESQL_UPGRADE
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = SQLITE_DOWNGRADE if _dialect() == "sqlite" else POSTGRESQL_DOWNGRADE
    for statement in statements:
        op.execute(statement)


def _dialect() -> str:
    return op.get_bind().dialect.name
