"""What every route shares: the emulator's knobs, records, request log and seeded dice."""

from __future__ import annotations

import json
import random
import string
import threading
from typing import Any

from starlette.requests import Request

from studio.emulator.config import EmulatorConfig, LoggedRequest
from studio.emulator.contract import ApiError
from studio.emulator.store import EmulatorStore

ID_ALPHABET = string.ascii_lowercase + string.digits
DRAW_LOCK_STRIPES = 16


class Emulator:
    """The state behind the routes. `app.state.emulator` holds the one a running app uses."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = EmulatorStore(config.state_dir)
        self.log: list[LoggedRequest] = []
        self.random = random.Random(config.seed)
        # Striped locks so two requests for one picture draw it once, not twice.
        self._draw_locks = [threading.Lock() for _ in range(DRAW_LOCK_STRIPES)]

    def roll(self, probability: float) -> bool:
        """True with `probability`, from the seeded dice."""
        return probability > 0 and self.random.random() < probability

    def random_suffix(self, length: int) -> str:
        return "".join(self.random.choices(ID_ALPHABET, k=length))

    def draw_lock(self, key: object) -> threading.Lock:
        return self._draw_locks[hash(key) % DRAW_LOCK_STRIPES]


def emulator_of(request: Request) -> Emulator:
    emulator = request.app.state.emulator
    assert isinstance(emulator, Emulator)
    return emulator


def base_url(request: Request) -> str:
    # The host the request came in on, so a restarted emulator on a new port hands out
    # URLs that work.
    return str(request.base_url).rstrip("/")


async def read_json(request: Request) -> Any:
    """The body as JSON, or FoxAPI's 400 for a wrong content type or malformed JSON."""
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
