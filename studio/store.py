"""The store: every domain's store over one database (SQLAlchemy Core).

SQLite in WAL mode by default; PostgreSQL (`postgresql+psycopg://...`) so that several
servers can share one history. The schema is Alembic's (see studio.db). Each domain owns
the queries on its tables: jobs and the engines' work (studio.jobs.store), the gallery
(studio.gallery.store), boards and their reviews (studio.boards.store) and what people
spent (studio.people.store). This is where the start-up opens them together.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from studio.boards.review_store import ReviewStore
from studio.boards.store import BoardStore
from studio.db.database import Database
from studio.gallery.store import GalleryStore
from studio.jobs.store import JobStore, WorkStore
from studio.people.store import PeopleStore
from studio.settings import DEFAULTS


class Store:
    def __init__(self, url: str, *, pool_size: int = DEFAULTS.studio_database_pool_size) -> None:
        """Open the database at `url` and upgrade its schema (see studio.db.database).

        Raises DatabaseUnavailable when it does not answer, DatabaseTooNew when a newer
        studio upgraded it.
        """
        self.db = Database(url, pool_size=pool_size)
        self.jobs = JobStore(self.db)
        self.work = WorkStore(self.db)
        self.gallery = GalleryStore(self.db)
        self.boards = BoardStore(self.db)
        self.reviews = ReviewStore(self.db)
        self.people = PeopleStore(self.db)

    @property
    def engine(self) -> Engine:
        return self.db.engine

    def check(self) -> None:
        """Raise DatabaseUnavailable, saying why, unless the database answers."""
        self.db.check()

    def close(self) -> None:
        self.db.close()
