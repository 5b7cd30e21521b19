"""Faults switched on through the knobs, and the control plane that switches them.

Each fault answers the way FoxAPI does: 401 for a missing or wrong key, 402 past the
balance, 429 with `Retry-After` for a rate limit, 502 for a gateway error, and a task that
ends `failed` for a content-policy refusal. `/_emulator/config` and `/_emulator/log` let
another process read and change the knobs and read the log.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from studio.emulator.contract import ApiError
from studio.emulator.state import Emulator, emulator_of, read_json

POLICY_REFUSAL = "The prompt was refused by the content policy."


def require_key(emulator: Emulator, request: Request) -> None:
    """401 unless the request carries the configured bearer key (any key when none is set)."""
    expected = emulator.config.api_key
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
        raise ApiError(401, "Invalid API key provided.", "authentication_error", "invalid_api_key")


def refuse_if_rate_limited(emulator: Emulator) -> None:
    config = emulator.config
    if config.rate_limit_next_submits > 0 or emulator.roll(config.rate_limit_rate):
        config.rate_limit_next_submits = max(0, config.rate_limit_next_submits - 1)
        raise ApiError(
            429,
            "Rate limit reached: too many requests. Wait a moment and try again.",
            "rate_limit_error",
            "rate_limit_exceeded",
            headers={"Retry-After": "1"},
        )


def bill(emulator: Emulator, images: int) -> None:
    """Take `images` from the balance, or refuse with 402 when it is too low."""
    config = emulator.config
    if config.balance is None:
        return
    if images > config.balance:
        raise ApiError(
            402,
            "Insufficient balance: top up your account to generate more images.",
            "insufficient_quota",
            "insufficient_quota",
        )
    # Billed before any await, so concurrent submits cannot overdraw.
    config.balance -= images


def refuse_if_gateway_fails(emulator: Emulator) -> None:
    config = emulator.config
    if config.server_error_next_polls > 0 or emulator.roll(config.server_error_rate):
        config.server_error_next_polls = max(0, config.server_error_next_polls - 1)
        raise ApiError(
            502, "Bad gateway: the upstream did not answer.", "upstream_error", "bad_gateway"
        )


def planned_refusal(emulator: Emulator) -> str | None:
    """The failure message for a task that is to end `failed`, decided at submission."""
    config = emulator.config
    if config.fail_next_tasks > 0 or emulator.roll(config.failure_rate):
        config.fail_next_tasks = max(0, config.fail_next_tasks - 1)
        return POLICY_REFUSAL
    return None


async def log_route(request: Request) -> Response:
    """GET: every logged request as JSON; DELETE: forget them."""
    log = emulator_of(request).log
    if request.method == "DELETE":
        log.clear()
        return JSONResponse([])
    return JSONResponse([entry.as_json() for entry in list(log)])


async def config_route(request: Request) -> Response:
    """GET: the knobs (never the key); POST: change the knobs named in a JSON object."""
    config = emulator_of(request).config
    if request.method == "POST":
        try:
            config.apply_patch(await read_json(request))
        except ValueError as problem:
            raise ApiError(422, str(problem), "invalid_request_error") from None
    return JSONResponse(config.public_view())
