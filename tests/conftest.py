"""Shared fixtures: a real database file, a real archive and a real emulator.

The browser tests' fixtures (Chromium, the servers they start) are in browser/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.archive import Archive
from studio.credentials import Backend, Credentials
from studio.emulator import EmulatorConfig, RunningEmulator, start_emulator
from studio.store import Store

EMULATOR_KEY = "sk-test-emulator-key"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'studio.db'}")
    yield opened
    opened.close()


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "images")


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
