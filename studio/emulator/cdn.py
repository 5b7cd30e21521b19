"""The emulator's CDN: result pictures and uploaded files, their addresses and their bytes.

Results are drawn on first request and cached. The same lookups let an edit or a URL
upload name one of this emulator's own files: those are read from the store, never over
HTTP (see `own_file_bytes`).
"""

from __future__ import annotations

import ipaddress
import re
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from studio.emulator import captions, drawing
from studio.emulator.contract import DEFAULT_OUTPUT_FORMAT, ApiError, not_found
from studio.emulator.state import Emulator, emulator_of
from studio.emulator.store import TaskRecord, UploadRecord

RESULT_PATH = re.compile(r"/cdn/results/(?P<task>[^/]+)/(?P<index>\d+)\.(?P<ext>[a-z]+)")
UPLOAD_PATH = re.compile(r"/cdn/uploads/(?P<file>[^/]+)/(?P<name>[^/]+)")


def result_extension(task: TaskRecord) -> str:
    return task.output_format or DEFAULT_OUTPUT_FORMAT


def result_url(base_url: str, task: TaskRecord, index: int) -> str:
    return f"{base_url}/cdn/results/{task.id}/{index}.{result_extension(task)}"


def upload_url(base_url: str, upload: UploadRecord) -> str:
    return f"{base_url}/cdn/uploads/{upload.id}/{quote(upload.filename)}"


def file_missing() -> ApiError:
    return not_found("No file at this address.")


async def result_route(request: Request) -> Response:
    emulator = emulator_of(request)
    found = _finished_result(emulator, request.url.path)
    if found is None:
        raise file_missing()
    task, index = found
    if time.time() - task.finished_at > emulator.config.result_ttl:
        raise not_found("This result has expired: result links live for 24 hours.", "expired")
    data = await run_in_threadpool(render_result, emulator, task, index)
    return Response(data, media_type=drawing.MEDIA_TYPES[result_extension(task)])


async def upload_route(request: Request) -> Response:
    found = emulator_of(request).store.get_upload(request.path_params["file_id"])
    if found is None or found[0].filename != request.path_params["filename"]:
        raise file_missing()
    upload, data = found
    return Response(data, media_type=upload.content_type)


def render_result(emulator: Emulator, task: TaskRecord, index: int) -> bytes:
    """The result's bytes: drawn on first request, then served from the cache."""
    store = emulator.store
    name = f"{index}.{result_extension(task)}"
    cached = store.cached_result(task.id, name)
    if cached is not None:
        return cached
    with emulator.draw_lock((task.id, index)):
        cached = store.cached_result(task.id, name)
        if cached is not None:
            return cached
        size = (task.width, task.height)
        if task.input_file_id is not None:
            found = store.get_upload(task.input_file_id)
            if found is None:
                raise file_missing()
            source = drawing.open_source(found[1], size)
            image = drawing.draw_edit(source, task.prompt, index, size, salt=task.id)
        elif task.image_urls:
            # An edit of inputs that are not this emulator's files: they were never fetched.
            source = captions.draw_placeholder(size)
            image = drawing.draw_edit(source, task.prompt, index, size, salt=task.id)
        else:
            image = drawing.draw_generated(task.prompt, index, size, salt=task.id)
        data = drawing.encode(image, task.output_format)
        store.cache_result(task.id, name, data)
        return data


@dataclass(frozen=True)
class OwnFile:
    """Bytes of one of this emulator's files, and the upload that holds them, if one does."""

    data: bytes
    upload_id: str | None
    name: str


def own_file(emulator: Emulator, url: str, request: Request) -> OwnFile | None:
    """This emulator's upload or finished result at `url`, read from the store; else None.

    The only way the emulator reads an address it is given: it never opens a connection,
    so an address elsewhere (another port on this machine, the network) reveals nothing.
    The host must be this machine or the one the request came in on; the port may differ,
    since a restarted emulator keeps its files but may get a new port.
    """
    parts = urlsplit(url)
    if not (_is_loopback_host(parts.hostname) or parts.netloc == request.url.netloc):
        return None
    upload_match = UPLOAD_PATH.fullmatch(parts.path)
    if upload_match is not None:
        found = emulator.store.get_upload(upload_match["file"])
        if found is None:
            return None
        return OwnFile(found[1], found[0].id, found[0].filename)
    result = _finished_result(emulator, parts.path)
    if result is None:
        return None
    task, index = result
    return OwnFile(render_result(emulator, task, index), None, f"{index}.{result_extension(task)}")


def _finished_result(emulator: Emulator, path: str) -> tuple[TaskRecord, int] | None:
    """(task, index) when `path` names a result of a task that finished well; else None."""
    match = RESULT_PATH.fullmatch(path)
    task = emulator.store.get_task(match["task"]) if match else None
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


def _is_loopback_host(host: str | None) -> bool:
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
