"""Two to four images side by side, at one height, with every setting that differs marked.

Each column is as wide as its image's ratio asks, so the pictures stand at equal height.
"""

from __future__ import annotations

import streamlit as st

from components import frame, media
from components.state import SessionValue
from components.text import MODE_LABELS, escape_markdown, when
from studio import formats
from studio.records import GalleryItem
from studio.request import DEFAULT_ASPECT_RATIO, Mode

MIN_IMAGES, MAX_IMAGES = 2, 4
_NOT_A_SETTING = {"Made"}  # always differs, says nothing about how the images differ

_comparing: SessionValue[list[int]] = SessionValue("compare_images", list)


def can_compare(count: int) -> bool:
    return MIN_IMAGES <= count <= MAX_IMAGES


def start(image_ids: list[int]) -> None:
    _comparing.set(list(image_ids)[:MAX_IMAGES])


def show_if_open() -> None:
    if _comparing.get():
        _dialog()


@st.dialog("Compare", width="large", on_dismiss=_comparing.clear)
def _dialog() -> None:
    items = frame.studio().gallery.images(_comparing.get())
    if len(items) < MIN_IMAGES:
        st.info("Some of these images are no longer in the gallery.")
        return
    rows = [settings(item) for item in items]
    differing = {
        name
        for name in rows[0]
        if name not in _NOT_A_SETTING and len({row[name] for row in rows}) > 1
    }
    weights = [(item.image.width or 1) / (item.image.height or 1) for item in items]
    for column, item, row in zip(st.columns(weights), items, rows, strict=True):
        with column:
            media.original(item.image, item.job.prompt)
            for name, value in row.items():
                shown = escape_markdown(value)
                if name in differing:
                    shown = f":orange-background[{shown}]"
                st.markdown(f"**{name}:** {shown}")
    if differing:
        st.caption("Marked: what differs between these images.")
    else:
        st.caption("These images were made with the same settings.")


def settings(item: GalleryItem) -> dict[str, str]:
    """What made an image, by name, in the words the dialog uses."""
    job, image = item.job, item.image
    request = job.request
    ratio = request.aspect_ratio or DEFAULT_ASPECT_RATIO
    return {
        "Prompt": job.prompt,
        "Mode": MODE_LABELS[job.mode],
        "Aspect ratio": ratio if job.mode is Mode.GENERATE else "as the input",
        "Format": formats.label(image.format),
        "Size": f"{image.width} x {image.height} px",
        "Input images": str(len(request.image_urls)),
        "Made": when(job.created_at, st.context.timezone),
    }
