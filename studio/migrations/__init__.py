"""Alembic revisions of the studio's schema; `studio.database` applies them at start."""
