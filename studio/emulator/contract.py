"""FoxAPI's contract as the emulator keeps it: its own copy of ../shared/foxapi.md.

Written from that document, never imported from the client: a stand-in that borrowed the
client's tables would agree with every mistake in them. tests/test_emulator_contract.py
compares the two copies, so a drift in either fails a test.

Nothing here knows about HTTP frameworks: routes turn an `ApiError` into a response.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

MODEL = "grok-imagine-image"

# "Image sizes by aspect ratio", in the document's order: square, then each pair.
RATIO_PIXELS: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "4:3": (1280, 896),
    "3:4": (896, 1280),
    "3:2": (1296, 864),
    "2:3": (864, 1296),
    "16:9": (1408, 768),
    "9:16": (768, 1408),
    "2:1": (1408, 704),
    "1:2": (704, 1408),
    "20:9": (1280, 576),
    "9:20": (576, 1280),
    "19.5:9": (1248, 576),
    "9:19.5": (576, 1248),
}
DEFAULT_ASPECT_RATIO = "1:1"
OUTPUT_FORMATS: tuple[str, ...] = ("jpg", "jpeg", "png", "webp")
DEFAULT_OUTPUT_FORMAT = "jpeg"
MAX_OUTPUTS = 4
MAX_INPUT_IMAGES = 3

# The generation schema is strict: any other field is refused.
GENERATION_FIELDS: tuple[str, ...] = (
    "model",
    "prompt",
    "num_outputs",
    "aspect_ratio",
    "output_format",
    "image_urls",
)
UPLOAD_JSON_FIELDS: dict[str, tuple[str, ...]] = {
    "base64": ("file_data", "file_name", "auto_cleanup"),
    "url": ("url", "file_name", "auto_cleanup"),
}
TASK_OBJECT = "image.generation.task"
TASK_ERROR_CODE = "generation_failed"
TASK_ERROR_TYPE = "task_error"


class TaskStatus(StrEnum):
    """The statuses a task moves through: pending -> processing -> completed | failed."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


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

    def body(self) -> dict[str, Any]:
        error: dict[str, str] = {"message": self.message, "type": self.error_type}
        if self.code is not None:
            error["code"] = self.code
        return {"error": error}


def invalid(field: str, message: str, code: str = "invalid_parameter") -> ApiError:
    """422: a field's value is not acceptable; the message starts with the field's name."""
    return ApiError(422, f"{field}: {message}", "invalid_request_error", code)


def not_an_object() -> ApiError:
    return ApiError(422, "The request body must be a JSON object.", "invalid_request_error")


def unsupported_fields(unknown: list[str], allowed: tuple[str, ...]) -> ApiError:
    return ApiError(
        422,
        f"Unsupported field(s): {', '.join(unknown)}. Send only {', '.join(allowed)}.",
        "invalid_request_error",
        "unsupported_advanced_options",
    )


def not_found(message: str, code: str = "not_found") -> ApiError:
    return ApiError(404, message, "invalid_request_error", code)


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
        raise not_an_object()
    unknown = [name for name in body if name not in GENERATION_FIELDS]
    if unknown:
        raise unsupported_fields(unknown, GENERATION_FIELDS)
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


def check_upload_json(body: Any, kind: str) -> dict[str, Any]:
    """A JSON upload body (`kind` is "base64" or "url") with no field beyond the documented."""
    if not isinstance(body, dict):
        raise not_an_object()
    allowed = UPLOAD_JSON_FIELDS[kind]
    unknown = [name for name in body if name not in allowed]
    if unknown:
        raise unsupported_fields(unknown, allowed)
    return body


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
