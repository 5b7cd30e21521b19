"""A reviewer remembered in this browser for one review link: a reload keeps their name
(their votes and comments then show again from the studio) and any comment being typed.

The browser keeps it (localStorage, under a key made from the link's token hash), not
the studio: no account, and another link or another browser starts afresh. The first
run of a session asks the browser once; what it remembered arrives on the run after,
and until then the page waits (`answered`) rather than draw a reviewer it may not be.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from components.component_data import component_data
from components.state import SessionValue

_component = st.components.v2.component(
    "image_studio.review_memory", js=(Path(__file__).parent / "review_memory.js").read_text()
)
# Whether the browser has answered this session; set beforehand, it stands for a browser
# that remembered nothing (how the script-only tests open a review).
ANSWERED = SessionValue("review_memory_answered", lambda: False)


def remembered(link_key: str, name: str) -> tuple[str, dict[int, str]] | None:
    """Once per session, what the browser remembered: (name, comment drafts by image
    number); None otherwise. Afterwards keeps `name` in the browser as it changes."""
    result = _component(
        key="review-memory",
        data=component_data({"link": link_key, "restored": ANSWERED.get(), "name": name}),
        on_remembered_change=lambda: None,
    )
    found: Any = result.remembered
    if ANSWERED.get() or not isinstance(found, dict):
        return None
    ANSWERED.set(True)
    kept = found.get("drafts")
    drafts: dict[Any, Any] = kept if isinstance(kept, dict) else {}
    return str(found.get("name") or ""), {
        int(number): str(text)
        for number, text in drafts.items()
        if str(number).isdigit() and isinstance(text, str)
    }


def answered() -> bool:
    """Whether this session has heard from the browser yet (it answers on its first run)."""
    return ANSWERED.get()
