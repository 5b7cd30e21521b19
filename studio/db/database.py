"""Opening the database: the engine and its pool, and the schema brought up to date.

Every start upgrades the schema to the newest revision the code knows (Alembic, under
`studio/db/migrations/`), holding a lock so that servers starting together take turns: an
advisory lock on PostgreSQL, `BEGIN IMMEDIATE` on SQLite. The whole upgrade is one
transaction. A database the release before migrations wrote (its tables, no
alembic_version) is stamped as the baseline first; a database a newer studio upgraded
is refused, untouched. Alembic itself is imported only when there is something to
upgrade (or a revision to read): a start on an up-to-date database reads the version
table with one query, without it.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import ExceptionContext
from sqlalchemy.pool import NullPool

# Defined with the other failures; imported from here too, where they always were.
from studio.errors import DatabaseError as DatabaseError
from studio.errors import DatabaseTooNew as DatabaseTooNew
from studio.errors import DatabaseUnavailable as DatabaseUnavailable
from studio.settings import DEFAULTS

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"  # the schema of the release before migrations
# The newest revision under migrations/versions (a test holds it to Alembic's own head):
# a database already there starts without loading Alembic, about 6 MB and 0.05 s.
HEAD = "0013"
VERSION_TABLE = "alembic_version"
RELEASE_TABLE = "jobs"  # present in every database a studio has written
# Any fixed number, the same in every studio: the key of the PostgreSQL advisory lock.
MIGRATION_LOCK_KEY = 0x5354_5544_494F
SQLITE_BUSY_SECONDS = 30  # how long a writer waits for another (a server upgrading, say)
CONNECT_SECONDS = 10  # how long a PostgreSQL connection attempt may take
SQLITE_IOERR, SQLITE_FULL = 10, 13  # sqlite3's result codes: I/O error, "disk is full"
FULL_DISK_BYTES = 1024 * 1024  # less room than this on the database's disk: full
POSTGRES_DISK_FULL = "53100"  # SQLSTATE disk_full
# Objects the prompt-search revision makes by hand-written SQL, outside `metadata`.
SEARCH_TABLE = "image_search"
_SEARCH_INDEXES = ("ix_jobs_prompt_trgm",)


@dataclass(frozen=True)
class Revision:
    """Where a database's schema stands against the code's newest revision."""

    current: str | None  # None: no studio schema yet (or one from before migrations)
    head: str
    known: bool  # False when a newer studio wrote `current`

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


class Database:
    """One database, opened: its engine, its dialect, and a count of the changes made
    through it that alter what the gallery shows (its store keeps counts and pages until
    this count moves).

    Every domain's store is made over the same Database, so a change one domain makes
    (an image archived, put on a board, deleted) is seen by the gallery at once.
    """

    def __init__(self, url: str, *, pool_size: int = DEFAULTS.studio_database_pool_size) -> None:
        """Open the database at `url` and upgrade its schema.

        Raises DatabaseUnavailable when it does not answer, DatabaseTooNew when a newer
        studio upgraded it.
        """
        self.engine = create_engine(url, pool_size=pool_size)
        self.sqlite = self.engine.dialect.name == "sqlite"
        self._changes = 0
        self._changes_lock = threading.Lock()
        try:
            upgrade(self.engine)
        except BaseException:
            self.engine.dispose()
            raise

    def check(self) -> None:
        """Raise DatabaseUnavailable, saying why, unless the database answers."""
        with self.engine.connect() as conn:
            conn.execute(sa.select(1))

    def close(self) -> None:
        self.engine.dispose()

    @property
    def changes(self) -> int:
        """How many changes to the gallery's images were made through this database."""
        with self._changes_lock:
            return self._changes

    def changed(self) -> None:
        with self._changes_lock:
            self._changes += 1

    def upsert(self, table: sa.Table) -> Any:
        """An INSERT that can say ON CONFLICT, in this database's dialect. PostgreSQL's is
        imported only by a studio on PostgreSQL (about 2 MB a SQLite install never needs)."""
        if self.sqlite:
            return sqlite.insert(table)
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)


class DomainStore:
    """What every domain's store stands on: the one opened database, shared."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def engine(self) -> Engine:
        """The engine of the database every store shares."""
        return self._db.engine


def create_engine(url: str, *, pool_size: int = DEFAULTS.studio_database_pool_size) -> Engine:
    """An engine for `url` with `pool_size` connections kept (as many more under bursts).

    Connections are checked before use, so a database that restarted costs no failed
    query; a database that does not answer raises DatabaseUnavailable.
    """
    options: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        _make_folder(url)
        options["connect_args"] = {"timeout": SQLITE_BUSY_SECONDS}
    elif url.startswith("postgresql"):
        options["connect_args"] = {"connect_timeout": CONNECT_SECONDS}
    if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
        options.update(pool_size=pool_size, max_overflow=pool_size)
    engine = sa.create_engine(url, **options)
    _listen(engine)
    return engine


def upgrade(engine: Engine, to: str = "head") -> Revision:
    """Bring the schema to revision `to`, with every row kept; return where it was."""
    with _migration_transaction(engine) as connection:
        if to == "head" and _stamped(connection) == HEAD:
            return Revision(HEAD, HEAD, known=True)
        from alembic import command  # something to upgrade: see the module's docstring

        before = _revision(connection)
        _refuse_unknown(before, engine)
        config = _config(connection)
        if before.current is None and sa.inspect(connection).has_table(RELEASE_TABLE):
            command.stamp(config, BASELINE)
        command.upgrade(config, to)
    return before


def revision(engine: Engine) -> Revision:
    """Where the schema stands, read without changing anything."""
    with engine.connect() as connection:
        return _revision(connection)


def describe(engine: Engine) -> str:
    """The database's address for messages, with any password hidden."""
    return engine.url.render_as_string(hide_password=True)


def include_object(
    _object: object, name: str | None, type_: str, _reflected: bool, _compare_to: object
) -> bool:
    """Alembic's filter: the prompt search index (hand-written SQL) is not in `metadata`."""
    if name is None or type_ not in ("table", "index"):
        return True
    return not (name.startswith(SEARCH_TABLE) or name in _SEARCH_INDEXES)


# Internals -------------------------------------------------------------------------------


def _make_folder(url: str) -> None:
    database = sa.make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _listen(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _configure_sqlite)
    sa.event.listen(engine, "handle_error", _unavailable_error(engine))


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _unavailable_error(engine: Engine) -> Any:
    """A handle_error hook: connection failures and a full disk become DatabaseUnavailable,
    said plainly."""
    address = describe(engine)
    sqlite_file = engine.url.database if engine.dialect.name == "sqlite" else None

    def translate(context: ExceptionContext) -> BaseException | None:
        # A failed pre-ping is SQLAlchemy's own business: it reconnects and goes on.
        if context.is_pre_ping:
            return None
        original = context.original_exception
        if _disk_full(original, sqlite_file):
            return DatabaseUnavailable(
                f"The disk that holds the studio's database ({address}) is full. "
                "Free some space on it; nothing already saved is lost."
            )
        if not _outage(context):
            return None
        reason = str(original).strip().splitlines()[0] if str(original).strip() else "no answer"
        return DatabaseUnavailable(
            f"The studio cannot reach its database at {address}: {reason}. "
            "Check that the database server is running and that STUDIO_DATABASE_URL is right."
        )

    return translate


def _disk_full(error: BaseException | None, sqlite_file: str | None) -> bool:
    """Whether a driver's error means a full disk rather than a database that is away.

    SQLite says "database or disk is full" when it knows, and only "disk I/O error" when
    its journal cannot grow: that one counts when the database's disk has no room left.
    """
    code = getattr(error, "sqlite_errorcode", None)
    if code == SQLITE_FULL or getattr(error, "sqlstate", None) == POSTGRES_DISK_FULL:
        return True
    if isinstance(code, int) and code & 0xFF == SQLITE_IOERR and sqlite_file:
        try:
            return shutil.disk_usage(Path(sqlite_file).parent).free < FULL_DISK_BYTES
        except OSError:
            return False
    return False


def _outage(context: ExceptionContext) -> bool:
    """Whether a failure means the database is not answering, rather than refusing a query."""
    if context.is_disconnect:
        return True
    problem = context.sqlalchemy_exception
    if isinstance(problem, (sa.exc.InterfaceError, sa.exc.DisconnectionError)):
        return True
    # On connect, or mid-query on a server (shutting down, starting, out of connections).
    # SQLite's own operational errors (a locked or full file) are about the file instead.
    return isinstance(problem, sa.exc.OperationalError) and (
        context.connection is None or context.dialect.name != "sqlite"
    )


@contextmanager
def _migration_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction holding the lock that lets one studio at a time upgrade."""
    if engine.dialect.name == "sqlite":
        # A connection of its own whose transactions start with BEGIN IMMEDIATE: that takes
        # SQLite's write lock at once, so a second studio waits here until the first is done.
        sqlite_engine = sa.create_engine(
            engine.url, poolclass=NullPool, connect_args={"timeout": SQLITE_BUSY_SECONDS}
        )
        sa.event.listen(sqlite_engine, "connect", _autocommit_driver)
        sa.event.listen(sqlite_engine, "connect", _configure_sqlite)
        # Off while the schema changes, as SQLite's procedure for rebuilding a table
        # asks (dropping a parent would delete its children's references); a revision
        # that rebuilds one checks them after (see 0009).
        sa.event.listen(sqlite_engine, "connect", _foreign_keys_off)
        sa.event.listen(sqlite_engine, "begin", _begin_immediate)
        sa.event.listen(sqlite_engine, "handle_error", _unavailable_error(engine))
        try:
            with sqlite_engine.begin() as connection:
                yield connection
        finally:
            sqlite_engine.dispose()
        return
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
        yield connection


def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 module would otherwise open transactions by itself; here we do.
    dbapi_connection.isolation_level = None


def _foreign_keys_off(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA foreign_keys=OFF")


def _begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _stamped(connection: Connection) -> str | None:
    """The revision Alembic's version table holds, read without Alembic; None if none."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    versions = sa.table(VERSION_TABLE, sa.column("version_num"))
    stamped = connection.execute(sa.select(versions.c.version_num)).scalars().all()
    return stamped[0] if len(stamped) == 1 else None


def _config(connection: Connection) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _scripts() -> ScriptDirectory:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def _revision(connection: Connection) -> Revision:
    from alembic.migration import MigrationContext
    from alembic.util import CommandError

    scripts = _scripts()
    head = scripts.get_current_head()
    assert head is not None  # the baseline at least
    current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        return Revision(None, head, known=True)
    try:
        known = scripts.get_revision(current) is not None
    except CommandError:
        known = False
    return Revision(current, head, known=known)


def _refuse_unknown(found: Revision, engine: Engine) -> None:
    if found.known:
        return
    raise DatabaseTooNew(
        f"The database at {describe(engine)} was upgraded by a newer version of the studio "
        f"(schema revision {found.current}; this version knows up to {found.head}). "
        "It was left as it is. Run the newer version, or restore a backup from before "
        "that upgrade."
    )
