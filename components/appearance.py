"""The studio's own CSS (appearance.css), drawn once a run on every page."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

CSS_FILE = Path(__file__).with_name("appearance.css")
# Read once per process: every run sends it, and the file does not change under a server.
_STYLE = f"<style>{CSS_FILE.read_text()}</style>"


def apply() -> None:
    """Send the studio's CSS; style-only HTML goes to Streamlit's event area, taking no space."""
    st.html(_STYLE)
