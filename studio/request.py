"""The generation request: validated once, then turned into FoxAPI's exact JSON body."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from studio.formats import OUTPUT_FORMATS
from studio.settings import DEFAULTS

MODEL = "grok-imagine-image"
MAX_OUTPUTS = 4
MAX_INPUT_IMAGES = 3

# Pixel size FoxAPI reports for each ratio, widest first.
RATIO_PIXELS: dict[str, tuple[int, int]] = {
    "2:1": (1408, 704),
    "20:9": (1280, 576),
    "19.5:9": (1248, 576),
    "16:9": (1408, 768),
    "3:2": (1296, 864),
    "4:3": (1280, 896),
    "1:1": (1024, 1024),
    "3:4": (896, 1280),
    "2:3": (864, 1296),
    "9:16": (768, 1408),
    "9:19.5": (576, 1248),
    "9:20": (576, 1280),
    "1:2": (704, 1408),
}
ASPECT_RATIOS: tuple[str, ...] = tuple(RATIO_PIXELS)
DEFAULT_ASPECT_RATIO = "1:1"


class Mode(StrEnum):
    GENERATE = "generate"
    EDIT = "edit"


class InvalidRequest(ValueError):
    """Input a person typed is not acceptable. `field` names the input, `message` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class GenerationRequest(BaseModel):
    """What the user asked for. Build it with `GenerationRequest.build`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt: str
    num_outputs: int = 1
    aspect_ratio: str | None = None
    output_format: str | None = None
    image_urls: tuple[str, ...] = ()

    @classmethod
    def build(
        cls, *, max_prompt_chars: int = DEFAULTS.studio_max_prompt_chars, **fields: Any
    ) -> GenerationRequest:
        """Validate `fields`; raise InvalidRequest naming the first bad field."""
        try:
            return cls.model_validate(fields, context={"max_prompt_chars": max_prompt_chars})
        except ValidationError as exc:
            error = exc.errors()[0]
            cause = error.get("ctx", {}).get("error")
            if isinstance(cause, InvalidRequest):
                raise cause from None
            field = str(error["loc"][0]) if error["loc"] else "request"
            message = str(cause) if cause is not None else _plain_message(error)
            raise InvalidRequest(field, message) from None

    @field_validator("prompt", mode="before")
    @classmethod
    def _check_prompt(cls, value: Any, info: ValidationInfo) -> str:
        if not isinstance(value, str):
            raise ValueError("Type a prompt describing the image.")
        prompt = value.strip()
        if not prompt:
            raise ValueError("Type a prompt describing the image.")
        limit = (info.context or {}).get("max_prompt_chars", DEFAULTS.studio_max_prompt_chars)
        if len(prompt) > limit:
            raise ValueError(
                f"The prompt is {len(prompt):,} characters long; the limit is {limit:,}. "
                "Shorten it and try again."
            )
        return prompt

    @field_validator("num_outputs", mode="before")
    @classmethod
    def _check_num_outputs(cls, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"Choose between 1 and {MAX_OUTPUTS} images.")
        try:
            count = int(value)
        except ValueError:
            raise ValueError(f"Choose between 1 and {MAX_OUTPUTS} images.") from None
        if not 1 <= count <= MAX_OUTPUTS:
            raise ValueError(f"Choose between 1 and {MAX_OUTPUTS} images (you asked for {count}).")
        return count

    @field_validator("aspect_ratio", mode="before")
    @classmethod
    def _check_aspect_ratio(cls, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if value not in RATIO_PIXELS:
            raise ValueError(
                f"“{value}” is not an aspect ratio FoxAPI offers. "
                f"Choose one of {', '.join(ASPECT_RATIOS)}."
            )
        return str(value)

    @field_validator("output_format", mode="before")
    @classmethod
    def _check_output_format(cls, value: Any) -> str | None:
        if value is None or value == "":
            return None
        normalised = str(value).strip().lower().lstrip(".")
        if normalised not in OUTPUT_FORMATS:
            raise ValueError(f"“{value}” is not a format FoxAPI offers. Choose JPG, PNG or WebP.")
        return normalised

    @field_validator("image_urls", mode="before")
    @classmethod
    def _check_image_urls(cls, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        urls = tuple(str(url).strip() for url in value if str(url).strip())
        if len(urls) > MAX_INPUT_IMAGES:
            raise ValueError(
                f"An edit takes at most {MAX_INPUT_IMAGES} input images; you gave {len(urls)}."
            )
        for url in urls:
            check_image_url(url)
        return urls

    @model_validator(mode="after")
    def _check_mode(self) -> GenerationRequest:
        if self.image_urls and self.aspect_ratio is not None:
            raise InvalidRequest(
                "aspect_ratio",
                "An edit keeps the shape of its input image, so it takes no aspect ratio.",
            )
        return self

    @property
    def mode(self) -> Mode:
        return Mode.EDIT if self.image_urls else Mode.GENERATE

    def with_image_urls(self, urls: tuple[str, ...]) -> GenerationRequest:
        """This request as an edit of `urls`, links already checked where they came from."""
        return self.model_copy(update={"image_urls": urls})

    def body(self) -> dict[str, Any]:
        """FoxAPI's JSON body: the documented fields only, unset options left out."""
        body: dict[str, Any] = {
            "model": MODEL,
            "prompt": self.prompt,
            "num_outputs": self.num_outputs,
        }
        if self.aspect_ratio is not None and self.mode is Mode.GENERATE:
            body["aspect_ratio"] = self.aspect_ratio
        if self.output_format is not None:
            body["output_format"] = self.output_format
        if self.image_urls:
            body["image_urls"] = list(self.image_urls)
        return body

    def to_json(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def from_json(cls, text: str) -> GenerationRequest:
        return cls.model_validate(json.loads(text))


def check_image_url(url: str) -> str:
    """Return `url` if it is an absolute http(s) URL, else raise a plain ValueError."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        shown = url if len(url) <= 80 else url[:77] + "..."
        raise ValueError(
            f"“{shown}” is not a web address FoxAPI can fetch. "
            "Use a full link starting with https:// (or http://)."
        )
    return url


def _plain_message(error: Any) -> str:
    return str(error.get("msg", "This value is not valid.")).removeprefix("Value error, ")
