"""Small HTTP servers on loopback for the fetch policy's tests: a canary that must never be
hit, a redirector, a host that drips its body one byte a second, and a closed port."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"pixels" * 10

Respond = Callable[[BaseHTTPRequestHandler], None]


class LoopbackServer:
    """Answers every GET on 127.0.0.1 with `respond`, remembering each path asked for."""

    def __init__(self, respond: Respond, stopping: threading.Event | None = None) -> None:
        self.hits: list[str] = []
        self.stopping = stopping or threading.Event()  # set on stop, for answers that linger
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                respond(self)

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: the tests read `hits`

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.host_port = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/image.png") -> str:
        return f"http://{self.host_port}{path}"

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


def serve_png(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "image/png")
    handler.send_header("Content-Length", str(len(PNG_BYTES)))
    handler.end_headers()
    handler.wfile.write(PNG_BYTES)


def redirect_to(location: str) -> Respond:
    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return respond


def drip(stopping: threading.Event, length: int = 1000) -> Respond:
    """An image that arrives one byte a second: every read is prompt, the whole is not."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Content-Length", str(length))
        handler.end_headers()
        for _ in range(length):
            if stopping.is_set():
                return
            try:
                handler.wfile.write(b"x")
                handler.wfile.flush()
            except OSError:
                return  # the studio hung up, as it should
            stopping.wait(1.0)

    return respond


def dripping_server() -> LoopbackServer:
    stopping = threading.Event()
    return LoopbackServer(drip(stopping), stopping)


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
