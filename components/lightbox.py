"""One image, large, in a dialog: every setting, and what can be done with it.

Which image is open lives in the URL (`/gallery?image=ID`), so a link opens it in a new
tab; closing the dialog takes it out. Previous and Next sit above the picture, and the
Left and Right arrow keys press them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from components import (
    add_to_board,
    arrow_keys,
    frame,
    gallery_view,
    image_pickers,
    media,
    prompt_form,
    verdicts,
)
from components.gallery_view import View, close_image, open_image_id, page_of
from components.text import MODE_LABELS, escape_markdown, excerpt, plural, when
from studio import formats
from studio.people import NotAllowed
from studio.records import GalleryItem, InputAsset
from studio.request import DEFAULT_ASPECT_RATIO, Mode

UPLOAD_ALT = "An uploaded input image"


def show_if_open(view: View) -> None:
    """The dialog, when the URL names an image; its neighbours are those of `view`."""
    image_id = open_image_id()
    if image_id is None:
        return
    # Heard on the page: Streamlit's button shortcuts do not reach into a dialog.
    step = arrow_keys.pressed("lightbox-arrow-keys")
    index = frame.studio().gallery.gallery_position(view.filter, image_id) if step else None
    if index is not None:
        _step(view, index, step)
    _lightbox(view)


@st.dialog("Image", width="large", on_dismiss=close_image)
def _lightbox(view: View) -> None:
    # Read afresh on every run of the dialog: Previous and Next rerun it alone.
    image_id = open_image_id()
    service = frame.studio()
    item = service.gallery.image(image_id) if image_id is not None else None
    if item is None:
        if image_id is not None and service.gallery.may_see_image(image_id) is False:
            st.warning("This image is not yours to see.", icon=":material/lock:")
        else:
            st.info("This image is no longer in the gallery.")
        return
    _previous_next(view, service.gallery.gallery_position(view.filter, item.image.id))
    picture, details = st.columns([3, 2], gap="medium")
    with picture:
        media.original(item.image, item.job.prompt)
    with details:
        st.caption("Prompt (the button in its corner copies it)")
        st.code(item.job.prompt, language=None, wrap_lines=True)
        st.markdown(_settings(item))
        _actions(item)
        _reviews(item)
    _lineage(item)


def _reviews(item: GalleryItem) -> None:
    """What reviewers said about it, when any did."""
    said = frame.studio().boards.verdicts([item.image.id]).get(item.image.id)
    if said is not None and said.notes:
        st.markdown("**Reviews**")
        name = f"“{excerpt(item.job.prompt, 60)}”"
        verdicts.notes(said, item.image.id, scope="lightbox", name=name)


def _lineage(item: GalleryItem) -> None:
    """What this image was edited from and into, and it beside its first input."""
    lineage = frame.studio().gallery.lineage(item.image.id)
    if lineage.made_from:
        st.markdown("**Made from**")
        for column, parent in zip(st.columns(4), lineage.made_from[:4], strict=False):
            with column:
                _relative(parent)
    if lineage.children:
        st.markdown("**Edited into**")
        for column, child in zip(st.columns(4), lineage.children[:4], strict=False):
            with column:
                _relative(child)
    if lineage.links:
        st.caption("Made from images outside the gallery:")
        for url in lineage.links:
            st.text(url, wrap=False)
    if lineage.missing:
        missing = plural(lineage.missing, "input image")
        st.caption(f"Not shown: {missing}, deleted since or not yours to see.")
    before = lineage.before
    if before is not None:
        with st.expander("Before and after", icon=":material/compare:"):
            left, right = st.columns(2)
            with left:
                st.caption("Before")
                if isinstance(before, InputAsset):
                    media.input_original(before, UPLOAD_ALT)
                else:
                    media.original(before.image, before.job.prompt)
            with right:
                st.caption("After")
                media.original(item.image, item.job.prompt)


def _relative(relative: GalleryItem | InputAsset) -> None:
    """A parent or child as a thumbnail: a gallery image opens; an upload is shown."""
    if isinstance(relative, InputAsset):
        media.input_thumbnail(relative, UPLOAD_ALT)
        st.caption(f"Upload, {relative.width} x {relative.height} px")
        return
    media.thumbnail(relative.image, relative.job.prompt)
    st.button(
        "Open",
        key=f"lineage-open-{relative.image.id}",
        on_click=gallery_view.open_image,
        args=(relative.image.id,),
        help=f"Open “{excerpt(relative.job.prompt, 60)}”",
    )


def _settings(item: GalleryItem) -> str:
    job, image = item.job, item.image
    rows = [("Mode", MODE_LABELS[job.mode])]
    if job.mode is Mode.GENERATE:
        rows.append(("Aspect ratio", job.request.aspect_ratio or DEFAULT_ASPECT_RATIO))
    rows += [
        ("Format asked for", formats.label(job.request.output_format)),
        (
            "File",
            f"{formats.label(image.format)}, "
            f"{image.width} x {image.height} px, {_size(image.size_bytes or 0)}",
        ),
        ("Image", f"{image.position + 1} of {job.request.num_outputs}"),
        ("Made", when(job.created_at, st.context.timezone)),
    ]
    if job.task_id:
        rows.append(("FoxAPI task", job.task_id))
    if job.request.image_urls:
        rows.append(("Input images", str(len(job.request.image_urls))))
    return "\n".join(f"- **{name}:** {escape_markdown(value)}" for name, value in rows)


def _size(size_bytes: int) -> str:
    if size_bytes >= 1024 * 1024:
        return f"{size_bytes / 1024 / 1024:.1f} MB"
    return f"{max(1, round(size_bytes / 1024))} kB"


def _actions(item: GalleryItem) -> None:
    image, job = item.image, item.job
    service = frame.studio()
    st.download_button(
        "Download",
        data=lambda: service.gallery.download(item).data,
        file_name=service.gallery.download_filename(item),
        mime=formats.mime_type(image.format),
        key=f"lightbox-download-{image.id}",
        icon=":material/download:",
        on_click="ignore",
        type="primary",
        help="The original file, with its prompt and settings written inside",
    )
    issuer = service.gallery.content_credentials_issuer
    if issuer:
        st.caption(
            f"Signed with content credentials by {escape_markdown(issuer)}",
            help="A C2PA manifest inside the file says it was made by FoxAPI's "
            "grok-imagine-image through Image Studio; tools such as contentcredentials.org "
            "verify it.",
        )
    st.toggle(
        "Favourite",
        value=image.favourite,
        key=f"lightbox-favourite-{image.id}",
        on_change=_favourite_changed,
        args=(image.id,),
    )
    add_to_board.popover(
        image.id, scope=f"lightbox-board-{image.id}", name=f"“{excerpt(job.prompt, 60)}”"
    )
    reuse, edit = st.columns(2)
    if reuse.button("Reuse settings", key=f"lightbox-reuse-{image.id}", icon=":material/tune:"):
        page = prompt_form.prefill_from(job.request)
        close_image()
        st.switch_page(page)
    if edit.button("Edit this image", key=f"lightbox-edit-{image.id}", icon=":material/edit:"):
        image_pickers.add_from_gallery(image.id)
        close_image()
        st.switch_page("pages/edit.py")
    if service.gallery.may_change(job):
        _delete(item)


def _delete(item: GalleryItem) -> None:
    """Delete, once confirmed: the image alone, or its whole job."""
    image, job = item.image, item.job
    with st.popover("Delete…", icon=":material/delete:"):
        st.write("Deleting cannot be undone: the files go too.")
        st.button(
            "Delete this image",
            key=f"lightbox-delete-image-{image.id}",
            type="primary",
            on_click=_deleted,
            args=(frame.studio().gallery.delete_image, image.id),
        )
        if job.request.num_outputs > 1:
            st.button(
                f"Delete all {job.request.num_outputs} images of this job",
                key=f"lightbox-delete-job-{image.id}",
                on_click=_deleted,
                args=(frame.studio().jobs.delete_job, job.id),
            )


def _deleted(delete: Callable[[Any], None], target: int | str) -> None:
    try:
        delete(target)
    except NotAllowed as exc:
        frame.queue_toast(exc.message, ":material/block:")
        return
    close_image()
    frame.queue_toast("Deleted.", ":material/delete:")


def _favourite_changed(image_id: int) -> None:
    favourite = bool(st.session_state.get(f"lightbox-favourite-{image_id}"))
    frame.studio().gallery.set_favourite(image_id, favourite)


def _previous_next(view: View, index: int | None) -> None:
    """Previous and Next in the gallery the dialog was opened from."""
    total = frame.studio().gallery.gallery_count(view.filter)
    previous, position, following = st.columns([1, 2, 1], vertical_alignment="center")
    previous.button(
        "Previous",
        key="lightbox-previous",
        icon=":material/chevron_left:",
        disabled=index is None or index <= 0,
        on_click=_step,
        args=(view, index, -1),
    )
    if index is not None:
        position.markdown(f"{index + 1} of {plural(total, 'image')}", text_alignment="center")
    following.button(
        "Next",
        key="lightbox-next",
        icon=":material/chevron_right:",
        icon_position="right",
        disabled=index is None or index >= total - 1,
        on_click=_step,
        args=(view, index, 1),
    )


def _step(view: View, index: int | None, direction: int) -> None:
    if index is None or index + direction < 0:
        return
    target = index + direction
    neighbours = frame.studio().gallery.gallery(view.filter, limit=1, offset=target)
    if not neighbours:
        return
    gallery_view.open_image(neighbours[0].image.id)
    # Closing the dialog then shows the page of the grid this image is on.
    gallery_view.go_to_page(page_of(target))
