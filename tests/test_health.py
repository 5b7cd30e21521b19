"""`/healthz` on a real `streamlit run app.py` server: 200 while the studio can work, 503 not."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from studio.db.database import DatabaseUnavailable
from studio.emulator import RunningEmulator
from studio.health import DATABASE_DOWN, HEALTH_PATH, NOT_STARTED, STORAGE_DOWN, route
from tests.browser.support import StudioServer
from tests.conftest import EMULATOR_KEY
from tests.pg_support import PostgresCluster, start_cluster


def server(tmp_path: Path, emulator: RunningEmulator, **settings: str) -> StudioServer:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("FOXAPI_", "STUDIO_"))
    }
    environment.update(
        FOXAPI_API_KEY=EMULATOR_KEY,
        FOXAPI_BASE_URL=emulator.base_url,
        STUDIO_DATA_DIR=str(tmp_path / "data"),
        **settings,
    )
    return StudioServer(tmp_path / "data", environment, tmp_path / "server.log")


def health(running: StudioServer) -> httpx.Response:
    return httpx.get(running.url(HEALTH_PATH), timeout=30, trust_env=False)


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    """A cluster of this test's own, since the test stops it."""
    started = start_cluster()
    yield started
    started.destroy()


def test_a_server_is_healthy_until_its_image_folder_goes(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    running = server(tmp_path, emulator)
    running.start()
    try:
        answer = health(running)
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok"}
        assert answer.headers["cache-control"] == "no-store"
        shutil.rmtree(tmp_path / "data" / "images")
        gone = health(running)
        assert gone.status_code == 503
        assert gone.json() == {"status": "unavailable", "problems": {"storage": STORAGE_DOWN}}
    finally:
        running.stop()


def test_health_follows_the_database_down_and_back_up(
    tmp_path: Path, emulator: RunningEmulator, cluster: PostgresCluster
) -> None:
    database_url = cluster.create_database()
    running = server(tmp_path, emulator, STUDIO_DATABASE_URL=database_url)
    running.start()
    try:
        assert health(running).status_code == 200
        cluster.stop()
        down = health(running)
        assert down.status_code == 503
        assert down.json() == {"status": "unavailable", "problems": {"database": DATABASE_DOWN}}
        assert "127.0.0.1" not in down.text  # the address stays in the server's log
        cluster.start()
        assert wait_for_status(running, 200) == {"status": "ok"}
    finally:
        running.stop()
    log = running.log_text()
    assert log.count("Health check: database is failing") == 1
    assert "Health check: database answers again." in log


def wait_for_status(running: StudioServer, status: int, timeout: float = 30.0) -> object:
    """The first answer with `status` (a pool reconnects on the poll after a restart)."""
    deadline = time.monotonic() + timeout
    answer = health(running)
    while answer.status_code != status and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = health(running)
    assert answer.status_code == status, answer.text
    return answer.json()


def test_a_studio_that_could_not_open_is_unavailable_not_an_error() -> None:
    def service() -> object:
        raise DatabaseUnavailable("The studio cannot reach its database at db.internal:5432.")

    client = TestClient(Starlette(routes=[route(service)]))  # type: ignore[arg-type]
    answer = client.get(HEALTH_PATH)
    assert answer.status_code == 503
    assert answer.json()["problems"] == {"studio": f"{NOT_STARTED}: {DATABASE_DOWN}"}
    assert "db.internal" not in answer.text
