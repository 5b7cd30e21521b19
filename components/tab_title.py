"""The tab's title says what is running, what is ready and what reviewers said, for a
person in another tab; the last also as a badge on Boards in the sidebar."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components.component_data import component_data

_component = st.components.v2.component(
    "image_studio.tab_title", js=(Path(__file__).parent / "tab_title.js").read_text()
)


def show(*, running: int, images: int, key: str = "tab-title") -> None:
    """Hand the browser this person's jobs in flight and images made so far; it writes the
    title ("2 running - Image Studio", "4 ready - ..." for images that came while nobody
    looked)."""
    _component(key=key, data=component_data({"running": running, "images": images}))


def reviewers_said(news: int) -> None:
    """Hand the browser how many votes, comments and finished reviews are new on this
    person's boards: "3 from reviewers - ..." in the title, and a badge on Boards."""
    _component(key="tab-title-news", data=component_data({"news": news}))
