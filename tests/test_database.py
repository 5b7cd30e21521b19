"""Opening the database: upgrades keep every row, newer databases are refused, starts take turns.

Each revision's own upgrade, from a database the revision before wrote, is in
tests/test_db_migrations.py.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from studio.db import database
from studio.db.database import DatabaseTooNew, DatabaseUnavailable
from studio.db.schema import metadata
from studio.records import GalleryFilter
from studio.states import ImageStatus, JobStatus
from studio.store import Store
from tests.conftest import RELEASE_FIXTURE
from tests.migration_support import (
    RELEASE_TABLES,
    archived_file,
    favourites_in,
    flagged,
    release_database,
    release_rows,
    rows_in,
    upgraded,
)
from tests.pg_support import free_port, start_cluster


def test_a_database_the_release_wrote_upgrades_with_nothing_lost(
    database_url: str, tmp_path: Path
) -> None:
    url = release_database(database_url, tmp_path)
    before = release_rows()
    assert {row["status"] for row in before["jobs"]} == {status.value for status in JobStatus}
    # Every image status but the Trash's, which came later (0013).
    statuses = {status.value for status in ImageStatus} - {ImageStatus.TRASHED.value}
    assert {row["status"] for row in before["images"]} == statuses

    store = Store(url)
    try:
        # Every job, image, favourite and fingerprint; no owner.
        assert rows_in(store.engine) == upgraded(before)
        assert favourites_in(store.engine) == flagged(before["images"])
        assert database.revision(store.engine).up_to_date
        archived = [row for row in before["images"] if row["status"] == "archived"]
        assert store.gallery.gallery_count(GalleryFilter()) == len(archived)
        # Made before sign-in: they belong to nobody, and nobody signed in owns any.
        assert store.gallery.gallery_count(GalleryFilter(mine=True, owner_sub=None)) == len(
            archived
        )
        assert store.gallery.gallery_count(GalleryFilter(mine=True, owner_sub="alice")) == 0
        favourites = store.gallery.gallery(GalleryFilter(favourites_only=True), limit=24, offset=0)
        assert {item.job.prompt for item in favourites} == {
            "An owl reading a map",
            "Make the fox blue",
        }
        # The search index was built from the rows already there.
        found = store.gallery.gallery(GalleryFilter(search="FOX"), limit=24, offset=0)
        assert {item.job.prompt for item in found} == {
            "A red fox asleep in the snow",
            "Make the fox blue",
        }
        assert {job.key_id for job in store.jobs.jobs()} == {
            row["key_id"] for row in before["jobs"]
        }
        # And the studio goes on writing to it.
        job = store.jobs.jobs([JobStatus.DOWNLOADING])[0]
        store.work.archive_image(store.work.pending_images(job.id)[0].id, archived_file())
        assert store.gallery.gallery_count(GalleryFilter(search="red fox")) == 2
    finally:
        store.close()


def test_a_database_from_a_newer_studio_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "studio.db"
    Store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE jobs ADD COLUMN owner TEXT")  # what the newer studio added
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    before = "\n".join(sqlite3.connect(path).iterdump())

    with pytest.raises(DatabaseTooNew) as refused:
        Store(f"sqlite:///{path}")

    assert "newer version of the studio" in refused.value.message
    assert "0099" in refused.value.message
    assert "\n".join(sqlite3.connect(path).iterdump()) == before


def test_a_newer_postgresql_database_is_refused_and_left_untouched(postgres_url: str) -> None:
    Store(postgres_url).close()
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
    with pytest.raises(DatabaseTooNew, match="0099"):
        Store(postgres_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0099"
    engine.dispose()


def test_studios_starting_together_upgrade_once(database_url: str, tmp_path: Path) -> None:
    url = release_database(database_url, tmp_path)
    starting = 4
    start = threading.Barrier(starting)

    def open_store(_index: int) -> None:
        start.wait()
        Store(url).close()

    with ThreadPoolExecutor(max_workers=starting) as pool:
        list(pool.map(open_store, range(starting)))  # re-raises any start that failed

    store = Store(url)
    try:
        assert rows_in(store.engine) == upgraded(release_rows())
        # The search index was filled once: each archived fox image is found once.
        assert store.gallery.gallery_count(GalleryFilter(search="fox")) == 2
    finally:
        store.close()


def test_the_baseline_is_the_schema_the_release_wrote(tmp_path: Path) -> None:
    fresh = database.create_engine(f"sqlite:///{tmp_path / 'baseline.db'}")
    database.upgrade(fresh, to=database.BASELINE)
    release = sa.create_engine(f"sqlite:///{RELEASE_FIXTURE}")
    assert _schema(fresh) == _schema(release)
    fresh.dispose()
    release.dispose()


def _schema(engine: sa.Engine) -> dict[str, Any]:
    inspector = sa.inspect(engine)
    return {
        table: {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), i.get("column_sorting"))
                for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
            ),
            "foreign_keys": [
                (f["constrained_columns"], f["referred_table"])
                for f in inspector.get_foreign_keys(table)
            ],
        }
        for table in RELEASE_TABLES
    }


def test_the_newest_revision_makes_exactly_the_tables_the_code_uses(database_url: str) -> None:
    store = Store(database_url)
    try:
        with store.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_object": database.include_object, "compare_type": True}
            )
            assert compare_metadata(context, metadata) == []
    finally:
        store.close()


def test_the_head_a_start_checks_without_alembic_is_alembics_own_head() -> None:
    # A start on a database at `database.HEAD` skips Alembic: a migration added without
    # moving HEAD would never run.
    assert database._scripts().get_current_head() == database.HEAD


def test_a_database_already_at_the_head_is_left_as_it_is(tmp_path: Path) -> None:
    engine = database.create_engine(f"sqlite:///{tmp_path}/studio.db")
    assert database.upgrade(engine).current is None  # a new database: every revision runs
    assert database.upgrade(engine) == database.Revision(database.HEAD, database.HEAD, True)
    assert database.revision(engine).up_to_date
    engine.dispose()


def test_current_revision_is_read_without_changing_anything(tmp_path: Path) -> None:
    url = release_database(f"sqlite:///{tmp_path}", tmp_path)
    engine = database.create_engine(url)
    found = database.revision(engine)
    assert (found.current, found.known, found.up_to_date) == (None, True, False)
    assert not sa.inspect(engine).has_table("alembic_version")
    engine.dispose()


def test_an_unreachable_database_is_said_plainly_without_its_password() -> None:
    url = f"postgresql+psycopg://studio:hunter2@127.0.0.1:{free_port()}/studio"
    with pytest.raises(DatabaseUnavailable) as unavailable:
        Store(url)
    message = unavailable.value.message
    assert message.startswith("The studio cannot reach its database at postgresql+psycopg://")
    assert "127.0.0.1" in message and "STUDIO_DATABASE_URL" in message
    assert "hunter2" not in message


def test_a_database_that_stops_mid_session_is_one_error_and_answers_again_after() -> None:
    cluster = start_cluster()  # its own: stopping the session's would fail other tests
    try:
        store = Store(cluster.create_database())
        with store.engine.connect() as open_connection:
            open_connection.execute(sa.select(1))
            cluster.stop()
            with pytest.raises(DatabaseUnavailable):  # mid-query, on a connection it had
                open_connection.execute(sa.select(1))
        with pytest.raises(DatabaseUnavailable):  # and on a new one
            store.jobs.jobs()
        cluster.start()
        assert store.jobs.jobs() == []
        store.close()
    finally:
        with contextlib.suppress(RuntimeError):
            cluster.destroy()


@pytest.mark.parametrize(
    ("dialect", "problem", "outage"),
    [
        # A server that cannot serve the query: shutting down, recovering, out of slots.
        ("postgresql", sa.exc.OperationalError("SELECT 1", {}, Exception("in recovery")), True),
        ("postgresql", sa.exc.InterfaceError("SELECT 1", {}, Exception("closed")), True),
        # A SQLite file that is locked or full is about the file, said elsewhere.
        ("sqlite", sa.exc.OperationalError("INSERT", {}, Exception("database is locked")), False),
        # A query the database refused is the studio's own mistake, not an outage.
        ("postgresql", sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key")), False),
    ],
)
def test_a_failure_mid_query_is_an_outage_only_when_the_server_cannot_answer(
    dialect: str, problem: sa.exc.DBAPIError, outage: bool
) -> None:
    context = SimpleNamespace(
        is_pre_ping=False,
        is_disconnect=False,
        connection=object(),  # mid-query: connected
        dialect=SimpleNamespace(name=dialect),
        sqlalchemy_exception=problem,
        original_exception=problem.orig,
    )
    engine = sa.create_engine("postgresql+psycopg://db.internal/studio")  # never connects
    translated = database._unavailable_error(engine)(context)
    assert isinstance(translated, DatabaseUnavailable) is outage
