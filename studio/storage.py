"""Where the studio's bytes live: the data folder, or a bucket of any S3-compatible service.

Keys are relative paths such as `originals/ab/<sha256>.png`. Objects are written once
and never changed: `put_if_absent` leaves an existing object alone, so a retried save,
or a second server saving the same content-addressed key, makes no second object.
Every server reads through the same storage, so every server can serve every image.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol
from urllib.parse import urlsplit

from tenacity import (
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from studio import formats
from studio.errors import ObjectMissing, StorageError
from studio.settings import Settings

if TYPE_CHECKING:
    # boto3 and botocore are imported when a bucket is first opened: most installs keep
    # their images in the data folder, and the two weigh about 15 MB and 0.1 s at start.
    from botocore.client import BaseClient

S3_SCHEME = "s3"
# S3 answers 409 when another conditional write to the same key is under way; AWS's
# advice is to try again, which then finds the other writer's object (412) or succeeds.
CONFLICT_ATTEMPTS = 5
SEE_SETTINGS = " (see STUDIO_DATA_DIR and STUDIO_STORAGE_URL)."


class Storage(Protocol):
    def put_if_absent(self, key: str, data: bytes) -> None:
        """Store `data` under `key` unless an object is there already (then leave it)."""
        ...

    def get(self, key: str) -> bytes:
        """The object's bytes; ObjectMissing when there is none."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The object as a file to read in pieces (close it after); ObjectMissing if none."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the object; nothing happens when there is none."""
        ...

    def check(self) -> None:
        """Raise StorageError, saying why, unless the storage answers and can be written."""
        ...

    def location(self, key: str) -> str:
        """Where a person finds the object: a path on this machine, or an s3:// address."""
        ...


def open_storage(settings: Settings) -> LocalStorage | S3Storage:
    """The storage `STUDIO_STORAGE_URL` names: a folder (the default) or `s3://bucket/prefix`."""
    url = settings.storage_url
    parts = urlsplit(url)
    if parts.scheme == S3_SCHEME:
        if not parts.netloc:
            raise StorageError(
                f"STUDIO_STORAGE_URL {url!r} names no bucket: use s3://bucket/prefix"
            )
        return S3Storage(parts.netloc, parts.path, s3_client(settings))
    if parts.scheme == "file":
        return LocalStorage(Path(parts.path))
    if parts.scheme and len(parts.scheme) > 1:  # a one-letter "scheme" is a Windows drive
        raise StorageError(
            f"STUDIO_STORAGE_URL {url!r} is neither a folder nor an s3://bucket/prefix address"
        )
    return LocalStorage(Path(url))


def s3_client(settings: Settings) -> BaseClient:
    """An S3 client configured the standard way: AWS_ENDPOINT_URL, AWS_REGION and the keys.

    Values left unset here fall through to boto3's own chain (the environment, ~/.aws,
    an instance or container role). One client serves every thread: boto3's low-level
    clients are thread-safe, and it keeps a pool of connections.
    """
    import boto3  # only installs with a bucket pay for it (see above)
    from botocore.config import Config

    secret = settings.aws_secret_access_key
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.aws_endpoint_url or None,
        region_name=settings.aws_region or None,
        aws_access_key_id=settings.aws_access_key_id or None,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        config=Config(
            # boto3's default checksums (aws-chunked CRC32 since 1.36) are refused by
            # Google Cloud Storage's interoperability mode and older MinIO releases.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            connect_timeout=5,
            read_timeout=60,
            retries={"mode": "standard", "max_attempts": 3},
            max_pool_connections=32,
        ),
    )


def _checked_key(key: str) -> PurePosixPath:
    """A key as a relative path with no way out of the folder or prefix it belongs in."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts:
        raise ValueError(f"Not a storage key: {key!r}")
    return path


class LocalStorage:
    """A folder on this machine, as the studio has always kept it.

    A write goes to a temporary file beside its target, is flushed to the disk, and is
    renamed into place, so a reader never sees half a file. On any failure, a full disk
    included, the temporary file is removed and the error raised as it came.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / _checked_key(key)

    def put_if_absent(self, key: str, data: bytes) -> None:
        path = self.path(key)
        if path.exists():
            return
        # Two writers racing here both rename the same bytes into place (keys are
        # content-addressed), and each rename is atomic, so nothing partial is ever seen.
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".part"
        )
        temporary = Path(name)
        try:
            try:
                remaining = memoryview(data)
                while remaining:
                    remaining = remaining[os.write(descriptor, remaining) :]
                # A full disk may only show here; a file renamed into place before this
                # could be empty after a crash, and would then never be written again.
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            temporary.replace(path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        with self._missing_as_error(key):
            return self.path(key).read_bytes()

    def open(self, key: str) -> BinaryIO:
        with self._missing_as_error(key):
            return self.path(key).open("rb")

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def check(self) -> None:
        if not self.root.is_dir():
            raise StorageError(f"The image folder {self.root} does not exist{SEE_SETTINGS}")
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StorageError(f"The image folder {self.root} cannot be written to{SEE_SETTINGS}")

    def location(self, key: str) -> str:
        return str(self.path(key).resolve())

    @contextmanager
    def _missing_as_error(self, key: str) -> Iterator[None]:
        try:
            yield
        except FileNotFoundError as exc:
            raise ObjectMissing(errno.ENOENT, f"{key} is not in {self.root}") from exc


def _is_write_conflict(exc: BaseException) -> bool:
    from botocore.exceptions import ClientError  # loaded with the client already

    return isinstance(exc, ClientError) and _error_code(exc) == "ConditionalRequestConflict"


def _error_code(exc: Any) -> str:
    """The error code of a botocore ClientError."""
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Storage:
    """A bucket (and a prefix in it) on AWS S3, MinIO, Cloudflare R2, GCS interop...

    Writes are conditional (`If-None-Match: *`): the service refuses a second object
    under a key, so two servers saving the same image at once leave exactly one.
    """

    def __init__(self, bucket: str, prefix: str, client: BaseClient) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client = client

    def object_key(self, key: str) -> str:
        relative = str(_checked_key(key))
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def put_if_absent(self, key: str, data: bytes) -> None:
        with self._errors(key):
            self._put_new(key, data)

    @retry(
        retry=retry_if_exception(_is_write_conflict),
        stop=stop_after_attempt(CONFLICT_ATTEMPTS),
        wait=wait_random_exponential(multiplier=0.1, max=2),
        reraise=True,
    )
    def _put_new(self, key: str, data: bytes) -> None:
        from botocore.exceptions import ClientError  # loaded with the client already

        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=self.object_key(key),
                Body=data,
                ContentType=formats.mime_type(PurePosixPath(key).suffix),
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if _error_code(exc) != "PreconditionFailed":
                raise
            # Another writer stored this key first; it stays as it is.

    def get(self, key: str) -> bytes:
        with self._errors(key):
            body = self._client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"]
            with body:
                return bytes(body.read())

    def open(self, key: str) -> BinaryIO:
        with self._errors(key):
            # botocore's StreamingBody: read() and close(), as a BinaryIO is used here.
            body: BinaryIO = self._client.get_object(Bucket=self.bucket, Key=self.object_key(key))[
                "Body"
            ]
            return body

    def exists(self, key: str) -> bool:
        try:
            with self._errors(key):
                self._client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ObjectMissing:
            return False
        return True

    def delete(self, key: str) -> None:
        with self._errors(key):
            self._client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def check(self) -> None:
        with self._errors(None):
            self._client.head_bucket(Bucket=self.bucket)

    def location(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.object_key(key)}"

    @contextmanager
    def _errors(self, key: str | None) -> Iterator[None]:
        """botocore's errors as StorageError, with a sentence an operator can act on."""
        from botocore.exceptions import (  # loaded with the client already
            BotoCoreError,
            ClientError,
            EndpointConnectionError,
        )

        try:
            yield
        except ClientError as exc:
            code = _error_code(exc)
            if key is not None and code in ("NoSuchKey", "404", "NotFound"):
                raise ObjectMissing(errno.ENOENT, f"{self.location(key)} does not exist") from exc
            raise StorageError(self._explain(code)) from exc
        except EndpointConnectionError as exc:
            raise StorageError(
                f"The storage at {self._client.meta.endpoint_url} could not be reached."
            ) from exc
        except BotoCoreError as exc:
            raise StorageError(f"The bucket {self.bucket} could not be used: {exc}") from exc

    def _explain(self, code: str) -> str:
        if code in ("NoSuchBucket", "404"):
            return f"The bucket {self.bucket} does not exist (STUDIO_STORAGE_URL)."
        if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return (
                f"The bucket {self.bucket} refused these credentials: "
                "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
            )
        return f"The bucket {self.bucket} answered with the error {code or 'with no code'}."
