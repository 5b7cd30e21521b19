"""The Edit page's input images: links, uploads and gallery images, up to three in all.

Every input is checked the moment it is added (a link for its form, an upload by the
core's image checks, which also strip its metadata), shown as a thumbnail with a
remove button, and turned into a link FoxAPI can fetch only when the edit is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from components import frame, media, paste_image
from components.state import SessionValue
from components.text import escape_markdown, excerpt
from studio.credentials import Backend
from studio.errors import InvalidImage
from studio.records import GalleryFilter
from studio.request import MAX_INPUT_IMAGES
from studio.service import EditInput

URLS_FIELD = "edit_urls"
PASTE_KEY = "edit-paste"  # appearance.css gives the paste listener no room
PREVIEW_WIDTH = 72  # px: a chosen input's picture in its row
DEMO_LEFT_OUT = (
    "The demo backend does not fetch pictures from other addresses, so it leaves this one "
    "out (with no other input, it edits a grey placeholder). Upload the file to see it "
    "edited."
)
PASTE_UNREADABLE = (
    "The pasted image could not be read. Copy it again, or save it and upload the file."
)
_GALLERY_CHOICES = 8
FULL = f"An edit takes at most {MAX_INPUT_IMAGES} input images. Remove one to add another."

_chosen: SessionValue[list[EditInput]] = SessionValue("edit_inputs", list)
_messages: SessionValue[list[str]] = SessionValue("edit_input_messages", list)
_uploader_round = SessionValue("edit_upload_round", lambda: 0)
# Input identity and key -> the link FoxAPI got last time, so nothing is uploaded twice.
_sent_links: SessionValue[dict[str, str]] = SessionValue("edit_sent_urls", dict)


def chosen() -> list[EditInput]:
    return list(_chosen.get())


def replace(inputs: Sequence[EditInput]) -> None:
    _chosen.set(list(inputs)[:MAX_INPUT_IMAGES])


def sent_links() -> dict[str, str]:
    links = _sent_links.get()
    _sent_links.set(links)
    return links


def add(new: Sequence[EditInput]) -> list[str]:
    """Add what fits (skipping inputs already chosen); return messages for what did not."""
    current = chosen()
    known = {item.identity for item in current}
    fresh = [item for item in new if item.identity not in known]
    room = MAX_INPUT_IMAGES - len(current)
    replace(current + fresh[: max(room, 0)])
    return [FULL] if len(fresh) > room else []


def _remove(identity: str) -> None:
    replace([item for item in chosen() if item.identity != identity])
    _messages.clear()


# Showing and adding --------------------------------------------------------------


def chosen_inputs() -> None:
    """The inputs as a list, one row each: its picture, its name and Remove (a list fits the
    studio's narrow left column and a phone alike)."""
    inputs = chosen()
    st.markdown(f"**Input images** ({len(inputs)} of {MAX_INPUT_IMAGES})")
    if not inputs:
        st.caption("No input images yet: add up to three below.")
        return
    for item in inputs:
        with st.container(border=True):
            with st.container(horizontal=True, vertical_alignment="center", gap="small"):
                _preview(item)
                st.text(excerpt(item.label, 60), wrap=False, width="stretch")
                st.button(
                    "Remove",
                    key=f"edit-input-remove-{item.identity}",
                    icon=":material/close:",
                    on_click=_remove,
                    args=(item.identity,),
                )
            if item.kind == "url" and item.url and demo_cannot_fetch(item.url):
                st.caption(DEMO_LEFT_OUT)


def demo_cannot_fetch(url: str) -> bool:
    """Whether the demo backend will edit a placeholder instead of the picture at `url`:
    it fetches nothing but its own files (the uploads it was sent)."""
    demo = frame.studio().jobs.server_credentials
    if demo.backend is not Backend.DEMO:
        return False
    return _origin(url) != _origin(demo.base_url)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _preview(item: EditInput) -> None:
    if item.kind == "url" and item.url:
        st.image(item.url, alt=item.url, width=PREVIEW_WIDTH)
    elif item.kind == "upload" and item.preview:
        st.image(media.data_url(item.preview, "image/webp"), alt=item.label, width=PREVIEW_WIDTH)
    elif item.image_id is not None:
        gallery_item = frame.studio().gallery.image(item.image_id)
        if gallery_item is None:
            st.caption("This image is no longer in the gallery.")
        else:
            media.thumbnail(gallery_item.image, gallery_item.job.prompt, width=PREVIEW_WIDTH)


def input_sources() -> None:
    links, uploads, gallery = st.tabs(["Image URLs", "Upload images", "From the gallery"])
    with links:
        st.text_area(
            "Image URLs",
            key=URLS_FIELD,
            height=100,
            placeholder="https://example.com/photo.jpg",
            help="One link per line. Each must be a full http(s) address FoxAPI can fetch.",
        )
        st.button("Add URLs", key="edit-add-urls", icon=":material/add_link:", on_click=_take_urls)
    with uploads:
        round_number = _uploader_round.get()
        st.file_uploader(
            "Upload images: drop them here, or paste one anywhere on this page",
            type=["png", "jpg", "jpeg", "webp"],
            accept_multiple_files=True,
            key=f"edit-upload-{round_number}",
            on_change=_take_uploads,
            args=(f"edit-upload-{round_number}",),
            help=(
                "Drag images onto this field or browse for them; an image copied to the "
                "clipboard can be pasted anywhere on the page (Ctrl+V, Cmd+V on a Mac). "
                "PNG, JPEG or WebP, up to 20 MB. Location and camera data are removed first."
            ),
        )
    with gallery:
        _gallery_choices()
    for message in _messages.get():
        st.error(escape_markdown(message), icon=":material/error:")


def _gallery_choices() -> None:
    items = frame.studio().gallery.gallery(GalleryFilter(), limit=_GALLERY_CHOICES, offset=0)
    if not items:
        st.caption("No images in the gallery yet.")
        return
    columns = st.columns(4)
    for index, item in enumerate(items):
        with columns[index % 4]:
            media.thumbnail(item.image, item.job.prompt)
            st.button(
                "Use",
                key=f"edit-use-{item.image.id}",
                on_click=add_from_gallery,
                args=(item.image.id,),
            )


def _take_urls() -> None:
    lines = [line.strip() for line in str(st.session_state.get(URLS_FIELD, "")).splitlines()]
    urls, refused, messages = [], [], []
    for line in filter(None, lines):
        try:
            urls.append(EditInput.from_url(line))
        except ValueError as exc:
            refused.append(line)
            messages.append(str(exc))
    if not any(lines):
        messages.append("Paste at least one link, one per line.")
    messages += add(urls)
    # Keep the refused lines in the box so they can be corrected.
    st.session_state[URLS_FIELD] = "\n".join(refused)
    _messages.set(messages)


def _take_uploads(key: str) -> None:
    files: list[UploadedFile] = list(st.session_state.get(key) or [])
    _take_files([(upload.name, upload.getvalue()) for upload in files])
    # A fresh uploader: the files now show among the chosen inputs, with remove buttons.
    _uploader_round.set(_uploader_round.get() + 1)


def _take_files(files: Sequence[tuple[str, bytes]]) -> None:
    """Files (name, bytes) checked as uploads: the ones that pass join the inputs."""
    service = frame.studio()
    taken, messages = [], []
    for name, data in files:
        try:
            taken.append(service.gallery.upload_input(data, name))
        except InvalidImage as exc:
            messages.append(exc.message)
    messages += add(taken)
    _messages.set(messages)


def take_pasted() -> None:
    """An image pasted anywhere on the page (Ctrl+V) becomes an upload, checked like one."""
    files = paste_image.pasted(PASTE_KEY)
    if files is None:
        return
    if not files:
        _messages.set([PASTE_UNREADABLE])
        return
    _take_files([(file.name, file.data) for file in files])


def add_from_gallery(image_id: int) -> None:
    """Add a gallery image as an input, saying so if three are chosen already."""
    item = frame.studio().gallery.gallery_input(image_id)
    if item is None:
        _messages.set(["This image is no longer in the gallery."])
        return
    _messages.set(add([item]))
