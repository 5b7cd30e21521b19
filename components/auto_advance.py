"""Presenter mode's auto-advance: a timer in the browser, so a playing slideshow costs the
server one run per image and nothing between."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components.component_data import component_data

_component = st.components.v2.component(
    "image_studio.auto_advance", js=(Path(__file__).parent / "auto_advance.js").read_text()
)


def due(key: str, *, every: float | None, at: int) -> bool:
    """Whether the image at index `at` has been shown for `every` seconds (None: paused).
    The timer starts again whenever `at` or `every` changes."""
    result = _component(
        key=key,
        data=component_data({"every": every or 0, "at": at}),
        on_advance_change=lambda: None,
    )
    advanced: object = result.advance  # the index it was shown at, on the run it asks for
    return advanced == at
