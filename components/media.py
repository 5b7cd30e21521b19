"""Showing archived images.

Thumbnails go to st.image as data URLs: st.image passes a data URL through untouched
(a file path or bytes would be decoded and re-encoded as JPEG on every rerun, since
it does not keep WebP), it writes the prompt into the <img alt>, and the browser gets
each grid in one message instead of 24 further requests. Thumbnails are small (a few
tens of kB), so this stays light; full-size originals go through a file path instead.
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
