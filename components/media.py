"""Showing archived images.

Thumbnails go to st.image as data URLs. st.image passes a data URL through untouched,
while bytes would be decoded and re-encoded as JPEG on every rerun (it does not keep
WebP). It writes the prompt into the <img alt>. And the browser keeps element messages
over 10 kB by hash, so a rerun of an unchanged grid sends 24 short references, not the
images again, and no image needs a request of its own. Thumbnails are small (tens of kB).
"""

from __future__ import annotations

import base64

import streamlit as st

from components import frame
from studio import formats
from studio.records import ImageRecord


def data_url(data: bytes, mime_type: str) -> str:
    return f"data:{mime_type};base64,{base64.b64encode(data).decode('ascii')}"


def thumbnail(image: ImageRecord, alt: str, *, width: int | str = "stretch") -> None:
    data = frame.jobs().thumbnail(image)
    if data is None or not image.thumb_path:
        st.caption("The thumbnail is missing from the archive.")
        return
    extension = image.thumb_path.rpartition(".")[2]
    st.image(data_url(data, formats.mime_type(extension)), alt=alt, width=width)
