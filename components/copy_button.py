"""A visible, labelled button that copies a text (a link) to the clipboard, in the page
itself (Streamlit's own copy icon shows only on hover and has no words)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components.component_data import component_data

_HTML = '<button type="button" class="copy-button"></button> <span role="status"></span>'
_CSS = """
.copy-button {
  font: inherit; font-size: 0.875rem; padding: 0.25rem 0.75rem; min-height: 2.5rem;
  border-radius: 0.5rem; cursor: pointer; color: var(--st-text-color);
  background: var(--st-background-color); border: 1px solid var(--st-border-color);
}
.copy-button:hover { border-color: var(--st-primary-color); color: var(--st-primary-color); }
.copy-button:focus-visible { outline: 2px solid var(--st-primary-color); outline-offset: 2px; }
[role=status] { font-size: 0.875rem; margin-left: 0.5rem; }
"""
_component = st.components.v2.component(
    "image_studio.copy_button",
    html=_HTML,
    css=_CSS,
    js=(Path(__file__).parent / "copy_button.js").read_text(),
)


def copy_button(label: str, text: str, *, key: str) -> None:
    _component(key=key, data=component_data({"label": label, "text": text}))
