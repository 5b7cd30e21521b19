"""Databases as the releases before wrote them, and their rows read back to compare.

`fixtures/release-0.1.sqlite` was written by the release before migrations (see
`fixtures/make_release_db.py`); PostgreSQL gets the same rows in that release's schema.
Used by tests/test_database.py (opening and upgrading) and tests/test_db_migrations.py
(each revision's own upgrade).
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from studio.db import database
from studio.records import ArchivedFile
from tests.conftest import RELEASE_FIXTURE

RELEASE_TABLES = ("jobs", "images")
# Columns later revisions added: jobs made before sign-in (0004) belong to nobody.
ADDED_COLUMNS = {
    "jobs": ("owner_sub", "owner_email", "batch_id", "parent_image_ids", "input_sources"),
    "images": ("owner_sub", "trashed_at"),
}


def release_rows() -> dict[str, list[dict[str, Any]]]:
    """Every row of the fixture, read with the sqlite3 module alone."""
    with sqlite3.connect(RELEASE_FIXTURE) as conn:
        conn.row_factory = sqlite3.Row
        return {
            table: [dict(row) for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1")]  # noqa: S608
            for table in RELEASE_TABLES
        }


# Columns later revisions moved to tables of their own: a flag per image became each
# owner's favourites (0010).
MOVED_COLUMNS = {"images": ("favourite",)}


def upgraded(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The release's rows as the newest schema holds them: every added column empty."""
    return {
        table: [
            without_moved(table, row) | dict.fromkeys(ADDED_COLUMNS[table]) for row in table_rows
        ]
        for table, table_rows in rows.items()
    }


def without_moved(table: str, row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key not in MOVED_COLUMNS.get(table, ())}


def favourites_in(engine: sa.Engine) -> set[tuple[str, int]]:
    with engine.connect() as conn:
        return {
            (row.owner_sub, row.image_id)
            for row in conn.execute(sa.text("SELECT owner_sub, image_id FROM favourites"))
        }


def flagged(images: list[dict[str, Any]]) -> set[tuple[str, int]]:
    """The favourites the flags of `images` became: their owners'."""
    return {(row.get("owner_sub") or "", row["id"]) for row in images if row["favourite"]}


def only_columns_of(
    rows: dict[str, list[dict[str, Any]]], before: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """`rows` cut to the columns `before` had: later revisions may add columns of their own."""
    return {
        table: [{key: row[key] for key in without_moved(table, before[table][0])} for row in rows_]
        for table, rows_ in rows.items()
    }


def rows_in(
    engine: sa.Engine, names: tuple[str, ...] = RELEASE_TABLES
) -> dict[str, list[dict[str, Any]]]:
    tables = {name: sa.Table(name, sa.MetaData(), autoload_with=engine) for name in names}
    with engine.connect() as conn:
        return {
            name: [
                {key: plain_value(value) for key, value in row._mapping.items()}
                for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for name, table in tables.items()
        }


def plain_value(value: Any) -> Any:
    # SQLite keeps booleans as 0 and 1; PostgreSQL gives True and False.
    return int(value) if isinstance(value, bool) else value


def release_database(url: str, tmp_path: Path) -> str:
    """A database in the state the release before migrations left it, at `url`'s kind."""
    if url.startswith("sqlite"):
        copy = tmp_path / "release.sqlite"
        shutil.copy(RELEASE_FIXTURE, copy)
        return f"sqlite:///{copy}"
    # PostgreSQL: the baseline schema (the release's create_all), no alembic_version,
    # and the fixture's rows.
    engine = database.create_engine(url)
    database.upgrade(engine, to=database.BASELINE)
    rows = release_rows()
    tables = {
        table: sa.Table(table, sa.MetaData(), autoload_with=engine) for table in RELEASE_TABLES
    }
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE alembic_version")
        for name in RELEASE_TABLES:
            conn.execute(
                tables[name].insert(), [typed_row(tables[name], row) for row in rows[name]]
            )
        conn.exec_driver_sql("SELECT setval('images_id_seq', (SELECT max(id) FROM images))")
    engine.dispose()
    return url


def typed_row(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: bool(value) if isinstance(table.c[key].type, sa.Boolean) else value
        for key, value in row.items()
    }


def archived_file() -> ArchivedFile:
    return ArchivedFile("originals/aa/a.png", "thumbs/aa/a.webp", "a" * 64, 8, 8, "png", 10)
