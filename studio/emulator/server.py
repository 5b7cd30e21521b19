"""Running the emulator: in a background thread for tests and the demo, or in the foreground."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from studio.emulator.config import EmulatorConfig, LoggedRequest
from studio.emulator.routes import create_app
from studio.emulator.state import Emulator

STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 5.0


class RunningEmulator:
    """An emulator serving on a loopback port. Use it as a context manager, or call `stop`."""

    def __init__(
        self, server: uvicorn.Server, thread: threading.Thread, emulator: Emulator, base_url: str
    ) -> None:
        self.base_url = base_url
        self._server = server
        self._thread = thread
        self._emulator = emulator

    @property
    def config(self) -> EmulatorConfig:
        """The live knobs: changing a field changes how the running emulator answers."""
        return self._emulator.config

    @config.setter
    def config(self, config: EmulatorConfig) -> None:
        self._emulator.config = config

    @property
    def log(self) -> list[LoggedRequest]:
        """Every request received, oldest first (the control routes under /_emulator excepted)."""
        return self._emulator.log

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(SHUTDOWN_TIMEOUT)

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RunningEmulator({self.base_url!r})"


def start_emulator(
    config: EmulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> RunningEmulator:
    """Serve the emulator from a daemon thread; return once it accepts connections.

    `port=0` picks a free port; `base_url` says which.
    """
    app = create_app(config or EmulatorConfig())
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # Binding here, not in uvicorn, tells us the port before the thread starts.
    listener = socket.create_server((host, port), family=family)
    bound_port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="foxapi-emulator", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            listener.close()
            raise RuntimeError("The local FoxAPI emulator did not start.")
        time.sleep(0.01)
    shown_host = f"[{host}]" if family == socket.AF_INET6 else host
    return RunningEmulator(server, thread, app.state.emulator, f"http://{shown_host}:{bound_port}")


def serve(config: EmulatorConfig, *, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the emulator in the foreground until interrupted."""
    uvicorn.run(create_app(config), host=host, port=port, log_level="info", ws="none")
