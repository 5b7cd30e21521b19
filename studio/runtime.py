"""Puts the parts together, the same way for the app and the command line."""

from __future__ import annotations

import gc
import logging
import os
import secrets
import tempfile
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path

from studio import service
from studio.archive import Archive
from studio.credentials import Backend, Credentials
from studio.emulator import EmulatorConfig, RunningEmulator, start_emulator
from studio.errors import StorageError
from studio.fetch import FetchPolicy
from studio.gallery.trash import Purger
from studio.jobs.engine import Engine
from studio.jobs.keys import TypedKeys
from studio.links import UrlSigner
from studio.provenance import ContentSigner, signer_from_settings
from studio.settings import Settings
from studio.storage import open_storage
from studio.store import Store
from studio.webhook import Webhook

log = logging.getLogger(__name__)

URL_SECRET_FILE = "url-secret"  # noqa: S105 (the file's name, not its content)


@dataclass
class Runtime:
    """One server process's parts, as open_studio puts them together; `service` is the
    door over them."""

    settings: Settings
    store: Store
    archive: Archive
    engine: Engine
    # The server's own credentials: the configured key, or the demo backend's.
    credentials: Credentials
    demo: RunningEmulator | None
    # Signs every download's content credentials; None with STUDIO_C2PA=off.
    content_signer: ContentSigner | None = None
    webhook: Webhook | None = None  # STUDIO_WEBHOOK_URL's, when set
    purger: Purger | None = None  # purges the Trash of what expired, when started

    @cached_property
    def service(self) -> service.Studio:
        """The door pages, components, the routes and the command line use (as nobody in
        particular: `for_person` binds it to whoever asks)."""
        parts = service.Parts(
            self.settings,
            self.store,
            self.archive,
            self.engine,
            TypedKeys(self.credentials),
            UrlSigner(_url_secret(self.settings)),
            content_signer=self.content_signer,
            webhook=self.webhook,
        )
        return service.Studio(parts)

    def close(self) -> None:
        self.engine.stop()
        if self.purger is not None:
            self.purger.stop()
        if self.webhook is not None:
            self.webhook.close()
        self.store.close()
        if self.demo is not None:
            self.demo.stop()


class DataFolderUnusable(StorageError):
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


def check_start_up(settings: Settings) -> None:
    """What open_studio checks first, for a server to say before it starts listening.

    Raises StorageError (DataFolderUnusable and CredentialsUnusable included), whose
    str() is one line to print.
    """
    check_data_folder(settings.studio_data_dir)
    Archive(open_storage(settings)).check()
    signer_from_settings(settings)


def open_studio(settings: Settings | None = None, *, start: bool = True) -> Runtime:
    """Open the store and archive, start the demo backend when no key is set, start the engine.

    Raises StorageError (one line to print) when the data folder cannot be written, the
    image storage cannot be used, or the content credentials cannot sign.
    """
    settings = settings or Settings()
    check_data_folder(settings.studio_data_dir)
    # Made on first start (a self-signed chain), like the URL secret.
    content_signer = signer_from_settings(settings)
    archive = Archive(open_storage(settings), thumbnail_px=settings.studio_thumbnail_px)
    # A bucket that is missing or refuses the credentials is said at start, in one line.
    archive.check()
    store = Store(settings.database_url, pool_size=settings.studio_database_pool_size)
    webhook = _webhook(settings)
    engine = Engine(
        store.jobs,
        store.work,
        archive,
        requests_per_second=settings.studio_max_requests_per_second,
        lease_seconds=settings.studio_lease_seconds,
        fetch_policy=FetchPolicy.from_settings(settings),
        on_job_finished=partial(webhook.job_finished, store) if webhook else None,
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
    purger = Purger(store.gallery.trash, archive, settings.studio_trash_days)
    if start:
        engine.start()
        purger.start()
    return Runtime(
        settings, store, archive, engine, credentials, demo, content_signer, webhook, purger
    )


def _webhook(settings: Settings) -> Webhook | None:
    url = settings.studio_webhook_url
    if url is None or not url.get_secret_value().strip():
        return None
    return Webhook(url.get_secret_value().strip(), FetchPolicy.from_settings(settings))


def freeze_start_up_objects() -> int:
    """Put every object made so far out of the garbage collector's reach; return how many.

    For a server, once the studio has started. Streamlit collects every generation after
    each script run (`runner.postScriptGC`), and that full collection walked the ~100,000
    objects Streamlit and the studio made while importing: about 50 ms of every click.
    Frozen, they are skipped; what sessions make afterwards is collected as before, so
    memory stays flat.
    """
    gc.collect()  # the start's own garbage is not kept for good
    gc.freeze()
    return gc.get_freeze_count()


def _url_secret(settings: Settings) -> bytes:
    """The configured link-signing secret, or this data folder's own, made on first use."""
    if settings.studio_url_secret is not None:
        return settings.studio_url_secret.get_secret_value().encode()
    path = settings.studio_data_dir / URL_SECRET_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32))
    return path.read_bytes().strip()
