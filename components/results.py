"""This session's latest results, large, right under the form, each with what comes next.

Two images to a row, so each is over 320 px on a 1440 px screen, at its true ratio.
Every image has Open, Download, Favourite, Edit this image and More like this (the
same request again, its price on the button's help). Every button names its image in
its help, so a screen reader's list of buttons tells them apart.
"""

from __future__ import annotations

import streamlit as st

from components import frame, gallery_view, image_pickers, media, submission
from components.text import escape_markdown, excerpt, plural
from studio.credentials import Backend
from studio.records import ImageRecord, JobRecord
from studio.service import Submission

COLUMNS = 2


def latest(job: JobRecord, scope: str) -> None:
    """The images of `job`, large, with their actions; a note for any that expired."""
    images = frame.studio().gallery.saved_images(job.id)
    st.markdown(f"**{plural(len(images), 'result')}**")
    for start in range(0, len(images), COLUMNS):
        row = images[start : start + COLUMNS]
        for column, image in zip(st.columns(COLUMNS), row, strict=False):
            with column:
                _result(job, image, scope)
    if job.error_message:  # what it lacks: a refused result, results it did not keep
        st.caption(escape_markdown(job.error_message))
    missing = job.request.num_outputs - len(images)
    if missing:
        st.caption(f"{plural(missing, 'image')} expired before the studio could save it.")


def _result(job: JobRecord, image: ImageRecord, scope: str) -> None:
    service = frame.studio()
    name = f"image {image.position + 1} of “{excerpt(job.prompt, 60)}”"
    key = f"{scope}-result-{image.id}"
    with st.container(border=True):
        media.original(image, job.prompt)
        opener, download, favourite = st.columns(3)
        opener.button(
            "Open",
            key=f"{key}-open",
            icon=":material/open_in_full:",
            on_click=gallery_view.open_image,
            args=(image.id,),
            help=f"Open {name} with its settings",
            width="stretch",
        )
        item = service.gallery.image(image.id)
        if item is not None:
            download.download_button(
                "Download",
                data=lambda: service.gallery.download(item).data,
                file_name=service.gallery.download_filename(item),
                mime=service.gallery.mime_type(image),
                key=f"{key}-download",
                icon=":material/download:",
                on_click="ignore",
                help=f"Download {name}, its prompt and settings inside",
                width="stretch",
            )
        favourite.button(
            "Unfavourite" if image.favourite else "Favourite",
            key=f"{key}-favourite",
            icon=":material/star:" if image.favourite else ":material/star_border:",
            on_click=service.gallery.set_favourite,
            args=(image.id, not image.favourite),
            help=f"{'Remove' if image.favourite else 'Mark'} {name} as a favourite",
            width="stretch",
        )
        edit, again = st.columns(2)
        if edit.button(
            "Edit this image",
            key=f"{key}-edit",
            icon=":material/edit:",
            help=f"Use {name} as the input of an edit",
            width="stretch",
        ):
            image_pickers.add_from_gallery(image.id)
            st.switch_page("pages/edit.py")
        credentials = frame.session_credentials()
        again.button(
            "More like this",
            key=f"{key}-again",
            icon=":material/autorenew:",
            on_click=_more_like_this,
            args=(job, scope),
            help=f"Send the request behind {name} again: {_price(job, credentials.backend)}",
            width="stretch",
        )


def _price(job: JobRecord, backend: Backend) -> str:
    images = plural(job.request.num_outputs, "image")
    if backend is Backend.DEMO:
        return f"{images}, drawn by the demo backend for nothing"
    return f"{images} billed by FoxAPI"


def _more_like_this(job: JobRecord, scope: str) -> None:
    again = Submission(job.request)
    credentials = frame.session_credentials()
    service = frame.studio()
    submission.send_once(
        scope, again.fingerprint(credentials), lambda: service.jobs.send(again, credentials)
    )
