"""A PDF as poppler-utils read it: its text, its page size, its pictures' resolution and
its fonts."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.imaging_support import photo_tool


def pdf_text(path: Path) -> str:
    """The PDF's text as pdftotext reads it (poppler-utils): what search and copy find."""
    done = subprocess.run(
        [photo_tool("pdftotext"), "-enc", "UTF-8", path, "-"],
        capture_output=True,
        check=True,
    )
    return " ".join(done.stdout.decode("utf-8").split())


def pdf_info(path: Path) -> dict[str, str]:
    done = subprocess.run(
        [photo_tool("pdfinfo"), "-enc", "UTF-8", path], capture_output=True, check=True
    )
    pairs = (line.partition(":") for line in done.stdout.decode("utf-8").splitlines())
    return {key.strip(): value.strip() for key, _, value in pairs}


def pdf_page_size(info: dict[str, str]) -> tuple[float, float]:
    """Width and height in points, from pdfinfo's "595.28 x 841.89 pts (A4)"."""
    width, _, rest = info["Page size"].partition(" x ")
    return float(width), float(rest.split()[0])


def pdf_pictures(path: Path) -> list[int]:
    """Each embedded picture's resolution as printed, in pixels per inch (pdfimages)."""
    done = subprocess.run(
        [photo_tool("pdfimages"), "-list", path], capture_output=True, check=True, text=True
    )
    rows = [line.split() for line in done.stdout.splitlines()[2:]]
    return [int(row[12]) for row in rows if row[2] == "image"]


def pdf_fonts(path: Path) -> str:
    done = subprocess.run(
        [photo_tool("pdffonts"), path],
        capture_output=True,
        check=True,
        text=True,
    )
    return done.stdout
