"""The schema: every table of the studio, on one MetaData that Alembic compares against.

Each domain's store (jobs, gallery, boards, people) owns the queries on its tables; the
tables themselves are defined here once, so a migration is checked against all of them.
"""

from __future__ import annotations

import sqlalchemy as sa

from studio.db import database

metadata = sa.MetaData()

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("request_json", sa.Text, nullable=False),
    sa.Column("num_outputs", sa.Integer, nullable=False),
    sa.Column("aspect_ratio", sa.String(16)),
    sa.Column("output_format", sa.String(8)),
    sa.Column("backend", sa.String(16), nullable=False),
    # A one-way fingerprint of the key the job was sent with, never the key itself:
    # after a restart it tells which typed key a waiting job needs.
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("task_id", sa.String(128), unique=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("progress", sa.Integer, nullable=False, default=0),
    sa.Column("error_code", sa.String(128)),
    sa.Column("error_message", sa.Text),
    sa.Column("credits_reserved", sa.Float),
    sa.Column("estimated_time", sa.Float),
    sa.Column("submitted_at", sa.Float),
    sa.Column("finished_at", sa.Float),
    sa.Column("retry_of", sa.String(32)),
    sa.Column("lease_owner", sa.String(128)),
    sa.Column("lease_until", sa.Float),
    sa.Column("batch_id", sa.String(32), index=True),
    # The gallery images an edit was made from, as ",12,15," (see migration 0004).
    sa.Column("parent_image_ids", sa.Text),
    # An edit's input images in the order sent, as ",g12,a3,l," (see migration 0008).
    sa.Column("input_sources", sa.Text),
    # Who made the job (see studio.people); NULL: nobody, as before sign-in (0004).
    sa.Column("owner_sub", sa.String(255)),
    sa.Column("owner_email", sa.String(320)),
    sa.Index("ix_jobs_status", "status"),
    sa.Index("ix_jobs_created_at", "created_at"),
    sa.Index("ix_jobs_owner_created_at", "owner_sub", "created_at"),
)

# Named prompt snippets (see migration 0006): a person's own, or shared with everyone.
styles = sa.Table(
    "styles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner_sub", sa.String(255)),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("shared", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sqlite_autoincrement=True,  # ids never reused (see migration 0009)
)

# Uploads edits were made from, kept for their lineage (see migration 0008): not gallery
# images. Their files are content-addressed under `inputs/` (see Archive.save_input).
input_assets = sa.Table(
    "input_assets",
    metadata,
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
    sqlite_autoincrement=True,  # ids never reused (see migration 0009)
)

# When each FoxAPI key (by fingerprint) may next send a request, for every process.
request_slots = sa.Table(
    "request_slots",
    metadata,
    sa.Column("key_id", sa.String(64), primary_key=True),
    sa.Column("next_free", sa.Float, nullable=False),
)

images = sa.Table(
    "images",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id"), nullable=False),
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
    # The job's created_at, copied when the image is recorded: the gallery lists images
    # newest job first, and with that order on this table one index walk serves a page.
    sa.Column("job_created_at", sa.Float, nullable=False),
    # The job's owner, copied like job_created_at: Mine is one walk of its own index.
    sa.Column("owner_sub", sa.String(255)),
    # When it went to the Trash (status "trashed"); NULL otherwise (see migration 0013).
    sa.Column("trashed_at", sa.Float),
    sa.UniqueConstraint("job_id", "position", name="uq_images_job_position"),
    sqlite_autoincrement=True,  # ids never reused (see migration 0009)
)

# Each person's favourites (see migration 0010): `owner_sub` is "" for the one person of
# a studio without sign-in (whose jobs belong to nobody), as a key column cannot be NULL.
favourites = sa.Table(
    "favourites",
    metadata,
    sa.Column("owner_sub", sa.String(255), primary_key=True),
    sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id"), primary_key=True),
    sa.Index("ix_favourites_image", "image_id"),
)

# Boards (see migration 0007): a person's named, ordered collections of images. An image
# may be in several boards; deleting it takes it out of all of them.
boards = sa.Table(
    "boards",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner_sub", sa.String(255)),
    sa.Column("owner_email", sa.String(320)),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False),
    sa.Index("ix_boards_owner_updated", "owner_sub", "updated_at"),
    sqlite_autoincrement=True,  # ids never reused (see migration 0009)
)

board_images = sa.Table(
    "board_images",
    metadata,
    sa.Column("board_id", sa.Integer, sa.ForeignKey("boards.id"), primary_key=True),
    sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id"), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Index("ix_board_images_image", "image_id"),
)

# A board shared for review. Only the token's SHA-256 is kept; the token itself is shown
# once. window_start/window_changes count the link's votes and comments of the current
# minute, moved in the same statement that checks them (see Store.review_change).
review_links = sa.Table(
    "review_links",
    metadata,
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
    sa.Index("ix_review_links_board", "board_id"),
    sqlite_autoincrement=True,  # ids never reused (see migration 0009)
)

# One reviewer's vote and comment on one image, per link.
review_notes = sa.Table(
    "review_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("link_id", sa.Integer, sa.ForeignKey("review_links.id"), nullable=False),
    sa.Column("reviewer", sa.String(60), nullable=False),
    sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id"), nullable=False),
    sa.Column("vote", sa.String(16)),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("link_id", "reviewer", "image_id", name="uq_review_notes_reviewer"),
    sa.Index("ix_review_notes_image", "image_id", "link_id"),
    sqlite_autoincrement=True,  # ids never reused (see migration 0009)
)

# A reviewer's "Send my review" through one link (see migration 0011).
review_finishes = sa.Table(
    "review_finishes",
    metadata,
    sa.Column("link_id", sa.Integer, sa.ForeignKey("review_links.id"), primary_key=True),
    sa.Column("reviewer", sa.String(60), primary_key=True),
    sa.Column("finished_at", sa.Float, nullable=False),
)

# When a board's owner last opened it: what reviewers said since is news (migration 0012).
board_seen = sa.Table(
    "board_seen",
    metadata,
    sa.Column("board_id", sa.Integer, sa.ForeignKey("boards.id"), primary_key=True),
    sa.Column("seen_at", sa.Float, nullable=False),
)

# The prompt search index on SQLite: an FTS5 table made by a migration (0002), one row per
# image, its rowid the image's id. On PostgreSQL, a pg_trgm index on jobs.prompt instead.
image_search = sa.table(database.SEARCH_TABLE, sa.column("rowid"), sa.column("prompt"))

# Newest job first, a job's images in their order; job_id settles jobs made in the same instant.
GALLERY_ORDER = (images.c.job_created_at.desc(), images.c.job_id, images.c.position)
sa.Index("ix_images_gallery", images.c.status, *GALLERY_ORDER)
sa.Index("ix_images_owner_gallery", images.c.owner_sub, images.c.status, *GALLERY_ORDER)
# The Trash, newest first, and what has been in it longer than it keeps anything.
sa.Index("ix_images_trash", images.c.status, images.c.trashed_at)
