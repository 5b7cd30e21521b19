"""Alembic's entry: runs revisions on the connection `studio.db.database` hands over.

`studio.db.database.upgrade` passes a connection that already holds the migration lock and
an open transaction, so every revision of one upgrade commits together or not at all.
Run by Alembic's own command line (for writing a new revision), it opens the database
the settings name.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from studio.db.database import create_engine, include_object
from studio.db.schema import metadata
from studio.settings import Settings


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        render_as_batch=True,  # SQLite alters a table by copying it; batch mode does that
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    engine = create_engine(Settings().database_url)
    with engine.begin() as connection:
        run(connection)
    engine.dispose()
