"""Focus that comes back where it was: to the tile's Open button when its dialog closes."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components.state import SessionValue

_component = st.components.v2.component(
    "image_studio.focus", js=(Path(__file__).parent / "focus.js").read_text()
)
# The widget key of the button that opened the dialog just closed, to focus once.
_return_to: SessionValue[str | None] = SessionValue("focus_return_to", lambda: None)


def return_to(widget_key: str) -> None:
    """Ask the next run to put the focus on `widget_key`'s button."""
    _return_to.set(widget_key)


def restore() -> None:
    """Focus the button asked for, once, after the page has drawn it."""
    widget_key = _return_to.get()
    if widget_key is not None:
        _return_to.clear()
        _component(key="focus-restore", data={"key": widget_key})
