"""A local stand-in for FoxAPI: the demo backend without a key, and the fake upstream in tests.

It speaks the contract in ../shared/foxapi.md, draws its results with Pillow, and can be
told to misbehave (rate limits, gateway errors, failed tasks, the `completed`-early quirk)
through `EmulatorConfig`, live.
"""

from studio.emulator.config import EmulatorConfig, LoggedRequest
from studio.emulator.routes import create_app
from studio.emulator.server import RunningEmulator, serve, start_emulator

__all__ = [
    "EmulatorConfig",
    "LoggedRequest",
    "RunningEmulator",
    "create_app",
    "serve",
    "start_emulator",
]
