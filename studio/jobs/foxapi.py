"""FoxAPI's HTTP API: submit a generation, poll its task, upload an input image, fetch results.

Retries follow the contract in shared/foxapi.md. GETs are safe to repeat, so they retry
transient failures with capped, jittered backoff that honours `Retry-After`. A POST creates
a paid task and FoxAPI has no idempotency key, so a POST is sent again only when it provably
never arrived (no connection) or was refused before any work began (429).

The API key goes only into the Authorization header of requests to FoxAPI itself. Result
downloads go through the studio's fetch policy (studio/fetch.py), without it, and every text
FoxAPI sends back is scrubbed of the key before it reaches an exception or a log line.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from studio.errors import (
    BadRequest,
    ConnectionFailed,
    Forbidden,
    FoxAPIError,
    InsufficientBalance,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    Unauthorized,
    UnexpectedResponse,
    UnusableTask,
)
from studio.fetch import (
    DEFAULT_TIMEOUT,
    USER_AGENT,
    DownloadedFile,
    Fetcher,
    FetchPolicy,
    retry_after,
    transport_error,
)
from studio.jobs.ratelimit import Priority, RateLimiter
from studio.request import GenerationRequest, check_image_url
from studio.settings import DEFAULT_BASE_URL
from studio.task import Task, parse_task

logger = logging.getLogger(__name__)

GENERATIONS_PATH = "/v1/images/generations"
TASKS_PATH = "/v1/tasks"
UPLOAD_PATH = "/v1/files/upload/stream"

# A POST may be sent again at most this many times, and only when it never reached FoxAPI.
MAX_POST_RETRIES = 2
# Backoff between GET attempts: BACKOFF_BASE * 2**n seconds plus up to BACKOFF_JITTER.
BACKOFF_BASE = 0.5
BACKOFF_JITTER = 0.5

# Printable ASCII without spaces: anything else cannot travel in an HTTP header intact,
# and httpx would quote the offending header (and so the key) in its own error.
_API_KEY_CHARS = re.compile(r"[\x21-\x7e]+")
_SNIPPET_CHARS = 200


@dataclass(frozen=True)
class UploadedFile:
    id: str
    url: str
    filename: str
    size: int | None
    created: int | None


class FoxAPIClient:
    """A client for FoxAPI. Safe to share between threads; close it (or use `with`) when done."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        transport: httpx.BaseTransport | None = None,
        limiter: RateLimiter | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_get_attempts: int = 5,
        max_retry_wait: float = 30.0,
        fetch_policy: FetchPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(
                f"“{base_url}” is not a FoxAPI address. Use a full link such as {DEFAULT_BASE_URL}."
            )
        if max_get_attempts < 1:
            raise ValueError("max_get_attempts must be at least 1.")
        self._api_key = api_key.strip()
        self._base_url = str(url).rstrip("/")
        port = f":{url.port}" if url.port is not None else ""
        self._api_place = f"FoxAPI at {url.host}{port}"
        self._limiter = limiter
        self._max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._backoff = wait_exponential_jitter(
            multiplier=BACKOFF_BASE, jitter=BACKOFF_JITTER, max=max_retry_wait
        )
        headers = {"User-Agent": USER_AGENT}
        self._api = httpx.Client(
            base_url=self._base_url, headers=headers, transport=transport, timeout=timeout
        )
        # Result URLs are public CDN links on other hosts: the fetcher never carries the key.
        # Results on FoxAPI's own origin are trusted wherever it is (the emulator's loopback).
        self._fetcher = Fetcher(
            fetch_policy or FetchPolicy.defaults(),
            transport=transport,
            timeout=httpx.Timeout(timeout),
        )
        self._fetcher.trust_origin(self._base_url)
        self._get_policy = self._retry_policy(max_get_attempts, _is_retryable)
        self._post_policy = self._retry_policy(1 + MAX_POST_RETRIES, _never_reached_work)

    def submit(self, request: GenerationRequest) -> Task:
        """Create a generation task. Never resent once it may have reached FoxAPI."""
        response = self._post_policy(
            self._request, "POST", GENERATIONS_PATH, json=request.body(), priority=Priority.HIGH
        )
        return parse_task(self._json_body(response))

    def get_task(self, task_id: str) -> Task:
        """Read a task's current state."""
        if not task_id:
            raise ValueError("A task id is needed to look a task up.")
        path = f"{TASKS_PATH}/{quote(task_id, safe='')}"
        try:
            httpx.URL(self._base_url + path)
        except httpx.InvalidURL:
            raise UnusableTask(
                "FoxAPI gave this job a task id the studio cannot look up "
                f"({len(task_id):,} characters), so its images cannot be fetched."
            ) from None
        response = self._get_policy(self._request, "GET", path)
        return parse_task(self._json_body(response))

    def upload(self, data: bytes, filename: str, content_type: str) -> UploadedFile:
        """Upload a local image so an edit can name it by URL. Never resent once it arrived."""
        response = self._post_policy(
            self._request,
            "POST",
            UPLOAD_PATH,
            files={"file": (filename, data, content_type)},
            data={"file_name": filename},
            priority=Priority.HIGH,
        )
        return self._uploaded_file(self._json_body(response), filename)

    def download(self, url: str) -> DownloadedFile:
        """Fetch an image from a result URL under the fetch policy, without the API key."""
        return self._get_policy(self._download_once, url)

    def close(self) -> None:
        self._api.close()
        self._fetcher.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FoxAPIClient(base_url={self._base_url!r})"

    def _request(
        self, method: str, url: str, *, priority: Priority = Priority.NORMAL, **kwargs: Any
    ) -> httpx.Response:
        """Wait for the limiter, send once, and turn every failure into a FoxAPIError.

        A person waiting on a click (a generation POST, an upload) passes `Priority.HIGH`
        and goes ahead of queued polls.
        """
        headers = {"Authorization": f"Bearer {self._checked_api_key()}"}
        request = self._api.build_request(method, url, headers=headers, **kwargs)
        if self._limiter is not None:
            self._limiter.acquire(priority)
        try:
            response = self._api.send(request)
        except httpx.TransportError as exc:
            error = transport_error(exc, self._api_place)
            logger.info("%s %s failed: %s", method, request.url.path, error.message)
            raise error from exc
        logger.debug("%s %s answered %d", method, request.url.path, response.status_code)
        if response.is_success:
            return response
        raise self._api_error(response)

    def _download_once(self, url: str) -> DownloadedFile:
        if self._limiter is not None:
            self._limiter.acquire()
        return self._fetcher.fetch_image(url)

    def _checked_api_key(self) -> str:
        if not self._api_key:
            raise Unauthorized("No FoxAPI key is set. Enter your API key to continue.")
        if not _API_KEY_CHARS.fullmatch(self._api_key):
            raise Unauthorized(
                "The FoxAPI key contains spaces or characters an API key cannot have. "
                "Copy it again from your FoxAPI account and enter it again."
            )
        return self._api_key

    def _api_error(self, response: httpx.Response) -> FoxAPIError:
        status = response.status_code
        said, code, detail = self._error_fields(response)
        quoted = f" FoxAPI said: “{said}”" if said else ""
        fields: dict[str, Any] = {"status": status, "code": code, "detail": detail}
        if status == 400:
            return BadRequest(
                "FoxAPI could not read the studio's request. This is a bug in the studio; "
                f"please report it.{quoted}",
                **fields,
            )
        if status == 401:
            return Unauthorized(
                f"FoxAPI did not accept the API key. Check it and enter it again.{quoted}",
                **fields,
            )
        if status == 402:
            return InsufficientBalance(
                "Your FoxAPI balance is too low for this request. "
                f"Top up your account, then try again.{quoted}",
                **fields,
            )
        if status == 403:
            return Forbidden(f"FoxAPI refused this request (403).{quoted}", **fields)
        if status == 404:
            if response.request.url.path.startswith(f"{TASKS_PATH}/"):
                return NotFound(
                    f"FoxAPI has no record of this task, so its images cannot be fetched.{quoted}",
                    **fields,
                )
            return NotFound(
                f"FoxAPI does not know the address {response.request.url.path} (404). "
                f"Check the FoxAPI address in the settings.{quoted}",
                **fields,
            )
        if status == 413:
            return PayloadTooLarge(
                "The file is too large for FoxAPI to accept. Choose a smaller image.", **fields
            )
        if status == 422:
            return InvalidInput(
                said or "FoxAPI refused one of the values in this request.", **fields
            )
        if status == 429:
            return RateLimited(
                f"FoxAPI is busy (rate limited). Wait a moment, then try again.{quoted}",
                retry_after=retry_after(response),
                **fields,
            )
        if status >= 500:
            return ServerError(
                f"FoxAPI had a server problem ({status}). Try again in a little while.{quoted}",
                **fields,
            )
        return UnexpectedResponse(
            f"FoxAPI answered with a status the studio does not expect ({status}).{quoted}",
            **fields,
        )

    def _error_fields(self, response: httpx.Response) -> tuple[str | None, str | None, str | None]:
        """FoxAPI's own message and code from an error body, with the key scrubbed out."""
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            message = error.get("message")
            code = error.get("code") or error.get("type")
            said = self._scrub(message.strip()) if isinstance(message, str) else None
            return said or None, self._scrub(code) if isinstance(code, str) else None, said
        if isinstance(error, str) and error.strip():
            said = self._scrub(error.strip())
            return said, None, said
        return None, None, self._snippet(response.text)

    def _json_body(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise UnexpectedResponse(
                "FoxAPI sent an answer the studio could not read.",
                status=response.status_code,
                detail=self._snippet(response.text),
            ) from None

    def _uploaded_file(self, data: Any, filename: str) -> UploadedFile:
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise UnexpectedResponse("FoxAPI accepted the upload but did not say which file it is.")
        try:
            url = check_image_url(data["url"] if isinstance(data.get("url"), str) else "")
        except ValueError:
            raise UnexpectedResponse(
                "FoxAPI accepted the upload but sent no usable link to it."
            ) from None
        return UploadedFile(
            id=data["id"],
            url=url,
            filename=data["filename"] if isinstance(data.get("filename"), str) else filename,
            size=_integer(data.get("size")),
            created=_integer(data.get("created")),
        )

    def _scrub(self, text: str) -> str:
        # FoxAPI (or a proxy in front of it) might echo the key back; it must go no further.
        return text.replace(self._api_key, "[API key]") if self._api_key else text

    def _snippet(self, text: str) -> str | None:
        compact = " ".join(text.split())
        return self._scrub(compact[:_SNIPPET_CHARS]) or None

    def _retry_policy(
        self, attempts: int, should_retry: Callable[[BaseException], bool]
    ) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(attempts),
            wait=self._wait_before_retry,
            retry=retry_if_exception(should_retry),
            sleep=self._sleep,
            before_sleep=_log_retry,
            reraise=True,
        )

    def _wait_before_retry(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return min(error.retry_after, self._max_retry_wait)
        return self._backoff(state)


def _is_retryable(error: BaseException) -> bool:
    return isinstance(error, FoxAPIError) and error.retryable


def _never_reached_work(error: BaseException) -> bool:
    # Only these two prove FoxAPI began no work: the request never arrived, or it was
    # refused up front. A timeout or a 5xx may hide a task that is already billed.
    return isinstance(error, ConnectionFailed | RateLimited)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    message = error.message if isinstance(error, FoxAPIError) else type(error).__name__
    logger.warning("%s Retrying in %.1f s (attempt %d).", message, wait, state.attempt_number + 1)


def _integer(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
