"""The keys an engine holds, in memory only, and a FoxAPI client for each, capped at the
key's request rate: shared with every process on the database for a FoxAPI key, this
process's own for the demo backend (which runs inside it)."""

from __future__ import annotations

import threading
import time

import httpx

from studio import formats
from studio.archive import Archive
from studio.credentials import Backend, Credentials
from studio.fetch import Fetcher
from studio.imaging import CleanImage
from studio.jobs.foxapi import FoxAPIClient
from studio.jobs.ratelimit import RateLimiter, SharedRateLimiter
from studio.jobs.store import WorkStore
from studio.records import GalleryItem

RESULT_LIFETIME = 24 * 3600  # FoxAPI deletes results this long after they are made
INPUT_URL_MAX_AGE = RESULT_LIFETIME - 3600  # an hour's margin for the edit that uses it


class Clients:
    def __init__(
        self,
        work: WorkStore,
        archive: Archive,
        fetcher: Fetcher,
        *,
        requests_per_second: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._work = work
        self._archive = archive
        self._fetcher = fetcher
        self._requests_per_second = requests_per_second
        self._transport = transport
        self.demo_limiter = RateLimiter(requests_per_second)  # this process's own
        self._credentials: dict[str, Credentials] = {}
        self._clients: dict[str, FoxAPIClient] = {}
        self._lock = threading.Lock()

    def add(self, credentials: Credentials) -> None:
        """Hold a key (in memory only); its upstream's results may be fetched from now on."""
        with self._lock:
            self._credentials[credentials.key_id] = credentials
        self._fetcher.trust_origin(credentials.base_url)

    def has(self, key_id: str) -> bool:
        with self._lock:
            return key_id in self._credentials

    def credentials(self, key_id: str) -> Credentials | None:
        with self._lock:
            return self._credentials.get(key_id)

    def drop(self, key_id: str) -> None:
        """Forget a key FoxAPI refused: its jobs wait until it is entered again."""
        with self._lock:
            self._credentials.pop(key_id, None)

    def client(self, credentials: Credentials) -> FoxAPIClient:
        with self._lock:
            client = self._clients.get(credentials.key_id)
            if client is None:
                client = FoxAPIClient(
                    credentials.api_key,
                    credentials.base_url,
                    transport=self._transport,
                    limiter=self._limiter_for(credentials),
                    max_get_attempts=3,
                    max_retry_wait=10.0,
                )
                self._clients[credentials.key_id] = client
            return client

    def upload(self, image: CleanImage, credentials: Credentials) -> str:
        """Upload a cleaned local image and return the URL FoxAPI can fetch it from."""
        client = self.client(credentials)
        return client.upload(image.data, image.filename, image.content_type).url

    def input_url(self, item: GalleryItem, credentials: Credentials) -> str:
        """A URL FoxAPI can fetch an archived image from.

        FoxAPI's own result URL while it still lives; otherwise (and always on the demo
        backend, whose port changes between runs) the archived file, uploaded again.
        """
        young = time.time() - item.image.created_at < INPUT_URL_MAX_AGE
        if young and item.job.backend == credentials.backend == Backend.FOXAPI:
            return item.image.source_url
        data = self._archive.read(item.image.file_path or "")
        extension = formats.extension(item.image.format or "png")
        image = CleanImage(
            data=data,
            content_type=formats.mime_type(extension),
            extension=extension,
            width=item.image.width or 0,
            height=item.image.height or 0,
            filename=f"studio-{item.image.id}.{extension}",
        )
        return self.upload(image, credentials)

    def close(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
        for client in clients:
            client.close()

    def _limiter_for(self, credentials: Credentials) -> RateLimiter:
        """A FoxAPI key's cap is shared with every process on this store; the demo backend
        runs inside this process, so its cap is this process's own."""
        if credentials.backend is Backend.DEMO:
            return self.demo_limiter
        key_id = credentials.key_id
        return SharedRateLimiter(
            self._requests_per_second,
            lambda interval: self._work.reserve_request_slot(key_id, interval),
        )
