"""A throwaway PostgreSQL cluster for tests: Debian's initdb and pg_ctl in a temporary folder.

The cluster listens on a free loopback port (and a socket inside its folder), trusts
local connections, and runs as an unprivileged user: PostgreSQL refuses to run as root,
and CI runs as root, so there the tests make (once) and use the system user `studio-test`.
The studio connects as `studio`, the owner of its database but not a superuser, as a
deployment would. With no PostgreSQL installed the tests skip, or fail when
STUDIO_REQUIRE_POSTGRES=1 (as in CI).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest

TEST_USER = "studio-test"
APP_ROLE = "studio"
VERSIONS = Path("/usr/lib/postgresql")  # Debian's: one folder per major version
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def postgres_required() -> bool:
    """Whether missing PostgreSQL fails the run (CI sets STUDIO_REQUIRE_POSTGRES=1)."""
    return os.environ.get("STUDIO_REQUIRE_POSTGRES", "").strip() not in ("", "0")


def find_binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian's layout), if any."""
    if not VERSIONS.is_dir():
        return None
    found = [path for path in VERSIONS.glob("*/bin") if (path / "initdb").is_file()]
    found.sort(key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)
    return found[-1] if found else None


def binaries_or_skip() -> Path:
    binaries = find_binaries()
    if binaries is None:
        reason = (
            f"No PostgreSQL for the database tests: nothing at {VERSIONS}/*/bin/initdb "
            "(apt-get install postgresql)."
        )
        if postgres_required():
            pytest.fail(f"{reason} STUDIO_REQUIRE_POSTGRES is set, so this is a failure.")
        pytest.skip(reason)
    return binaries


class PostgresCluster:
    """One cluster: `start`, `stop` (and start again: same data, same port), `create_database`."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        # Not under pytest's tmp_path: that is root's and closed to the cluster's user.
        self.folder = Path(tempfile.mkdtemp(prefix="studio-pg-"))
        self.data = self.folder / "data"
        self.sockets = self.folder / "sockets"
        self.log = self.folder / "server.log"
        self.port = free_port()
        self._user = _unprivileged_user()
        self.sockets.mkdir()
        if self._user is not None:
            shutil.chown(self.folder, self._user, self._user)
            shutil.chown(self.sockets, self._user, self._user)
        self._run(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C.UTF-8",  # case-insensitive search folds more than ASCII, as a deployment would
            "--no-sync",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "--pgdata",
            str(self.data),
            "--log",
            str(self.log),
            "--options",
            options,
            "--timeout",
            str(START_SECONDS),
            "--wait",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "--pgdata", str(self.data), "--mode", "fast", "--wait", "stop")

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        )

    def prepare(self) -> None:
        """The studio's role: owns its databases, no superuser."""
        with self.admin() as conn:
            conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN")

    def create_database(self, template: str | None = None) -> str:
        """A new database owned by the studio's role, empty or a copy of the database at
        the URL `template`; its SQLAlchemy URL."""
        name = "studio_" + uuid.uuid4().hex[:12]
        copied = f" TEMPLATE {template.rsplit('/', 1)[1]}" if template else ""
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {name} OWNER {APP_ROLE}{copied}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self.admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://{APP_ROLE}@127.0.0.1:{self.port}/{name}"

    def _run(self, program: str, *arguments: str) -> None:
        command = [str(self.binaries / program), *arguments]
        if self._user is not None:
            command = ["runuser", "-u", self._user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{program} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n{log}"
            )


def start_cluster() -> PostgresCluster:
    """A started cluster with the studio's role; a skip (or failure) without PostgreSQL."""
    cluster = PostgresCluster(binaries_or_skip())
    cluster.start()
    cluster.prepare()
    return cluster


def _unprivileged_user() -> str | None:
    """None when not root; else `studio-test`, made as a system user the first time."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(TEST_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", TEST_USER],
            check=True,
        )
    return TEST_USER
