"""Shared fixtures: a real database file, a real archive, a real emulator, an S3 bucket.

The browser tests' fixtures (Chromium, the servers they start) are in browser/conftest.py.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from studio.archive import Archive
from studio.credentials import Backend, Credentials
from studio.emulator import EmulatorConfig, RunningEmulator, start_emulator
from studio.jobs.foxapi import FoxAPIClient
from studio.store import Store
from tests.foxapi_support import connector
from tests.pg_support import PostgresCluster, start_cluster

if TYPE_CHECKING:
    from tests.s3_support import S3Server

EMULATOR_KEY = "sk-test-emulator-key"
# A database the release before migrations wrote (see fixtures/make_release_db.py).
RELEASE_FIXTURE = Path(__file__).parent / "fixtures" / "release-0.1.sqlite"
S3_PREFIX = "studio"  # the prefix in STUDIO_STORAGE_URL, so keys are shown to stay under it


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'studio.db'}")
    yield opened
    opened.close()


# PostgreSQL (see pg_support.py) ---------------------------------------------------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster for the whole run, started on first use."""
    cluster = start_cluster()
    yield cluster
    cluster.destroy()


@pytest.fixture
def postgres_url(postgres: PostgresCluster) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped after it."""
    url = postgres.create_database()
    yield url
    postgres.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind the studio supports: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'studio.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="session")
def sqlite_at_head(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file the migrations brought to the newest schema, made once a run."""
    path = tmp_path_factory.mktemp("at-head") / "studio.db"
    Store(f"sqlite:///{path}").close()
    return path


@pytest.fixture(scope="session")
def postgres_at_head(postgres: PostgresCluster) -> str:
    """A PostgreSQL database at the newest schema, made once a run, to copy from."""
    url = postgres.create_database()
    Store(url).close()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_at_head(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of each kind with the newest schema and no rows: a copy of one the
    migrations made once (about a quarter of a second less a test than migrating anew).
    Migrating itself is tested on `database_url`'s empty ones."""
    if request.param == "sqlite":
        path = tmp_path / "studio.db"
        shutil.copyfile(request.getfixturevalue("sqlite_at_head"), path)
        yield f"sqlite:///{path}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    url = cluster.create_database(template=request.getfixturevalue("postgres_at_head"))
    yield url
    cluster.drop_database(url)


@pytest.fixture
def store_on_each_database(database_at_head: str) -> Iterator[Store]:
    """The stores opened on a database of each kind: a SQLite file, then PostgreSQL."""
    opened = Store(database_at_head)
    yield opened
    opened.close()


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "images")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server on a free loopback port, for every test that needs a bucket."""
    # Imported here, so tests without a bucket do without moto.
    from tests.s3_support import S3Server

    with S3Server().running() as server:
        yield server


@pytest.fixture
def bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket, named by STUDIO_STORAGE_URL and reached through the AWS_* settings.

    Settings() and any subprocess started with this environment then use it, as a
    deployment would; nothing else (no ~/.aws, no instance metadata) is consulted.
    """
    from tests import s3_support

    name = s3_server.new_bucket()
    monkeypatch.setenv("STUDIO_STORAGE_URL", f"s3://{name}/{S3_PREFIX}")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv("AWS_REGION", s3_support.REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_support.ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_support.SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    return name


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A real emulator over HTTP on a free loopback port, with short task durations."""
    running = start_emulator(
        EmulatorConfig(estimated_time=0.4, duration_spread=0.25, api_key=EMULATOR_KEY, seed=7)
    )
    yield running
    running.stop()


@pytest.fixture
def credentials(emulator: RunningEmulator) -> Credentials:
    return Credentials(Backend.FOXAPI, emulator.base_url, EMULATOR_KEY)


def posts(emulator: RunningEmulator, path: str = "/v1/images/generations") -> list[object]:
    """Bodies of the POSTs the emulator received on `path`."""
    return [entry.body for entry in emulator.log if entry.method == "POST" and entry.path == path]


@pytest.fixture
def sleeps() -> list[float]:
    """The waits FoxAPI clients made by `connect` asked for, recorded instead of slept."""
    return []


@pytest.fixture
def connect(sleeps: list[float]) -> Callable[..., FoxAPIClient]:
    """Makes FoxAPI clients over a fake upstream (tests/foxapi_support.py)."""
    return connector(sleeps)
