"""Showing archived images.

Thumbnails go to st.image as data URLs. st.image passes a data URL through untouched,
while a file path or bytes would be decoded and re-encoded as JPEG on every rerun (it
does not keep WebP). It writes the prompt into the <img alt>. And the browser keeps
element messages over 10 kB by hash, so a rerun of an unchanged grid sends 24 short
references, not the images again, and no image needs a request of its own. Thumbnails
are small (tens of kB); full-size originals go to st.image as a file path instead.
"""

from __future__ import annotations

import base64
import mimetypes

import streamlit as st

from studio.archive import Archive
from studio.store import ImageRecord

_THUMB_TYPES = {"webp": "image/webp", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}


def data_url(data: bytes, mime_type: str) -> str:
    return f"data:{mime_type};base64,{base64.b64encode(data).decode('ascii')}"


def thumbnail_url(archive: Archive, image: ImageRecord) -> str | None:
    if not image.thumb_path:
        return None
    try:
        data = archive.read(image.thumb_path)
    except OSError:
        return None
    extension = image.thumb_path.rpartition(".")[2].lower()
    mime_type = _THUMB_TYPES.get(extension) or mimetypes.guess_type(image.thumb_path)[0]
    return data_url(data, mime_type or "application/octet-stream")


def thumbnail(
    archive: Archive, image: ImageRecord, alt: str, *, width: int | str = "stretch"
) -> None:
    url = thumbnail_url(archive, image)
    if url is None:
        st.caption("The thumbnail is missing from the archive.")
        return
    st.image(url, alt=alt, width=width)
