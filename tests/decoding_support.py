"""Files in the formats the studio must never decode, and a guard that fails loudly if
Pillow ever starts a program (Ghostscript for EPS) on them."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pytest
from PIL import EpsImagePlugin, Image

# Formats Pillow can open but the studio refuses: EPS runs Ghostscript when loaded.
REFUSED_FORMATS = ("EPS", "BMP", "TIFF", "GIF")


def encoded(pillow_format: str, size: tuple[int, int] = (24, 16)) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, (200, 90, 40)).save(buffer, pillow_format)
    return buffer.getvalue()


class Programs:
    """Every program a test started (none may be), with its arguments."""

    def __init__(self) -> None:
        self.started: list[Any] = []


@pytest.fixture(name="no_programs")
def no_programs_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Programs]:
    """Ghostscript looks installed (so an EPS that reached Pillow's loader would run it),
    and any program started is recorded and refused."""
    programs = Programs()

    def refuse(*args: Any, **kwargs: Any) -> None:
        programs.started.append(args)
        raise OSError("a test refused to start a program")

    monkeypatch.setattr(EpsImagePlugin, "gs_binary", "gs")
    monkeypatch.setattr(subprocess, "Popen", refuse)
    yield programs
