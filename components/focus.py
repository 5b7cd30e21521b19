"""Focus that comes back where it was: to a board row's Open button when its dialog closes
(the gallery's tiles do the same themselves, in components/gallery_tiles.js)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components.component_data import component_data

_component = st.components.v2.component(
    "image_studio.focus", js=(Path(__file__).parent / "focus.js").read_text()
)


def restore(widget_key: str | None) -> None:
    """Focus `widget_key`'s button, once, after the page has drawn it (None: nothing to do)."""
    if widget_key is not None:
        _component(key="focus-restore", data=component_data({"key": widget_key}))
