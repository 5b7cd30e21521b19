"""Drag to reorder: a board's images as thumbnails to drag into place.

Pointer events, so a mouse, a pen and a finger drag alike (a mouse from anywhere on a
thumbnail, a finger or pen from its handle, so that elsewhere a touch scrolls the page).
The browser sends the new order once, when an image is dropped somewhere new; the page
then saves it. Keyboard users have Up and Down beside each image (components/board_view).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components import media
from components.component_data import component_data
from components.text import excerpt
from studio.records import GalleryItem

_HERE = Path(__file__).parent
_component = st.components.v2.component(
    "image_studio.board_order",
    css=(_HERE / "board_order.css").read_text(),
    js=(_HERE / "board_order.js").read_text(),
)


def dragged_order(key: str, items: list[GalleryItem]) -> list[int] | None:
    """Draw the strip; the board's new order when an image was just dropped elsewhere."""
    images = [
        {
            "id": item.image.id,
            "number": number,
            "prompt": excerpt(item.job.prompt, 60),
            "url": media.link(item.image, "thumb") if item.image.thumb_path else None,
        }
        for number, item in enumerate(items, start=1)
    ]
    result = _component(
        key=key, data=component_data({"images": images}), on_order_change=lambda: None
    )
    raw = str(result.order or "")
    order = [int(part) for part in raw.split(",") if part.isdigit()]
    shown = [item.image.id for item in items]
    # Only a rearrangement of what was shown: an image removed meanwhile is not brought back.
    return order if sorted(order) == sorted(shown) and order != shown else None
