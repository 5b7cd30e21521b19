"""Jobs in flight, drawn and kept current by the browser: the server reruns only on change.

The browser asks the studio's progress route once a second (a small JSON answer, no
script run) and redraws each job's slots: placeholders at the images' ratio with the
status, a progress bar and the time, ticking between answers. When a job leaves
flight, or a new one appears where the area shows every job, it asks the server for
one full rerun, so finished images join the page. Texts are set as text, never HTML.

That rerun never swallows a person's click: Streamlit lets a newer rerun request
supersede one still pending or running (the click's trigger dropped, or the page of a
link followed replaced by the page being left), so the area holds its request while a
run is going and after a pointer or key press until that input's run has come and gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import streamlit as st

from components.component_data import component_data
from studio.service import JobProgress

POLL_MILLISECONDS = 1000

_HERE = Path(__file__).parent
_component = st.components.v2.component(
    "image_studio.live_progress",
    css=(_HERE / "live_progress.css").read_text(),
    js=(_HERE / "live_progress.js").read_text(),
)


@dataclass(frozen=True)
class LiveJob:
    """What the area shows of a job: fixed words from the page, its state from the route."""

    prompt: str
    settings: str
    images: int
    width: int
    height: int
    state: JobProgress


def live_progress(
    key: str,
    url: str,
    jobs: Sequence[LiveJob],
    *,
    every_job: bool = False,
    compact: bool = False,
    columns: int = 0,
) -> None:
    """Mount the area; the browser reruns the page (or the fragment holding the area) when
    a job it shows changes state. Areas given one `url` share one request a second (it
    may answer for more jobs than this area shows); `every_job`: it answers for every job
    in flight, and a new one is news too. `compact`: the placeholders, status and time
    alone (the page shows the prompt), `columns` of them a row (0: all in one row)."""
    _component(
        key=key,
        data=component_data(
            {
                "url": url,
                "poll": POLL_MILLISECONDS,
                "jobs": [_flat(job) for job in jobs],
                "everyJob": every_job,
                "compact": compact,
                "columns": columns,
            }
        ),
        on_changed_change=lambda: None,
    )


def _flat(job: LiveJob) -> dict[str, object]:
    """One object a job for the script: its words and its state side by side."""
    fields = asdict(job)
    return {**fields.pop("state"), **fields}
