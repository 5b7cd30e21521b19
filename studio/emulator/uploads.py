"""FoxAPI's three upload routes, and the input images of an edit.

The emulator fetches nothing from the network: an upload by URL and an edit's input can
only name this emulator's own files (read from its store, see `cdn.own_file`). Any
other address is never contacted, so its answer, or its silence, cannot show through.
An edit whose inputs are all elsewhere is drawn from a neutral "input image" panel.
"""

from __future__ import annotations

import base64
import binascii
import io
import mimetypes
import re
import time
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from PIL import Image
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from studio.emulator import drawing
from studio.emulator.cdn import OwnFile, own_file, upload_url
from studio.emulator.contract import ApiError, check_upload_json, invalid
from studio.emulator.faults import require_key
from studio.emulator.state import Emulator, base_url, emulator_of, read_json
from studio.emulator.store import UploadRecord

NOT_OWN_URL = (
    "the local emulator copies only its own uploads and results and fetches nothing else; "
    "upload the file itself instead."
)


async def stream_route(request: Request) -> Response:
    emulator = emulator_of(request)
    require_key(emulator, request)
    form = await request.form()
    _log_form(request, form)
    file = form.get("file")
    if not isinstance(file, UploadFile):
        raise invalid("file", "is required (a multipart file part).")
    data = await file.read()
    name = form.get("file_name")
    file_name = name if isinstance(name, str) and name else file.filename
    auto_cleanup = _parse_flag(form.get("auto_cleanup"))
    return _store_upload(emulator, request, data, file_name, auto_cleanup)


async def base64_route(request: Request) -> Response:
    emulator = emulator_of(request)
    require_key(emulator, request)
    body = check_upload_json(await read_json(request), "base64")
    encoded = body.get("file_data")
    if not isinstance(encoded, str) or not encoded:
        raise invalid("file_data", "is required: the file's bytes as base64.")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("file_data", "is not valid base64.") from None
    auto_cleanup = _parse_flag(body.get("auto_cleanup"))
    return _store_upload(emulator, request, data, _optional_name(body), auto_cleanup)


async def url_route(request: Request) -> Response:
    emulator = emulator_of(request)
    require_key(emulator, request)
    body = check_upload_json(await read_json(request), "url")
    url = body.get("url")
    if not isinstance(url, str) or not url:
        raise invalid("url", "is required.")
    found = await run_in_threadpool(own_file, emulator, url, request)
    if found is None:
        raise invalid("url", NOT_OWN_URL)
    auto_cleanup = _parse_flag(body.get("auto_cleanup"))
    file_name = _optional_name(body) or found.name
    return _store_upload(emulator, request, found.data, file_name, auto_cleanup)


@dataclass(frozen=True)
class EditInput:
    """What an edit is drawn from: one of this emulator's uploads, or none (a placeholder)."""

    upload_id: str | None
    size: tuple[int, int]


class InputUnusable(Exception):
    """An input that is this emulator's own file but not an image it can read."""


async def edit_input(
    emulator: Emulator, image_urls: tuple[str, ...], request: Request
) -> EditInput:
    """The first input that is this emulator's own file, and the result size it gives.

    Inputs elsewhere are not fetched; with none of its own the edit gets the placeholder
    panel at the default size, whatever those addresses would have answered.
    """
    for url in image_urls:
        found = await run_in_threadpool(own_file, emulator, url, request)
        if found is not None:
            return await _own_edit_input(emulator, found)
    return EditInput(None, drawing.result_size(None))


async def _own_edit_input(emulator: Emulator, found: OwnFile) -> EditInput:
    try:
        width, height = await run_in_threadpool(_image_size, found.data)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise InputUnusable("it is not an image this service can read.") from None
    # A result named as an input is kept like an upload, so the edit outlives its link.
    upload_id = found.upload_id or _keep(emulator, found.data, found.name, internal=True).id
    return EditInput(upload_id, drawing.nearest_ratio_size(width, height))


def _image_size(data: bytes) -> tuple[int, int]:
    """The image's size, after decoding it (at reduced scale where the format allows)."""
    with Image.open(io.BytesIO(data)) as image:
        size = image.size
        image.draft("RGB", (max(1, size[0] // 8), max(1, size[1] // 8)))
        image.load()
    return size


def _store_upload(
    emulator: Emulator, request: Request, data: bytes, file_name: str | None, auto_cleanup: bool
) -> Response:
    if not auto_cleanup and emulator.config.upload_store_full:
        raise ApiError(
            403,
            "Your file store is full: delete files, or upload with auto_cleanup.",
            "permission_error",
            "storage_full",
        )
    upload = _keep(emulator, data, file_name)
    return JSONResponse(
        {
            "id": upload.id,
            "filename": upload.filename,
            "url": upload_url(base_url(request), upload),
            "size": upload.size,
            "created": upload.created,
        }
    )


def _keep(
    emulator: Emulator, data: bytes, file_name: str | None, *, internal: bool = False
) -> UploadRecord:
    filename = _safe_filename(file_name, data)
    upload = UploadRecord(
        id=_new_file_id(emulator),
        filename=filename,
        size=len(data),
        created=int(time.time()),
        content_type=_content_type(filename, data),
        internal=internal,
    )
    emulator.store.add_upload(upload, data)
    return upload


def _new_file_id(emulator: Emulator) -> str:
    while True:
        file_id = "file-" + emulator.random_suffix(16)
        if emulator.store.get_upload(file_id) is None:
            return file_id


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
    """Put a multipart upload's fields in its log entry: each file by name and size only."""
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
