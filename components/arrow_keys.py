"""The Left and Right arrow keys, heard on the whole page, and a finger's swipe across it,
for stepping through images."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

_component = st.components.v2.component(
    "image_studio.arrow_keys", js=(Path(__file__).parent / "arrow_keys.js").read_text()
)


def pressed(key: str) -> int:
    """-1 when Left was just pressed (or a finger swiped to the right), +1 for Right (or
    a swipe to the left), else 0."""
    result = _component(key=key, on_step_change=lambda: None)
    return {"previous": -1, "next": 1}.get(result.step or "", 0)
