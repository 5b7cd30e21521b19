"""The emulator's HTTP face: FoxAPI's routes, a CDN for results and uploads, and a control plane.

It follows ../shared/foxapi.md: the strict generation schema, both task shapes, the
`completed`-without-results quirk, and FoxAPI's error bodies. Faults (429, 502, failed
tasks, 402, 401) are switched on through `EmulatorConfig`, which is read live.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import io
import ipaddress
import json
import mimetypes
import random
import re
import string
import threading
import time
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
from PIL import Image
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from studio.emulator import drawing
from studio.emulator.config import EmulatorConfig, LoggedRequest
from studio.emulator.store import EmulatorStore, TaskRecord, UploadRecord
from studio.request import MAX_INPUT_IMAGES, MAX_OUTPUTS, MODEL, OUTPUT_FORMATS, RATIO_PIXELS

GENERATION_FIELDS = (
    "model",
    "prompt",
    "num_outputs",
    "aspect_ratio",
    "output_format",
    "image_urls",
)
UPLOAD_JSON_FIELDS = {
    "base64": ("file_data", "file_name", "auto_cleanup"),
    "url": ("url", "file_name", "auto_cleanup"),
}
POLICY_REFUSAL = "The prompt was refused by the content policy."
CREDITS_PER_IMAGE = 1
PENDING_SHARE = 0.1
RESULT_PATH = re.compile(r"/cdn/results/(?P<task>[^/]+)/(?P<index>\d+)\.(?P<ext>[a-z]+)")
UPLOAD_PATH = re.compile(r"/cdn/uploads/(?P<file>[^/]+)/(?P<name>[^/]+)")
# Header names that may carry a secret: the log keeps that they were sent, not what they said.
SECRET_HEADER_WORDS = ("auth", "key", "token", "cookie", "secret")
LOGGED_TEXT_CHARS = 2000
# A demo backend runs for days: past this many entries the oldest tenth is dropped.
MAX_LOG_ENTRIES = 20_000
ID_ALPHABET = string.ascii_lowercase + string.digits
TOO_LARGE_PAGE = (
    "<html><head><title>413 Request Entity Too Large</title></head><body>"
    "<center><h1>413 Request Entity Too Large</h1></center></body></html>"
)


class ApiError(Exception):
    """An answer in FoxAPI's error shape: `{"error": {"message", "type", "code"?}}`."""

    def __init__(
        self,
        status: int,
        message: str,
        error_type: str,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.code = code
        self.headers = headers

    def response(self) -> JSONResponse:
        return error_response(self.status, self.message, self.error_type, self.code, self.headers)


def error_response(
    status: int,
    message: str,
    error_type: str,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    error: dict[str, str] = {"message": message, "type": error_type}
    if code is not None:
        error["code"] = code
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def invalid(field: str, message: str, code: str = "invalid_parameter") -> ApiError:
    return ApiError(422, f"{field}: {message}", "invalid_request_error", code)


@dataclass(frozen=True)
class GenerationSpec:
    prompt: str
    num_outputs: int
    aspect_ratio: str | None
    output_format: str | None
    image_urls: tuple[str, ...]


def validate_generation(body: Any) -> GenerationSpec:
    """Check a generation body the way FoxAPI does; raise a 422 ApiError naming the field."""
    if not isinstance(body, dict):
        raise ApiError(422, "The request body must be a JSON object.", "invalid_request_error")
    unknown = [name for name in body if name not in GENERATION_FIELDS]
    if unknown:
        raise ApiError(
            422,
            f"Unsupported field(s): {', '.join(unknown)}. This model accepts only "
            f"{', '.join(GENERATION_FIELDS)}.",
            "invalid_request_error",
            "unsupported_advanced_options",
        )
    if "model" not in body:
        raise invalid("model", "is required.")
    if body["model"] != MODEL:
        raise invalid("model", f"unknown model {body['model']!r}; use {MODEL}.", "model_not_found")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise invalid("prompt", "is required and must be a non-empty string.")
    num_outputs = body.get("num_outputs", 1)
    if isinstance(num_outputs, bool) or not isinstance(num_outputs, int):
        raise invalid("num_outputs", f"must be an integer from 1 to {MAX_OUTPUTS}.")
    if not 1 <= num_outputs <= MAX_OUTPUTS:
        raise invalid("num_outputs", f"must be from 1 to {MAX_OUTPUTS}, not {num_outputs}.")
    aspect_ratio = body.get("aspect_ratio")
    if aspect_ratio is not None and aspect_ratio not in RATIO_PIXELS:
        raise invalid(
            "aspect_ratio",
            f"{aspect_ratio!r} is not supported; use one of {', '.join(RATIO_PIXELS)}.",
        )
    output_format = body.get("output_format")
    if output_format is not None and output_format not in OUTPUT_FORMATS:
        raise invalid(
            "output_format",
            f"{output_format!r} is not supported; use one of {', '.join(OUTPUT_FORMATS)}.",
        )
    image_urls = _check_image_urls(body.get("image_urls"))
    if image_urls and aspect_ratio is not None:
        raise invalid("aspect_ratio", "applies to text-to-image only; leave it out when editing.")
    return GenerationSpec(prompt, num_outputs, aspect_ratio, output_format, image_urls)


def _check_image_urls(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(url, str) for url in value):
        raise invalid("image_urls", "must be an array of URL strings.")
    if len(value) > MAX_INPUT_IMAGES:
        raise invalid("image_urls", f"takes at most {MAX_INPUT_IMAGES} URLs, not {len(value)}.")
    for url in value:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise invalid("image_urls", "each entry must be an absolute http(s) URL.")
    return tuple(value)


def task_payload(
    task: TaskRecord, *, now: float, config: EmulatorConfig, base_url: str
) -> dict[str, Any]:
    """The task as FoxAPI reports it at `now`, in the shape `config.legacy_shape` selects."""
    elapsed = now - task.created_at
    results: list[str] | None = None
    error: dict[str, str] | None = None
    if elapsed < task.duration * PENDING_SHARE:
        status, progress = "pending", 0
    elif elapsed < task.duration:
        status, progress = "processing", min(99, max(1, int(100 * elapsed / task.duration)))
    elif task.failure_message is not None:
        status, progress = "failed", 100
        error = {"code": "generation_failed", "message": task.failure_message}
    elif elapsed < task.duration + config.quirk_seconds:
        # FoxAPI's observed quirk: `completed` before the URLs are attached.
        status, progress = "completed", 99
    else:
        status, progress = "completed", 100
        results = [result_url(base_url, task, index) for index in range(task.num_outputs)]
    payload: dict[str, Any] = {
        "created": task.created,
        "id": task.id,
        "model": MODEL,
        "object": "image.generation.task",
        "progress": progress,
        "status": status,
        "task_info": {
            "can_cancel": status in ("pending", "processing"),
            "estimated_time": _seconds(task.estimated_time),
        },
        "type": "image",
    }
    if config.legacy_shape:
        payload["output"] = (
            None
            if results is None
            else {"url": results[0], "urls": results, "width": task.width, "height": task.height}
        )
        payload["error"] = error
    else:
        payload["results"] = None if results is None else [{"url": url} for url in results]
        payload["error"] = None if error is None else {**error, "type": "task_error"}
        payload["usage"] = {
            "credits_reserved": task.num_outputs * CREDITS_PER_IMAGE,
            "user_group": "default",
        }
    return payload


def result_extension(task: TaskRecord) -> str:
    return task.output_format or drawing.DEFAULT_FORMAT


def result_url(base_url: str, task: TaskRecord, index: int) -> str:
    return f"{base_url}/cdn/results/{task.id}/{index}.{result_extension(task)}"


def is_loopback_host(host: str | None) -> bool:
    """Whether `host` names this machine, judged from the name alone (no DNS lookup)."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _seconds(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


class Emulator:
    """The state behind the routes: knobs, records, the request log, and the seeded dice."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = EmulatorStore(config.state_dir)
        self.log: list[LoggedRequest] = []
        self.random = random.Random(config.seed)
        # Striped locks so two requests for one picture draw it once, not twice.
        self._draw_locks = [threading.Lock() for _ in range(16)]

    # -- FoxAPI routes -------------------------------------------------------------------

    async def submit(self, request: Request) -> Response:
        self._require_key(request)
        config = self.config
        if config.rate_limit_next_submits > 0 or self._roll(config.rate_limit_rate):
            config.rate_limit_next_submits = max(0, config.rate_limit_next_submits - 1)
            raise ApiError(
                429,
                "Rate limit reached: too many requests. Wait a moment and try again.",
                "rate_limit_error",
                "rate_limit_exceeded",
                headers={"Retry-After": "1"},
            )
        spec = validate_generation(await self._json_body(request))
        if config.balance is not None and spec.num_outputs > config.balance:
            raise ApiError(
                402,
                "Insufficient balance: top up your account to generate more images.",
                "insufficient_quota",
                "insufficient_quota",
            )
        if config.balance is not None:
            # Billed now, before any await, so concurrent submits cannot overdraw.
            config.balance -= spec.num_outputs
        size = drawing.result_size(spec.aspect_ratio)
        input_file_id: str | None = None
        failure: str | None = None
        if spec.image_urls:
            try:
                input_file_id, size = await self._resolve_edit_input(spec.image_urls, request)
            except InputUnavailable as problem:
                failure = f"The input image could not be used: {problem}"
        if failure is None and (config.fail_next_tasks > 0 or self._roll(config.failure_rate)):
            config.fail_next_tasks = max(0, config.fail_next_tasks - 1)
            failure = POLICY_REFUSAL
        now = time.time()
        task = TaskRecord(
            id=self._new_task_id(now),
            created_at=now,
            duration=self._next_duration(),
            estimated_time=config.estimated_time,
            prompt=spec.prompt,
            num_outputs=spec.num_outputs,
            output_format=spec.output_format,
            width=size[0],
            height=size[1],
            image_urls=spec.image_urls,
            input_file_id=input_file_id,
            failure_message=failure,
        )
        self.store.add_task(task)
        return JSONResponse(
            {
                "created": task.created,
                "id": task.id,
                "model": MODEL,
                "object": "image.generation.task",
                "progress": 0,
                "status": "pending",
                "task_info": {"can_cancel": True, "estimated_time": _seconds(task.estimated_time)},
                "type": "image",
            }
        )

    async def get_task(self, request: Request) -> Response:
        self._require_key(request)
        config = self.config
        if config.server_error_next_polls > 0 or self._roll(config.server_error_rate):
            config.server_error_next_polls = max(0, config.server_error_next_polls - 1)
            raise ApiError(
                502, "Bad gateway: the upstream did not answer.", "upstream_error", "bad_gateway"
            )
        task_id = request.path_params["task_id"]
        task = self.store.get_task(task_id)
        if task is None:
            raise ApiError(
                404, f"Task {task_id} was not found.", "invalid_request_error", "not_found"
            )
        return JSONResponse(
            task_payload(task, now=time.time(), config=config, base_url=_base_url(request))
        )

    async def upload_stream(self, request: Request) -> Response:
        self._require_key(request)
        form = await request.form()
        _log_form(request, form)
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise invalid("file", "is required (a multipart file part).")
        data = await file.read()
        name = form.get("file_name")
        file_name = name if isinstance(name, str) and name else file.filename
        auto_cleanup = _parse_flag(form.get("auto_cleanup"))
        return self._store_upload(request, data, file_name, auto_cleanup)

    async def upload_base64(self, request: Request) -> Response:
        self._require_key(request)
        body = _check_upload_json(await self._json_body(request), "base64")
        encoded = body.get("file_data")
        if not isinstance(encoded, str) or not encoded:
            raise invalid("file_data", "is required: the file's bytes as base64.")
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise invalid("file_data", "is not valid base64.") from None
        auto_cleanup = _parse_flag(body.get("auto_cleanup"))
        return self._store_upload(request, data, _optional_name(body), auto_cleanup)

    async def upload_url(self, request: Request) -> Response:
        self._require_key(request)
        body = _check_upload_json(await self._json_body(request), "url")
        url = body.get("url")
        if not isinstance(url, str) or not url:
            raise invalid("url", "is required.")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not is_loopback_host(parts.hostname):
            raise invalid("url", "the local emulator only fetches URLs on this machine (loopback).")
        try:
            data = await self._read_url(url)
        except InputUnavailable as problem:
            raise invalid("url", f"could not be fetched: {problem}") from None
        auto_cleanup = _parse_flag(body.get("auto_cleanup"))
        file_name = _optional_name(body) or PurePosixPath(parts.path).name
        return self._store_upload(request, data, file_name, auto_cleanup)

    # -- CDN -----------------------------------------------------------------------------

    async def result_file(self, request: Request) -> Response:
        match = RESULT_PATH.fullmatch(request.url.path)
        task = self.store.get_task(match["task"]) if match else None
        if match is None or task is None:
            raise _cdn_missing()
        index = int(match["index"])
        now = time.time()
        if (
            now < task.finished_at
            or task.failure_message is not None
            or index >= task.num_outputs
            or match["ext"] != result_extension(task)
        ):
            raise _cdn_missing()
        if now - task.finished_at > self.config.result_ttl:
            raise ApiError(
                404,
                "This result has expired: result links live for 24 hours.",
                "invalid_request_error",
                "expired",
            )
        data = await run_in_threadpool(self.render_result, task, index)
        return Response(data, media_type=drawing.MEDIA_TYPES[match["ext"]])

    async def upload_file(self, request: Request) -> Response:
        found = self.store.get_upload(request.path_params["file_id"])
        if found is None or found[0].filename != request.path_params["filename"]:
            raise _cdn_missing()
        upload, data = found
        return Response(data, media_type=upload.content_type)

    def render_result(self, task: TaskRecord, index: int) -> bytes:
        """The result's bytes: drawn on first request, then served from the cache."""
        name = f"{index}.{result_extension(task)}"
        cached = self.store.cached_result(task.id, name)
        if cached is not None:
            return cached
        with self._draw_locks[hash((task.id, index)) % len(self._draw_locks)]:
            cached = self.store.cached_result(task.id, name)
            if cached is not None:
                return cached
            size = (task.width, task.height)
            if task.input_file_id is not None:
                found = self.store.get_upload(task.input_file_id)
                if found is None:
                    raise _cdn_missing()
                source = drawing.open_source(found[1], size)
                image = drawing.draw_edit(source, task.prompt, index, size, salt=task.id)
            else:
                image = drawing.draw_generated(task.prompt, index, size, salt=task.id)
            data = drawing.encode(image, task.output_format)
            self.store.cache_result(task.id, name, data)
            return data

    # -- control plane -------------------------------------------------------------------

    async def read_log(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.log.clear()
            return JSONResponse([])
        return JSONResponse([entry.as_json() for entry in list(self.log)])

    async def config_view(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                self.config.apply_patch(await self._json_body(request))
            except ValueError as problem:
                raise ApiError(422, str(problem), "invalid_request_error") from None
        return JSONResponse(self.config.public_view())

    # -- helpers -------------------------------------------------------------------------

    def _require_key(self, request: Request) -> None:
        expected = self.config.api_key
        if expected is None:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise ApiError(
                401,
                "Missing API key: send it as 'Authorization: Bearer <key>'.",
                "authentication_error",
                "invalid_api_key",
            )
        if not hmac.compare_digest(given.strip().encode(), expected.encode()):
            raise ApiError(
                401, "Invalid API key provided.", "authentication_error", "invalid_api_key"
            )

    async def _json_body(self, request: Request) -> Any:
        if "json" not in request.headers.get("content-type", ""):
            raise ApiError(
                400,
                "Send the request body as JSON (Content-Type: application/json).",
                "invalid_request_error",
                "invalid_content_type",
            )
        try:
            return json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise ApiError(
                400, "The request body is not valid JSON.", "invalid_request_error", "invalid_json"
            ) from None

    def _roll(self, probability: float) -> bool:
        return probability > 0 and self.random.random() < probability

    def _next_duration(self) -> float:
        """The next planned duration if a plan is set, else one drawn from the spread."""
        config = self.config
        if config.duration_plan:
            return config.duration_plan.pop(0)
        spread = min(max(config.duration_spread, 0.0), 1.0)
        return config.estimated_time * self.random.uniform(1 - spread, 1 + spread)

    def _new_task_id(self, now: float) -> str:
        while True:
            suffix = "".join(self.random.choices(ID_ALPHABET, k=8))
            task_id = f"task-unified-{int(now)}-{suffix}"
            if not self.store.has_task(task_id):
                return task_id

    def _new_file_id(self) -> str:
        while True:
            file_id = "file-" + "".join(self.random.choices(ID_ALPHABET, k=16))
            if self.store.get_upload(file_id) is None:
                return file_id

    def _store_upload(
        self, request: Request, data: bytes, file_name: str | None, auto_cleanup: bool
    ) -> Response:
        if not auto_cleanup and self.config.upload_store_full:
            raise ApiError(
                403,
                "Your file store is full: delete files, or upload with auto_cleanup.",
                "permission_error",
                "storage_full",
            )
        upload = self._keep(data, file_name)
        return JSONResponse(
            {
                "id": upload.id,
                "filename": upload.filename,
                "url": _upload_url(_base_url(request), upload),
                "size": upload.size,
                "created": upload.created,
            }
        )

    def _keep(self, data: bytes, file_name: str | None, *, internal: bool = False) -> UploadRecord:
        filename = _safe_filename(file_name, data)
        upload = UploadRecord(
            id=self._new_file_id(),
            filename=filename,
            size=len(data),
            created=int(time.time()),
            content_type=_content_type(filename, data),
            internal=internal,
        )
        self.store.add_upload(upload, data)
        return upload

    async def _resolve_edit_input(
        self, image_urls: tuple[str, ...], request: Request
    ) -> tuple[str, tuple[int, int]]:
        """Fetch the first input like the service would; return its upload id and result size."""
        for url in image_urls:
            if not self._reachable(url, request):
                raise InputUnavailable(
                    "the local emulator only reads images uploaded to it or served from "
                    "this machine. Upload the file first."
                )
        first = image_urls[0]
        own = self._own_upload(first)
        data = own[1] if own is not None else await self._read_url(first)
        try:
            width, height = await run_in_threadpool(_image_size, data)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            raise InputUnavailable("it is not an image this service can read.") from None
        if own is not None:
            file_id = own[0]
        else:
            file_id = self._keep(data, PurePosixPath(urlsplit(first).path).name, internal=True).id
        return file_id, drawing.nearest_ratio_size(width, height)

    def _reachable(self, url: str, request: Request) -> bool:
        parts = urlsplit(url)
        return is_loopback_host(parts.hostname) or parts.netloc == request.url.netloc

    def _own_upload(self, url: str) -> tuple[str, bytes] | None:
        """(id, bytes) when `url` names one of this emulator's uploads, on whatever port."""
        match = UPLOAD_PATH.fullmatch(urlsplit(url).path)
        found = self.store.get_upload(match["file"]) if match else None
        return None if found is None else (found[0].id, found[1])

    def _own_result(self, url: str) -> tuple[TaskRecord, int] | None:
        """(task, index) when `url` names one of this emulator's finished results."""
        match = RESULT_PATH.fullmatch(urlsplit(url).path)
        task = self.store.get_task(match["task"]) if match else None
        if match is None or task is None:
            return None
        index = int(match["index"])
        servable = (
            task.failure_message is None
            and time.time() >= task.finished_at
            and index < task.num_outputs
            and match["ext"] == result_extension(task)
        )
        return (task, index) if servable else None

    async def _read_url(self, url: str) -> bytes:
        """Bytes behind a loopback URL; this emulator's own CDN paths are read directly."""
        own_upload = self._own_upload(url)
        if own_upload is not None:
            return own_upload[1]
        own_result = self._own_result(url)
        if own_result is not None:
            return await run_in_threadpool(self.render_result, *own_result)
        return await self._fetch_loopback(url)

    async def _fetch_loopback(self, url: str) -> bytes:
        if not is_loopback_host(urlsplit(url).hostname):
            raise InputUnavailable("the local emulator only fetches URLs on this machine.")
        limit = self.config.max_upload_bytes
        try:
            async with (
                httpx.AsyncClient(trust_env=False, follow_redirects=False, timeout=10) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code != 200:
                    raise InputUnavailable(f"it answered HTTP {response.status_code}.")
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > limit:
                        raise InputUnavailable("it is larger than the upload limit.")
                return bytes(data)
        except httpx.HTTPError as problem:
            raise InputUnavailable(f"the request failed ({type(problem).__name__}).") from None


class InputUnavailable(Exception):
    """An input image the emulator cannot get; the message says why, for a person."""


def _image_size(data: bytes) -> tuple[int, int]:
    """The image's size, after decoding it (at reduced scale where the format allows)."""
    with Image.open(io.BytesIO(data)) as image:
        size = image.size
        image.draft("RGB", (max(1, size[0] // 8), max(1, size[1] // 8)))
        image.load()
    return size


def _base_url(request: Request) -> str:
    # The host the request came in on, so a restarted emulator on a new port hands out
    # URLs that work.
    return str(request.base_url).rstrip("/")


def _upload_url(base_url: str, upload: UploadRecord) -> str:
    return f"{base_url}/cdn/uploads/{upload.id}/{quote(upload.filename)}"


def _cdn_missing() -> ApiError:
    return ApiError(404, "No file at this address.", "invalid_request_error", "not_found")


def _check_upload_json(body: Any, kind: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(422, "The request body must be a JSON object.", "invalid_request_error")
    allowed = UPLOAD_JSON_FIELDS[kind]
    unknown = [name for name in body if name not in allowed]
    if unknown:
        raise ApiError(
            422,
            f"Unsupported field(s): {', '.join(unknown)}. Send only {', '.join(allowed)}.",
            "invalid_request_error",
            "unsupported_advanced_options",
        )
    return body


def _optional_name(body: dict[str, Any]) -> str | None:
    name = body.get("file_name")
    if name is not None and not isinstance(name, str):
        raise invalid("file_name", "must be a string.")
    return name or None


def _parse_flag(value: Any) -> bool:
    """`auto_cleanup` as JSON true/false or a form field; absent means true."""
    if value is None or isinstance(value, bool):
        return value is not False
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no"):
        return False
    raise invalid("auto_cleanup", "must be true or false.")


def _safe_filename(file_name: str | None, data: bytes) -> str:
    base = PurePosixPath((file_name or "").replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._")[:100]
    if cleaned:
        return cleaned
    return "upload" + _sniffed_extension(data)


def _sniffed_extension(data: bytes) -> str:
    signatures = {b"\x89PNG": ".png", b"\xff\xd8\xff": ".jpg", b"GIF8": ".gif"}
    for signature, extension in signatures.items():
        if data.startswith(signature):
            return extension
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return ".bin"


def _content_type(filename: str, data: bytes) -> str:
    guessed, _ = mimetypes.guess_type(filename)
    if guessed is None:
        guessed, _ = mimetypes.guess_type("file" + _sniffed_extension(data))
    return guessed or "application/octet-stream"


def _log_form(request: Request, form: Any) -> None:
    entry = request.scope.get("emulator.log_entry")
    if entry is None:
        return
    fields: dict[str, Any] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            fields[name] = {
                "filename": value.filename,
                "size": value.size,
                "content_type": value.content_type,
            }
        else:
            fields[name] = value
    entry.body = fields


class RequestLog:
    """ASGI middleware: log every request, and refuse oversized bodies like FoxAPI's edge."""

    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        entry: LoggedRequest | None = None
        if not scope["path"].startswith("/_emulator/"):
            entry = self._entry(scope, headers)
            log = self.emulator.log
            log.append(entry)
            if len(log) > MAX_LOG_ENTRIES:
                del log[: MAX_LOG_ENTRIES // 10]
        limit = self.emulator.config.max_upload_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, receive, send, entry)
            return
        body = bytearray()
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more_body = message.get("more_body", False)
            if len(body) > limit:
                await self._too_large(scope, receive, send, entry)
                return
        if entry is not None:
            entry.body = self._loggable_body(headers.get("content-type", ""), bytes(body))
            scope["emulator.log_entry"] = entry
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        async def record_status(message: Message) -> None:
            if entry is not None and message["type"] == "http.response.start":
                entry.status = message["status"]
            await send(message)

        try:
            await self.app(scope, replay, record_status)
        except Exception:
            if entry is not None:
                entry.status = 500
            raise

    def _entry(self, scope: Scope, headers: Headers) -> LoggedRequest:
        query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
        kept = {
            name: "[redacted]" if any(word in name for word in SECRET_HEADER_WORDS) else value
            for name, value in headers.items()
            if name != "authorization"
        }
        return LoggedRequest(
            method=scope["method"],
            path=scope["path"],
            query={name: self._scrub(value) for name, value in query.items()},
            headers={name: self._scrub(value) for name, value in kept.items()},
            has_authorization="authorization" in headers,
        )

    def _loggable_body(self, content_type: str, body: bytes) -> Any:
        if not body or "multipart/form-data" in content_type:
            return None
        if "json" in content_type:
            try:
                parsed = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                parsed = None
            if isinstance(parsed, dict):
                if isinstance(parsed.get("file_data"), str):
                    # The bytes themselves are in the upload store; the log keeps their length.
                    parsed["file_data"] = f"<{len(parsed['file_data'])} base64 characters>"
                return json.loads(self._scrub(json.dumps(parsed)))
            if parsed is not None:
                return json.loads(self._scrub(json.dumps(parsed)))
        return self._scrub(body[:LOGGED_TEXT_CHARS].decode("utf-8", "replace"))

    def _scrub(self, text: str) -> str:
        key = self.emulator.config.api_key
        return text.replace(key, "[redacted]") if key else text

    async def _too_large(
        self, scope: Scope, receive: Receive, send: Send, entry: LoggedRequest | None
    ) -> None:
        if entry is not None:
            entry.status = 413
        await HTMLResponse(TOO_LARGE_PAGE, status_code=413)(scope, receive, send)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(404, "No such route.", "invalid_request_error", "not_found")
    # Starlette's own refusals, for example a malformed multipart body (400) or a wrong method.
    return error_response(exc.status_code, str(exc.detail), "invalid_request_error")


def create_app(config: EmulatorConfig) -> Starlette:
    """The emulator as an ASGI app. `app.state.emulator` holds its log, store and knobs."""
    emulator = Emulator(config)
    routes = [
        Route("/v1/images/generations", emulator.submit, methods=["POST"]),
        Route("/v1/tasks/{task_id}", emulator.get_task, methods=["GET"]),
        Route("/v1/files/upload/stream", emulator.upload_stream, methods=["POST"]),
        Route("/v1/files/upload/base64", emulator.upload_base64, methods=["POST"]),
        Route("/v1/files/upload/url", emulator.upload_url, methods=["POST"]),
        Route("/cdn/results/{task_id}/{name}", emulator.result_file, methods=["GET"]),
        Route("/cdn/uploads/{file_id}/{filename}", emulator.upload_file, methods=["GET"]),
        Route("/_emulator/log", emulator.read_log, methods=["GET", "DELETE"]),
        Route("/_emulator/config", emulator.config_view, methods=["GET", "POST"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(RequestLog, emulator=emulator)],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
    )
    app.state.emulator = emulator
    return app
