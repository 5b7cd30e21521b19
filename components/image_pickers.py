"""The Edit page's input images: links, uploads and gallery images, up to three in all.

Every input is checked the moment it is added (a link for its form, an upload by the
core's image checks, which also strip its metadata), shown as a thumbnail with a
remove button, and turned into a link FoxAPI can fetch only when the edit is sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from components import frame, media
from components.text import escape_markdown, excerpt
from studio import imaging
from studio.credentials import Credentials
from studio.imaging import CleanImage, InvalidImage
from studio.request import MAX_INPUT_IMAGES, check_image_url
from studio.runtime import Studio
from studio.store import GalleryFilter, GalleryItem

EDIT_INPUTS = "edit_inputs"
URLS_FIELD = "edit_urls"
_MESSAGES = "edit_input_messages"
_UPLOADER_ROUND = "edit_upload_round"
_SENT_URLS = "edit_sent_urls"  # input identity and key -> the link FoxAPI got last time
_PREVIEW_PX = 256
_GALLERY_CHOICES = 8
FULL = f"An edit takes at most {MAX_INPUT_IMAGES} input images. Remove one to add another."


@dataclass(frozen=True)
class EditInput:
    kind: str  # "url", "upload" or "gallery"
    label: str
    url: str | None = None
    image: CleanImage | None = field(default=None, repr=False)
    preview: bytes | None = field(default=None, repr=False)
    image_id: int | None = None

    @classmethod
    def from_url(cls, url: str) -> EditInput:
        return cls("url", url, url=url)

    @classmethod
    def from_upload(cls, image: CleanImage) -> EditInput:
        preview = imaging.make_thumbnail(image.data, _PREVIEW_PX)
        return cls("upload", image.filename, image=image, preview=preview)

    @classmethod
    def from_gallery(cls, item: GalleryItem) -> EditInput:
        return cls("gallery", item.job.prompt, image_id=item.image.id)

    @property
    def identity(self) -> str:
        if self.kind == "upload" and self.image is not None:
            return "upload:" + hashlib.sha256(self.image.data).hexdigest()
        if self.kind == "gallery":
            return f"gallery:{self.image_id}"
        return f"url:{self.url}"


def chosen() -> list[EditInput]:
    return list(st.session_state.get(EDIT_INPUTS, []))


def replace(inputs: Sequence[EditInput]) -> None:
    st.session_state[EDIT_INPUTS] = list(inputs)[:MAX_INPUT_IMAGES]


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
    st.session_state[_MESSAGES] = []


# Showing and adding --------------------------------------------------------------


def chosen_inputs(studio: Studio) -> None:
    inputs = chosen()
    st.markdown(f"**Input images** ({len(inputs)} of {MAX_INPUT_IMAGES})")
    if not inputs:
        st.caption("No input images yet: add up to three below.")
        return
    columns = st.columns(MAX_INPUT_IMAGES)
    for column, item in zip(columns, inputs, strict=False):
        with column, st.container(border=True):
            _preview(studio, item)
            st.text(excerpt(item.label, 60), wrap=False)
            st.button(
                "Remove",
                key=f"edit-input-remove-{item.identity}",
                icon=":material/close:",
                on_click=_remove,
                args=(item.identity,),
            )


def _preview(studio: Studio, item: EditInput) -> None:
    if item.kind == "url" and item.url:
        st.image(item.url, alt=item.url, width="stretch")
    elif item.kind == "upload" and item.preview:
        st.image(media.data_url(item.preview, "image/webp"), alt=item.label, width="stretch")
    elif item.image_id is not None:
        gallery_item = studio.store.image(item.image_id)
        if gallery_item is None:
            st.caption("This image is no longer in the gallery.")
        else:
            media.thumbnail(studio.archive, gallery_item.image, gallery_item.job.prompt)


def input_sources(studio: Studio) -> None:
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
        round_number = st.session_state.get(_UPLOADER_ROUND, 0)
        st.file_uploader(
            "Upload images",
            type=["png", "jpg", "jpeg", "webp"],
            accept_multiple_files=True,
            key=f"edit-upload-{round_number}",
            on_change=_take_uploads,
            args=(f"edit-upload-{round_number}",),
            help="PNG, JPEG or WebP, up to 20 MB. Location and camera data are removed first.",
        )
    with gallery:
        _gallery_choices(studio)
    for message in st.session_state.get(_MESSAGES, []):
        st.error(escape_markdown(message), icon=":material/error:")


def _gallery_choices(studio: Studio) -> None:
    items = studio.store.gallery(GalleryFilter(), limit=_GALLERY_CHOICES, offset=0)
    if not items:
        st.caption("No images in the gallery yet.")
        return
    columns = st.columns(4)
    for index, item in enumerate(items):
        with columns[index % 4]:
            media.thumbnail(studio.archive, item.image, item.job.prompt)
            st.button(
                "Use",
                key=f"edit-use-{item.image.id}",
                on_click=_take_gallery_item,
                args=(item.image.id,),
            )


def _take_urls() -> None:
    lines = [line.strip() for line in str(st.session_state.get(URLS_FIELD, "")).splitlines()]
    urls, refused, messages = [], [], []
    for line in filter(None, lines):
        try:
            urls.append(EditInput.from_url(check_image_url(line)))
        except ValueError as exc:
            refused.append(line)
            messages.append(str(exc))
    if not any(lines):
        messages.append("Paste at least one link, one per line.")
    messages += add(urls)
    # Keep the refused lines in the box so they can be corrected.
    st.session_state[URLS_FIELD] = "\n".join(refused)
    st.session_state[_MESSAGES] = messages


def _take_uploads(key: str) -> None:
    files: list[UploadedFile] = list(st.session_state.get(key) or [])
    settings = frame.get_studio().settings
    taken, messages = [], []
    for upload in files:
        try:
            image = imaging.clean_upload(
                upload.getvalue(),
                upload.name,
                max_bytes=settings.studio_max_upload_bytes,
                max_pixels=settings.studio_max_upload_pixels,
            )
        except InvalidImage as exc:
            messages.append(exc.message)
            continue
        taken.append(EditInput.from_upload(image))
    messages += add(taken)
    st.session_state[_MESSAGES] = messages
    # A fresh uploader: the files now show among the chosen inputs, with remove buttons.
    st.session_state[_UPLOADER_ROUND] = st.session_state.get(_UPLOADER_ROUND, 0) + 1


def _take_gallery_item(image_id: int) -> None:
    item = frame.get_studio().store.image(image_id)
    if item is None:
        st.session_state[_MESSAGES] = ["This image is no longer in the gallery."]
        return
    add_from_gallery(item)


def add_from_gallery(item: GalleryItem) -> None:
    """Add a gallery image as an input, saying so if three are chosen already."""
    st.session_state[_MESSAGES] = add([EditInput.from_gallery(item)])


# Sending ------------------------------------------------------------------------


def resolve_urls(
    studio: Studio, credentials: Credentials, inputs: Sequence[EditInput]
) -> list[str]:
    """Links FoxAPI can fetch: uploads go through its upload endpoint, once per key."""
    sent: dict[str, str] = st.session_state.setdefault(_SENT_URLS, {})
    urls = []
    for item in inputs:
        if item.kind == "url" and item.url:
            urls.append(item.url)
            continue
        cache_key = f"{item.identity}|{credentials.key_id}"
        url = sent.get(cache_key)
        if url is None:
            url = _fetchable_url(studio, credentials, item)
            sent[cache_key] = url
        urls.append(url)
    return urls


def _fetchable_url(studio: Studio, credentials: Credentials, item: EditInput) -> str:
    if item.kind == "upload" and item.image is not None:
        return studio.engine.upload(item.image, credentials)
    gallery_item = studio.store.image(item.image_id) if item.image_id is not None else None
    if gallery_item is None:
        raise InvalidImage(
            "A gallery image you chose is no longer in the archive. Remove it and pick another."
        )
    return studio.engine.input_url(gallery_item, credentials)
