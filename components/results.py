"""One result image, large at its own ratio, with what comes next.

Every image has Open, Download, Favourite, Edit this image and More like this (the
same request again, its price on the button's help). Every button names its image in
its help, so a screen reader's list of buttons tells them apart. In a sweep's grid the
buttons are icons alone (their words stay their names for assistive technology).
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from components import confirmation, frame, gallery_view, image_pickers, media, submission
from components.state import SessionValue
from components.text import excerpt, plural
from studio.credentials import Backend
from studio.records import ImageRecord, JobRecord
from studio.service import Submission

# The image (its feed's scope and id) whose More like this waits for a yes.
_confirm_again: SessionValue[tuple[str, int] | None] = SessionValue("confirm_again", lambda: None)


def result(job: JobRecord, image: ImageRecord, scope: str, *, compact: bool = False) -> None:
    """The image at the width of its column, its five actions in a row under it."""
    service = frame.studio()
    name = f"image {image.position + 1} of “{excerpt(job.prompt, 60)}”"
    key = f"{scope}-result-{image.id}"
    media.original(image, job.prompt)
    actions = st.container(
        horizontal=True, gap="small", key=f"{key}-actions{'-compact' if compact else ''}"
    )
    with actions:
        if st.button(
            "Open",
            key=f"{key}-open",
            icon=":material/open_in_full:",
            help=f"Open {name} with its settings",
            width="content",
        ):
            # The dialog is the page's, outside the feed's fragment: the whole page runs.
            gallery_view.open_image(image.id)
            st.rerun(scope="app")
        item = service.gallery.image(image.id)
        if item is not None:
            st.download_button(
                "Download",
                data=lambda: service.gallery.download(item).data,
                file_name=service.gallery.download_filename(item),
                mime=service.gallery.mime_type(image),
                key=f"{key}-download",
                icon=":material/download:",
                on_click="ignore",
                help=f"Download {name}, its prompt and settings inside",
                width="content",
            )
        st.button(
            "Unfavourite" if image.favourite else "Favourite",
            key=f"{key}-favourite",
            icon=":material/star:" if image.favourite else ":material/star_border:",
            on_click=service.gallery.set_favourite,
            args=(image.id, not image.favourite),
            help=f"{'Remove' if image.favourite else 'Mark'} {name} as a favourite",
            width="content",
        )
        if st.button(
            "Edit this image",
            key=f"{key}-edit",
            icon=":material/edit:",
            help=f"Use {name} as the input of an edit",
            width="content",
        ):
            image_pickers.add_from_gallery(image.id)
            st.switch_page("pages/edit.py")
        credentials = frame.session_credentials()
        st.button(
            "More like this",
            key=f"{key}-again",
            icon=":material/autorenew:",
            on_click=_more_like_this,
            args=(job, scope, image.id),
            help=f"Send the request behind {name} again: {_price(job, credentials.backend)}",
            width="content",
        )
    if _confirm_again.get() == (scope, image.id):
        images = job.request.num_outputs
        confirmation.ask(
            key=f"{key}-again",
            jobs=1,
            images=images,
            price=plural(images, "image"),
            sweep=False,
            demo=credentials.backend is Backend.DEMO,
            on_confirm=partial(_confirmed, job, scope, image.id),
            on_cancel=_confirm_again.clear,
        )


def _price(job: JobRecord, backend: Backend) -> str:
    images = plural(job.request.num_outputs, "image")
    if backend is Backend.DEMO:
        return f"{images}, drawn by the demo backend for nothing"
    return f"{images} billed by FoxAPI"


def _more_like_this(job: JobRecord, scope: str, image_id: int) -> None:
    """The same request again; above the confirmation threshold, once the person says yes."""
    if confirmation.above_threshold(job.request.num_outputs):
        _confirm_again.set((scope, image_id))
        return
    _send_again(job, scope)


def _confirmed(job: JobRecord, scope: str, image_id: int) -> None:
    # Taken out first: a second click of the same button finds nothing to send.
    if _confirm_again.get() != (scope, image_id):
        return
    _confirm_again.clear()
    _send_again(job, scope)


def _send_again(job: JobRecord, scope: str) -> None:
    again = Submission(job.request)
    credentials = frame.session_credentials()
    service = frame.studio()
    submission.send_once(
        scope, again.fingerprint(credentials), lambda: service.jobs.send(again, credentials)
    )
