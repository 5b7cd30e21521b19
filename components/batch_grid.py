"""A sweep as a labelled grid: one row per prompt variant, one column per ratio."""

from __future__ import annotations

from functools import partial

import streamlit as st

from components import frame, media
from components.submission import latest_batch
from components.text import excerpt, plural, status_words
from studio.records import JobRecord
from studio.states import JobStatus


def latest() -> None:
    """The sweep this session sent last, if it sent one."""
    batch_id = latest_batch.get()
    if not batch_id:
        return
    jobs = frame.studio().jobs.batch(batch_id)
    if len(jobs) < 2:
        return
    prompts = list(dict.fromkeys(job.prompt for job in jobs))
    ratios = list(dict.fromkeys(job.request.aspect_ratio or "" for job in jobs))
    cells = {(job.prompt, job.request.aspect_ratio or ""): job for job in jobs}
    images = sum(job.request.num_outputs for job in jobs)
    st.subheader("Latest sweep")
    st.caption(
        f"{plural(len(prompts), 'variant')} x {plural(len(ratios), 'ratio')}: "
        f"{plural(images, 'image')}"
    )
    service = frame.studio()
    for kind in ("png", "pdf"):
        st.download_button(
            f"Contact sheet ({kind.upper()})",
            data=partial(service.jobs.contact_sheet, batch_id, kind),
            file_name=f"image-studio-sweep-{batch_id[:8]}.{kind}",
            mime="application/pdf" if kind == "pdf" else "image/png",
            key=f"sweep-sheet-{kind}",
            icon=":material/grid_view:",
            on_click="ignore",
            help="Every image of the sweep, numbered, with its prompt and ratio",
        )
    header = st.columns([2, *[3] * len(ratios)])
    header[0].markdown("**Prompt**")
    for column, ratio in zip(header[1:], ratios, strict=True):
        column.markdown(f"**{ratio}**")
    for prompt in prompts:
        row = st.columns([2, *[3] * len(ratios)], vertical_alignment="center")
        row[0].text(excerpt(prompt, 120))
        for column, ratio in zip(row[1:], ratios, strict=True):
            with column:
                job = cells.get((prompt, ratio))
                if job is not None:
                    _cell(job)


def _cell(job: JobRecord) -> None:
    saved = frame.studio().gallery.saved_images(job.id) if job.status is JobStatus.DONE else []
    if saved:
        media.thumbnail(saved[0], job.prompt)
    else:
        st.caption(status_words(job, key_available=frame.studio().jobs.has_key_for(job)))
