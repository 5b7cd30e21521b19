"""Showing archived images: as signed links the browser fetches and caches itself.

The page carries a link of a few hundred bytes per image, not the image: a gallery page
revisited costs the websocket almost nothing, and the browser keeps each thumbnail for
as long as its (content-addressed) link lives. Links need the address the browser
reached the studio at; a run without a browser (AppTest) gets data URLs instead.
"""

from __future__ import annotations

import base64
from typing import Literal
from urllib.parse import urlsplit

import streamlit as st

from components import frame
from studio import formats
from studio.records import ImageRecord, InputAsset
from studio.service import Studio


def data_url(data: bytes, mime_type: str) -> str:
    return f"data:{mime_type};base64,{base64.b64encode(data).decode('ascii')}"


def link(image: ImageRecord, kind: str) -> str | None:
    """An absolute, signed link to `kind` ("thumb", "original", "download") of `image`."""
    return absolute(frame.studio().gallery.image_link(image, kind, frame.viewer()))


def absolute(path: str) -> str | None:
    """One of the studio's own paths as the browser reaches it; None without a browser."""
    parts = urlsplit(st.context.url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}{path}"


def thumbnail(
    image: ImageRecord,
    alt: str,
    *,
    width: int | Literal["stretch", "content"] = "stretch",
    asker: tuple[Studio, str] | None = None,
) -> None:
    """`asker`: the jobs service and viewer, when the caller already has them (a page of
    tiles asks once, not once a tile)."""
    url = thumbnail_url(image, asker=asker)
    if url is None:
        st.caption("The thumbnail is missing from the archive.")
        return
    st.image(url, alt=alt, width=width)


def thumbnail_url(image: ImageRecord, *, asker: tuple[Studio, str] | None = None) -> str | None:
    """The thumbnail's signed link (a data URL without a browser); None when it is missing."""
    service, viewer = asker or (frame.studio(), frame.viewer())
    url = absolute(service.gallery.image_link(image, "thumb", viewer)) if image.thumb_path else None
    if url is None:
        data = service.gallery.thumbnail(image)
        if data is None or not image.thumb_path:
            return None
        extension = image.thumb_path.rpartition(".")[2]
        url = data_url(data, formats.mime_type(extension))
    return url


def original(image: ImageRecord, alt: str) -> None:
    """The full image, at the width of its column."""
    url = link(image, "original")
    if url is not None:
        st.image(url, alt=alt, width="stretch")
        return
    st.image(
        frame.studio().gallery.original(image),
        alt=alt,
        width="stretch",
        # "auto" would re-encode a PNG without transparency as JPEG; this serves it as is.
        output_format="PNG" if image.format == "png" else "auto",
    )


def input_thumbnail(asset: InputAsset, alt: str) -> None:
    """An upload an edit was made from, as its thumbnail."""
    url = absolute(frame.studio().gallery.input_link(asset, "thumb", frame.viewer()))
    if url is None:
        data = frame.studio().gallery.input_thumbnail(asset)
        if data is None:
            st.caption("The thumbnail is missing from the archive.")
            return
        url = data_url(data, "image/webp")
    st.image(url, alt=alt, width="stretch")


def input_original(asset: InputAsset, alt: str) -> None:
    """An upload an edit was made from, whole, at the width of its column."""
    service = frame.studio()
    url = absolute(service.gallery.input_link(asset, "original", frame.viewer()))
    if url is None:
        url = data_url(service.gallery.input_original(asset), service.gallery.mime_type(asset))
    st.image(url, alt=alt, width="stretch")
