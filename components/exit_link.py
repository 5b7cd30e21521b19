"""A link out of a full-screen view, in the same tab, with Escape as its shortcut."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components.component_data import component_data

_component = st.components.v2.component(
    "image_studio.exit_link",
    html='<a href="/">Exit</a>',
    css="a { color: var(--st-link-color); text-decoration: underline; white-space: nowrap; }",
    js=(Path(__file__).parent / "exit_link.js").read_text(),
)


def show(href: str, *, key: str, label: str = "Exit") -> None:
    """A link to `href` that opens in this tab; Escape follows it too."""
    _component(key=key, data=component_data({"href": href, "label": label}), width="content")
