"""A real S3 protocol server on loopback: moto's standalone server, started by the tests.

The code under test reaches it over HTTP through AWS_ENDPOINT_URL, exactly as it would
reach AWS. The server notes every request it answers, so a test can count the PUTs an
archive made; buckets are versioned, so a second write under one key would show as a
second version.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
from botocore.client import BaseClient
from moto.s3.responses import S3Response
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
ACCESS_KEY_ID = "studio-test-key-id"
SECRET_ACCESS_KEY = "studio-test-secret"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # /bucket/key, without the query
    status: int


class _RequestLog(logging.Handler):
    """werkzeug logs one line per request it answers: method, path and status."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.requests: list[Request] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not isinstance(record.args, tuple) or len(record.args) < 2:
            return
        line = _ANSI.sub("", str(record.args[0]))
        method, _, rest = line.partition(" ")
        path = rest.rpartition(" ")[0].partition("?")[0]
        self.requests.append(Request(method, path, int(record.args[1])))


@contextmanager
def _atomic_conditional_puts() -> Iterator[None]:
    """S3 checks `If-None-Match` and writes in one step; moto checks, then writes.

    Two PUTs racing through moto could both pass its check, which S3 never allows, so
    PUTs are taken one at a time here to give the stand-in S3's guarantee.
    """
    original: Callable[..., object] = S3Response.put_object
    lock = threading.Lock()

    @functools.wraps(original)
    def one_at_a_time(self: S3Response) -> object:
        with lock:
            return original(self)

    S3Response.put_object = one_at_a_time  # type: ignore[method-assign]
    try:
        yield
    finally:
        S3Response.put_object = original  # type: ignore[method-assign]


class S3Server:
    """moto's ThreadedMotoServer on a free loopback port, with a log of its requests."""

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._log = _RequestLog()

    @contextmanager
    def running(self) -> Iterator[S3Server]:
        logger = logging.getLogger("werkzeug")
        logger.addHandler(self._log)
        logger.setLevel(logging.INFO)
        with _atomic_conditional_puts():
            self._server.start()
            try:
                yield self
            finally:
                self._server.stop()
                logger.removeHandler(self._log)

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    @functools.cached_property
    def client(self) -> BaseClient:
        """A client of the test's own, to look into buckets behind the studio's back."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )

    def new_bucket(self) -> str:
        """A fresh, versioned bucket: every write under a key stays countable."""
        name = f"studio-{uuid.uuid4().hex[:12]}"
        client = self.client
        client.create_bucket(Bucket=name)
        client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name

    def requests(self, method: str, bucket: str) -> list[Request]:
        """Requests of `method` on objects in `bucket` (not on the bucket itself)."""
        return [
            request
            for request in self._log.requests
            if request.method == method and request.path.startswith(f"/{bucket}/")
        ]

    def versions(self, bucket: str) -> list[str]:
        """The key of every version of every object in `bucket`: one per write that landed."""
        listing = self.client.list_object_versions(Bucket=bucket)
        return sorted(version["Key"] for version in listing.get("Versions", []))
