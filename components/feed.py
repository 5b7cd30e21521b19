"""The studio's results feed: the person's recent work beside the controls, newest first.

One card per submission: a job's images large at their own ratio (placeholders at that
ratio while it runs, with its status and time), a sweep as one grid of variants by
ratios. The feed reads the store, so a reload or another tab shows the same; it is a
fragment, so a job finishing (the live areas ask for a rerun) redraws the feed alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components import frame, image_pickers, job_cards, results, submission, tab_title
from components.component_data import component_data
from components.live_progress import LiveJob, live_progress
from components.text import escape_markdown, excerpt, plural, settings_line, timing_line
from studio.credentials import Backend
from studio.records import GalleryFilter, ImageRecord, JobRecord
from studio.request import DEFAULT_ASPECT_RATIO, RATIO_PIXELS, Mode
from studio.service import JobProgress
from studio.states import ImageStatus, JobStatus

FEED_JOBS = 80  # the jobs read for the feed: a few submissions, sweeps of 12 jobs included
FEED_SUBMISSIONS = 6  # cards in the feed; the Gallery keeps everything
# The demo backend fetches none of an edit's links: it edits its own files (the uploads
# it was sent), or a grey placeholder when there are none.
DEMO_PLACEHOLDER_NOTE = (
    "Drawn by the demo backend from a grey placeholder: it does not fetch pictures from "
    "other addresses, so the input links were not used."
)
DEMO_LEFT_OUT_NOTE = (
    "The demo backend does not fetch pictures from other addresses: the input links were "
    "left out of this edit."
)
CONTROLS = "studio-controls"  # appearance.css keeps the column holding it in place
FEED = "studio-feed"

_scroller = st.components.v2.component(
    "image_studio.feed_scroll", js=(Path(__file__).parent / "feed_scroll.js").read_text()
)


@dataclass(frozen=True)
class Entry:
    """One submission: a single job, or the jobs of one sweep (in the sweep's own order)."""

    jobs: tuple[JobRecord, ...]

    @property
    def key(self) -> str:
        return self.jobs[0].origin.batch_id or self.jobs[0].id

    @property
    def is_sweep(self) -> bool:
        # Only a sweep's jobs share a batch (its grid reads them all, even if the feed's
        # read of recent jobs cut it short).
        return self.jobs[0].origin.batch_id is not None

    @property
    def in_flight(self) -> bool:
        return any(job.in_flight for job in self.jobs)


@dataclass(frozen=True)
class Running:
    """The feed's jobs in flight: where each stands, and the one link the browser asks
    about all of them (one request a second for the page, however many cards show)."""

    states: Mapping[str, JobProgress]
    url: str


def submissions(jobs: Sequence[JobRecord]) -> list[Entry]:
    """`jobs` (newest first) as submissions, newest first: a sweep's jobs side by side."""
    grouped: dict[str, list[JobRecord]] = {}
    for job in jobs:
        grouped.setdefault(job.origin.batch_id or job.id, []).append(job)
    # A sweep's jobs are sent in its order; newest first, they arrive reversed.
    return [Entry(tuple(reversed(group))) for group in grouped.values()]


def studio_columns() -> tuple[DeltaGenerator, DeltaGenerator]:
    """The controls in a left column that stays put, and the feed beside them (stacked on a
    phone, the controls first)."""
    controls, work = st.columns([4, 7], gap="large")
    return controls.container(key=CONTROLS), work.container(key=FEED)


def show(mode: Mode) -> None:
    """The feed of `mode`'s submissions (Generate's or Edit's)."""
    _feed(mode.value)


@st.fragment
def _feed(mode_value: str) -> None:
    mode = Mode(mode_value)
    scope = f"recent-{mode.value}"
    service = frame.studio()
    hidden = job_cards.hidden_jobs()
    jobs = [
        job
        for job in service.jobs.recent_jobs(FEED_JOBS)
        if job.mode is mode and not (job.id in hidden and not job.origin.batch_id)
    ]
    entries = submissions(jobs)[:FEED_SUBMISSIONS]
    submission.show_feedback(scope)  # what More like this met, if it was refused
    running = [job for entry in entries for job in entry.jobs if job.in_flight]
    job_cards.announce_finished(f"feed-{mode.value}", running)
    flying = Running(
        {state.id: state for state in service.jobs.progress([job.id for job in running])},
        service.jobs.progress_link([job.id for job in running], frame.viewer()),
    )
    if not entries:
        st.caption(
            "Your images will appear here, newest first."
            if mode is Mode.GENERATE
            else "Your edits will appear here, newest first."
        )
    for entry in entries:
        with st.container(border=True, key=f"feed-{entry.key}"):
            if entry.is_sweep:
                _sweep(entry, scope, flying)
            else:
                _single(entry.jobs[0], scope, flying)
    # On a phone the feed is under the controls: the browser brings a new submission, and
    # then its images, into view. (Mounted on an empty feed too, so the first counts.)
    newest = entries[0] if entries else None
    _scroller(
        key="feed-scroll",
        data=component_data(
            {
                "feed": mode.value,
                "target": f"feed-{newest.key}" if newest else "",
                "mark": f"{newest.key} {'running' if newest.in_flight else 'done'}"
                if newest
                else "",
            }
        ),
    )
    # The sidebar's counters and the tab's title follow the feed's own reruns too.
    frame.counters_from_fragment()
    tab_title.show(
        running=service.jobs.count_in_flight(),
        images=service.gallery.gallery_count(GalleryFilter(mine=True)),
        key="tab-title-feed",
    )


# A single job ----------------------------------------------------------------------


def _single(job: JobRecord, scope: str, flying: Running) -> None:
    st.text(excerpt(job.prompt, 240))
    if job.in_flight:
        st.caption(settings_line(job))
        _live(job, flying, columns=_columns(job.request.num_outputs, _ratio(job)))
        return
    if job.status is not JobStatus.DONE:
        st.caption(f"{settings_line(job)} · {timing_line(job)}")
        job_cards.failure(job, key=f"{scope}-{job.id}")
        return
    st.caption(f"{settings_line(job)} · {timing_line(job)}")
    if job.backend == Backend.DEMO:
        _demo_edit_note(job)
    images = frame.studio().gallery.saved_images(job.id)
    if images:
        width, height = _pixels(images[0], job)
        count = _columns(len(images), (width, height))
        for start in range(0, len(images), count):
            row = images[start : start + count]
            for column, image in zip(st.columns(count), row, strict=False):
                with column:
                    results.result(job, image, scope)
    _shortfall(job, len(images))


def _demo_edit_note(job: JobRecord) -> None:
    """What the demo backend made of an edit's links it would not fetch, said plainly."""
    unfetched = [url for url in job.request.image_urls if image_pickers.demo_cannot_fetch(url)]
    if not unfetched:
        return
    every = len(unfetched) == len(job.request.image_urls)
    st.caption(DEMO_PLACEHOLDER_NOTE if every else DEMO_LEFT_OUT_NOTE)


def _shortfall(job: JobRecord, saved: int) -> None:
    if job.error_message:  # what it lacks: a refused result, results it did not keep
        st.caption(escape_markdown(job.error_message))
    if job.request.num_outputs <= saved:
        return
    statuses = frame.studio().gallery.image_statuses(job.id)
    if trashed := statuses[ImageStatus.TRASHED]:
        st.caption(f"{plural(trashed, 'image')} moved to the Trash.")
    if expired := statuses[ImageStatus.EXPIRED]:
        st.caption(f"{plural(expired, 'image')} expired before the studio could save it.")
    emptied = job.request.num_outputs - sum(statuses.values())
    if emptied > 0 and not job.error_message:  # else the message says what never came
        st.caption(f"{plural(emptied, 'image')} deleted for good from the Trash.")


def _ratio(job: JobRecord) -> tuple[int, int]:
    # An edit keeps its input's shape, unknown here: its placeholders are square.
    return RATIO_PIXELS[job.request.aspect_ratio or DEFAULT_ASPECT_RATIO]


def _pixels(image: ImageRecord, job: JobRecord) -> tuple[int, int]:
    if image.width and image.height:
        return image.width, image.height
    return _ratio(job)


def _columns(count: int, size: tuple[int, int]) -> int:
    """Side by side: up to four tall images, two square ones; wide ones one under the
    other, unless there are four (each stays over 320 px wide at 1440 px)."""
    width, height = size
    if height > width:
        return min(count, 4)
    if width > height:
        return 2 if count > 2 else 1
    return min(count, 2)


def _live(job: JobRecord, flying: Running, *, columns: int) -> None:
    """The job's placeholders at its ratio, its status and time, kept current by the browser."""
    state, url = flying.states.get(job.id), flying.url
    if state is None:  # a sweep's job beyond the jobs the feed read: a link of its own
        service = frame.studio()
        (state,) = service.jobs.progress([job.id])
        url = service.jobs.progress_link([job.id], frame.viewer())
    width, height = _ratio(job)
    live_progress(
        f"live-{job.id}",
        url,
        [
            LiveJob(
                prompt=excerpt(job.prompt, 240),
                settings=settings_line(job),
                images=job.request.num_outputs,
                width=width,
                height=height,
                state=state,
            )
        ],
        compact=True,
        columns=columns,
    )


# A sweep ---------------------------------------------------------------------------


def _sweep(entry: Entry, scope: str, flying: Running) -> None:
    """One grid: a row per prompt variant, a column per ratio, every image in its cell."""
    service = frame.studio()
    batch_id = entry.key
    jobs = service.jobs.batch(batch_id) or list(entry.jobs)
    prompts = list(dict.fromkeys(job.prompt for job in jobs))
    ratios = list(dict.fromkeys(job.request.aspect_ratio or DEFAULT_ASPECT_RATIO for job in jobs))
    cells = {(job.prompt, job.request.aspect_ratio or DEFAULT_ASPECT_RATIO): job for job in jobs}
    images = sum(job.request.num_outputs for job in jobs)
    st.text(excerpt(jobs[0].prompt, 240) if len(prompts) == 1 else _pattern(prompts))
    st.caption(
        f"Sweep: {plural(len(prompts), 'variant')} x {plural(len(ratios), 'ratio')}: "
        f"{plural(images, 'image')}"
    )
    with st.container(horizontal=True, gap="small"):
        for kind in ("png", "pdf"):
            st.download_button(
                f"Contact sheet ({kind.upper()})",
                data=partial(service.jobs.contact_sheet, batch_id, kind),
                file_name=f"image-studio-sweep-{batch_id[:8]}.{kind}",
                mime="application/pdf" if kind == "pdf" else "image/png",
                key=f"{scope}-sweep-{batch_id}-sheet-{kind}",
                icon=":material/grid_view:",
                on_click="ignore",
                help="Every image of the sweep, numbered, with its prompt and ratio",
            )
    for prompt in prompts:
        if len(prompts) > 1:
            st.markdown(f"**{escape_markdown(excerpt(prompt, 120))}**")
        for column, ratio in zip(st.columns(len(ratios)), ratios, strict=True):
            with column:
                st.caption(ratio)
                job = cells.get((prompt, ratio))
                if job is not None:
                    _cell(job, scope, flying)


def _pattern(prompts: Sequence[str]) -> str:
    return " / ".join(excerpt(prompt, 80) for prompt in prompts)


def _cell(job: JobRecord, scope: str, flying: Running) -> None:
    if job.in_flight:
        _live(job, flying, columns=1)
        return
    if job.status is not JobStatus.DONE:
        job_cards.failure(job, key=f"{scope}-{job.id}")
        return
    saved = frame.studio().gallery.saved_images(job.id)
    for image in saved:
        results.result(job, image, scope, compact=True)
    _shortfall(job, len(saved))
