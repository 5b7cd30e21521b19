"""The notice after a delete: "3 images moved to the Trash" with Undo, at the bottom of
the window where a snackbar sits in Gmail or Figma, for UNDO_SECONDS.

st.toast cannot hold a button, so the notice is one small element of its own
(undo_notice.js): a real button, reached with Tab, announced to screen readers, and
pressed by Ctrl+Z (Cmd+Z) too, unless the keyboard is in a text field, where Ctrl+Z
undoes typing. It is drawn by the frame on every page, since a delete may happen in the
image dialog over any of them.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from components import frame
from components.component_data import component_data
from components.state import SessionValue
from components.text import plural

KEY = "undo-notice"
UNDO_SECONDS = 10  # how long the notice shows (longer while the pointer or focus is on it)
KEPT_SECONDS = 60  # how long a rerun still draws it: it hides itself after UNDO_SECONDS
_HERE = Path(__file__).parent
_notice = st.components.v2.component(
    "image_studio.undo_notice",
    css=(_HERE / "undo_notice.css").read_text(),
    js=(_HERE / "undo_notice.js").read_text(),
)


@dataclass(frozen=True)
class Offer:
    image_ids: tuple[int, ...]
    message: str
    token: str  # one per delete: the browser times each notice once, however often drawn
    at: float


_offer: SessionValue[Offer | None] = SessionValue("undo_offer", lambda: None)


def moved_message(count: int) -> str:
    return f"{plural(count, 'image')} moved to the Trash"


def offer(image_ids: list[int]) -> None:
    """After images went to the Trash: the notice, with Undo, on the next run."""
    if image_ids:
        message = moved_message(len(image_ids))
        _offer.set(Offer(tuple(image_ids), message, uuid.uuid4().hex, time.monotonic()))


def show() -> None:
    """The notice, while an undo is on offer."""
    current = _offer.get()
    if current is None:
        return
    if time.monotonic() - current.at > KEPT_SECONDS:
        _offer.clear()
        return
    _notice(
        key=KEY,
        data=component_data(
            {
                "message": current.message,
                "token": current.token,
                "seconds": UNDO_SECONDS,
                "trash_days": frame.studio().gallery.trash.keep_days,
            }
        ),
        on_undo_change=_undo,
    )


def _undo() -> None:
    current = _offer.get()
    asked = (st.session_state.get(KEY) or {}).get("undo")
    if current is None or asked != current.token:
        return  # an old notice's click, after a newer delete: that one is not undone
    _offer.clear()
    restored = frame.studio().gallery.trash.restore(list(current.image_ids))
    if restored:
        frame.queue_toast(f"Restored {plural(len(restored), 'image')}.", ":material/undo:")
    else:
        frame.queue_toast("Nothing to restore: the Trash was emptied since.", ":material/info:")
