"""The request log, and the edge's size limit: ASGI middleware in front of every route.

Every request but the control plane's is logged as received, without the key. Bodies over
`max_upload_bytes` get the edge's 413 with an HTML page, as FoxAPI's does.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from studio.emulator.config import LoggedRequest
from studio.emulator.state import Emulator

# Header names that may carry a secret: the log keeps that they were sent, not what they said.
SECRET_HEADER_WORDS = ("auth", "key", "token", "cookie", "secret")
LOGGED_TEXT_CHARS = 2000
# A demo backend runs for days: past this many entries the oldest tenth is dropped.
MAX_LOG_ENTRIES = 20_000
CONTROL_PREFIX = "/_emulator/"
TOO_LARGE_PAGE = (
    "<html><head><title>413 Request Entity Too Large</title></head><body>"
    "<center><h1>413 Request Entity Too Large</h1></center></body></html>"
)


class RequestLog:
    """ASGI middleware: log every request, and refuse oversized bodies like FoxAPI's edge.

    A route finds its entry under `scope["emulator.log_entry"]`, to log a body it parsed.
    """

    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        entry: LoggedRequest | None = None
        if not scope["path"].startswith(CONTROL_PREFIX):
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
            if isinstance(parsed, dict) and isinstance(parsed.get("file_data"), str):
                # The bytes themselves are in the upload store; the log keeps their length.
                parsed["file_data"] = f"<{len(parsed['file_data'])} base64 characters>"
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
