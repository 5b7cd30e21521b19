"""Pasting an image anywhere on a page: the browser hands its bytes to the script.

What arrives is only bytes and a name: the caller checks them like any upload (the
studio decodes PNG, JPEG and WebP alone, and strips their metadata).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from components.component_data import component_data

_component = st.components.v2.component(
    "image_studio.paste_image", js=(Path(__file__).parent / "paste_image.js").read_text()
)


@dataclass(frozen=True)
class Pasted:
    name: str
    data: bytes


def pasted(key: str) -> list[Pasted] | None:
    """The images pasted since the last run (None when nothing was); an empty list when
    the browser could not read what was pasted."""
    result = _component(key=key, data=component_data({}), on_pasted_change=lambda: None)
    value = result.pasted
    if not isinstance(value, dict):
        return None
    files = []
    for item in value.get("files") or []:
        try:
            data = base64.b64decode(str(item.get("data", "")), validate=True)
        except (binascii.Error, ValueError):
            data = b""  # the studio's checks refuse it with a sentence
        files.append(Pasted(str(item.get("name") or "pasted image"), data))
    return files
