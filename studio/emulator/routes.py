"""The emulator's HTTP face: FoxAPI's routes, a CDN for results and uploads, a control plane.

Each route lives with its concern (tasks, uploads, cdn, faults); this module only lays
them out and answers every error in FoxAPI's shape.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from studio.emulator import cdn, faults, tasks, uploads
from studio.emulator.config import EmulatorConfig
from studio.emulator.contract import ApiError, not_found
from studio.emulator.request_log import RequestLog
from studio.emulator.state import Emulator

ROUTES = [
    Route("/v1/images/generations", tasks.submit_route, methods=["POST"]),
    Route("/v1/tasks/{task_id}", tasks.poll_route, methods=["GET"]),
    Route("/v1/files/upload/stream", uploads.stream_route, methods=["POST"]),
    Route("/v1/files/upload/base64", uploads.base64_route, methods=["POST"]),
    Route("/v1/files/upload/url", uploads.url_route, methods=["POST"]),
    Route("/cdn/results/{task_id}/{name}", cdn.result_route, methods=["GET"]),
    Route("/cdn/uploads/{file_id}/{filename}", cdn.upload_route, methods=["GET"]),
    Route("/_emulator/log", faults.log_route, methods=["GET", "DELETE"]),
    Route("/_emulator/config", faults.config_route, methods=["GET", "POST"]),
]


def create_app(config: EmulatorConfig) -> Starlette:
    """The emulator as an ASGI app. `app.state.emulator` holds its log, store and knobs."""
    emulator = Emulator(config)
    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(RequestLog, emulator=emulator)],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
    )
    app.state.emulator = emulator
    return app


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(not_found("No such route."))
    # Starlette's own refusals, for example a malformed multipart body (400) or a wrong method.
    return error_response(ApiError(exc.status_code, str(exc.detail), "invalid_request_error"))
