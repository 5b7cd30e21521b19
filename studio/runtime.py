"""Puts the parts together, the same way for the app and the command line."""

from __future__ import annotations

import logging
import secrets
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from studio.archive import Archive
from studio.credentials import Backend, Credentials
from studio.emulator import EmulatorConfig, RunningEmulator, start_emulator
from studio.engine import Engine
from studio.fetch import FetchPolicy
from studio.jobs import JobService
from studio.settings import Settings
from studio.store import Store

log = logging.getLogger(__name__)


@dataclass
class Studio:
    settings: Settings
    store: Store
    archive: Archive
    engine: Engine
    # The server's own credentials: the configured key, or the demo backend's.
    credentials: Credentials
    demo: RunningEmulator | None

    @cached_property
    def jobs(self) -> JobService:
        """The service pages, components and the command line use."""
        return JobService(self.settings, self.store, self.archive, self.engine, self.credentials)

    def close(self) -> None:
        self.engine.stop()
        self.store.close()
        if self.demo is not None:
            self.demo.stop()


class DataFolderUnusable(Exception):
    """The data folder cannot be written to. str() is the one line to show instead of starting."""


def check_data_folder(folder: Path) -> None:
    """Create the data folder if needed and prove a file can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise DataFolderUnusable(
            f"The studio cannot write to its data folder {folder.absolute()} ({reason}): "
            "make it writable, or set STUDIO_DATA_DIR to a folder that is."
        ) from None


def open_studio(settings: Settings | None = None, *, start: bool = True) -> Studio:
    """Open the store and archive, start the demo backend when no key is set, start the engine.

    Raises DataFolderUnusable (one line to print) when the data folder cannot be written.
    """
    settings = settings or Settings()
    check_data_folder(settings.studio_data_dir)
    store = Store(settings.database_url)
    archive = Archive(
        settings.studio_data_dir / "images", thumbnail_px=settings.studio_thumbnail_px
    )
    engine = Engine(
        store,
        archive,
        requests_per_second=settings.studio_max_requests_per_second,
        lease_seconds=settings.studio_lease_seconds,
        fetch_policy=FetchPolicy.from_settings(settings),
    )
    demo: RunningEmulator | None = None
    if settings.api_key is None:
        # Demo tasks persist beside the data so a restarted server still finishes them.
        demo_key = secrets.token_urlsafe(16)
        demo = start_emulator(
            EmulatorConfig(api_key=demo_key, state_dir=settings.studio_data_dir / "demo-backend")
        )
        credentials = Credentials(Backend.DEMO, demo.base_url, demo_key)
        log.info("No FoxAPI key configured: using the demo backend at %s", demo.base_url)
    else:
        credentials = Credentials(Backend.FOXAPI, settings.foxapi_base_url, settings.api_key)
    engine.add_credentials(credentials)
    if start:
        engine.start()
    return Studio(settings, store, archive, engine, credentials, demo)
