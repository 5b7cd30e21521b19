"""One image, large, in a dialog: its prompt and settings, and what can be done with it.

Which image is open lives in the URL (`/gallery?image=ID`), so the address bar can always
be copied and opens it again; stepping changes it and closing the dialog takes it out.
Previous and Next sit above the picture, with one counter between them; the Left and
Right arrow keys press them. What only a developer or support needs (the FoxAPI task,
file sizes, times) is folded under Details.
"""

from __future__ import annotations

import streamlit as st

from components import (
    add_to_board,
    arrow_keys,
    copy_button,
    frame,
    gallery_view,
    image_pickers,
    media,
    prompt_form,
    undo_notice,
    verdicts,
)
from components.gallery_view import View, close_image, open_image_id, page_of
from components.text import MODE_LABELS, duration, escape_markdown, excerpt, plural, when
from studio import formats
from studio.people import NotAllowed
from studio.records import GalleryItem, InputAsset
from studio.request import DEFAULT_ASPECT_RATIO, Mode

UPLOAD_ALT = "An uploaded input image"


def show_if_open(view: View) -> None:
    """The dialog, when the URL names an image; its neighbours are those of `view`."""
    if open_image_id() is not None:
        _lightbox(view)


@st.dialog("Image", width="large", on_dismiss=close_image)
def _lightbox(view: View) -> None:
    # Read afresh on every run of the dialog: Previous, Next and the arrow keys rerun it alone.
    image_id = open_image_id()
    if image_id is None:
        # Closed from inside (deleted, say): a whole run takes the dialog away.
        st.rerun()
        return
    service = frame.studio()
    item = service.gallery.image(image_id)
    if item is None:
        if service.gallery.may_see_image(image_id) is False:
            st.warning("This image is not yours to see.", icon=":material/lock:")
        elif service.gallery.trash.image(image_id) is not None:
            st.info("This image is in the Trash.", icon=":material/delete:")
            st.button(
                "Restore it",
                key="lightbox-restore",
                icon=":material/restore_from_trash:",
                on_click=_restore,
                args=(image_id,),
            )
        else:
            st.info("This image is no longer in the gallery.")
        return
    index = service.gallery.gallery_position(view.filter, item.image.id)
    _previous_next(view, index)
    picture, details = st.columns([3, 2], gap="medium")
    with picture:
        media.original(item.image, item.job.prompt)
    with details:
        st.markdown("**Prompt**")
        st.text(item.job.prompt)
        copy_button.copy_button("Copy prompt", item.job.prompt, key="lightbox-copy-prompt")
        st.markdown(_settings(item))
        _actions(item)
        _reviews(item)
        with st.expander("Details", icon=":material/info:"):
            st.markdown(_details(item))
    _lineage(item)
    _arrow_keys(view, index)


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
    """What a person chose and when: the rest is under Details."""
    job = item.job
    rows = [("Mode", MODE_LABELS[job.mode])]
    if job.mode is Mode.GENERATE:
        rows.append(("Aspect ratio", job.request.aspect_ratio or DEFAULT_ASPECT_RATIO))
    rows.append(("Made", when(job.created_at, st.context.timezone)))
    return _rows(rows)


def _details(item: GalleryItem) -> str:
    """The file, the job it came from and its times: for support, a bug report, a bill."""
    job, image = item.job, item.image
    rows = [
        (
            "File",
            f"{formats.label(image.format)}, "
            f"{image.width} x {image.height} px, {_size(image.size_bytes or 0)}",
        ),
        ("Format asked for", formats.label(job.request.output_format)),
        ("Image of its job", f"{image.position + 1} of {job.request.num_outputs}"),
    ]
    if job.request.image_urls:
        rows.append(("Input images", str(len(job.request.image_urls))))
    if job.task_id:
        rows.append(("FoxAPI task", job.task_id))
    rows.append(("Sent", when(job.submitted_at or job.created_at, st.context.timezone)))
    if job.finished_at is not None:
        took = job.finished_at - (job.submitted_at or job.created_at)
        finished = when(job.finished_at, st.context.timezone)
        rows.append(("Finished", f"{finished} (took {duration(took)})"))
    return _rows(rows)


def _rows(rows: list[tuple[str, str]]) -> str:
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
    """Delete at once: the image (or its whole job's) goes to the Trash, the dialog closes,
    and the notice that follows offers Undo."""
    image, job = item.image, item.job
    keep_days = frame.studio().gallery.trash.keep_days
    with st.container(horizontal=True, gap="small"):
        st.button(
            "Delete",
            key=f"lightbox-delete-image-{image.id}",
            icon=":material/delete:",
            on_click=_deleted,
            args=([image.id],),
            help=f"Moves it to the Trash, where it stays {keep_days} days; Undo follows",
        )
        if job.request.num_outputs > 1:
            saved = [kept.id for kept in frame.studio().gallery.saved_images(job.id)]
            if len(saved) > 1:
                st.button(
                    f"Delete all {len(saved)} of this job",
                    key=f"lightbox-delete-job-{image.id}",
                    icon=":material/delete_sweep:",
                    type="tertiary",
                    on_click=_deleted,
                    args=(saved,),
                    help="Moves every image of this job to the Trash",
                )


def _deleted(image_ids: list[int]) -> None:
    try:
        moved = frame.studio().gallery.trash.move(image_ids)
    except NotAllowed as exc:
        frame.queue_toast(exc.message, ":material/block:")
        return
    close_image()  # the dialog's run that follows sees no image and closes it
    undo_notice.offer(moved)


def _restore(image_id: int) -> None:
    frame.studio().gallery.trash.restore([image_id])


def _favourite_changed(image_id: int) -> None:
    favourite = bool(st.session_state.get(f"lightbox-favourite-{image_id}"))
    frame.studio().gallery.set_favourite(image_id, favourite)


def _previous_next(view: View, index: int | None) -> None:
    """Previous and Next in the gallery the dialog was opened from, and where it is in it
    (one row, on a phone too); Left and Right press them."""
    total = frame.studio().gallery.gallery_count(view.filter)
    with st.container(
        horizontal=True, horizontal_alignment="distribute", vertical_alignment="center"
    ):
        st.button(
            "Previous",
            key="lightbox-previous",
            icon=":material/chevron_left:",
            disabled=index is None or index <= 0,
            on_click=_step,
            args=(view, index, -1),
        )
        if index is not None:
            st.markdown(f"{index + 1} of {total}", width="content")
        st.button(
            "Next",
            key="lightbox-next",
            icon=":material/chevron_right:",
            icon_position="right",
            disabled=index is None or index >= total - 1,
            on_click=_step,
            args=(view, index, 1),
        )


def _arrow_keys(view: View, index: int | None) -> None:
    """Left and Right, heard on the whole page but drawn in the dialog, so a key press
    reruns the dialog alone; the pictures either side are fetched ahead."""
    around = (
        frame.studio().gallery.gallery(view.filter, limit=3, offset=max(0, index - 1))
        if index is not None
        else []
    )
    links = [media.link(item.image, "original") for item in around]
    arrow_keys.pressed(
        "lightbox-arrow-keys",
        on_step=lambda step: _step(view, index, step),
        prefetch=[link for link in links if link is not None],
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
