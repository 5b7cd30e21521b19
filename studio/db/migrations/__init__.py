"""Alembic revisions of the studio's schema; `studio.db.database` applies them at start."""
