"""Words the pages show: status in plain language, times, and text kept literal.

Prompts and FoxAPI's messages are typed by people, so wherever Streamlit would read
them as Markdown they are escaped first: `**bold**` and `<img ...>` show as typed.
"""

from __future__ import annotations

import contextlib
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from studio import formats, states
from studio.records import JobRecord
from studio.request import DEFAULT_ASPECT_RATIO, Mode
from studio.states import JobStatus

FIELD_LABELS = {
    "prompt": "Prompt",
    "num_outputs": "Images",
    "aspect_ratio": "Aspect ratio",
    "output_format": "Format",
    "image_urls": "Input images",
}
MODE_LABELS = {Mode.GENERATE: "Text to image", Mode.EDIT: "Edit"}

# Every character that starts Markdown, HTML, an entity, a Streamlit directive
# (:red[...], :material/...:, emoji short codes) or LaTeX ($).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")
# Two things Streamlit's Markdown does to plain text even when escaped: bare links and
# e-mail addresses become links, and -> <- -- >= <= ~= become arrows and dashes. An
# invisible word joiner inside the pattern keeps the text exactly as typed.
_WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)\b(www|https?|ftp|mailto|xmpp)(?=[.:])|(@)")
_TYPOGRAPHY = re.compile(r"([-<>~=])(?=[-<>=])")


def escape_markdown(text: str) -> str:
    """`text` that Streamlit's Markdown shows exactly as typed: no markup, links or arrows."""
    text = _AUTOLINK.sub(lambda match: match.group(0) + _WORD_JOINER, text)
    text = _TYPOGRAPHY.sub(r"\1" + _WORD_JOINER, text)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def excerpt(text: str, limit: int) -> str:
    """The first line of `text`, cut at a word near `limit` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,.;:") + "…"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def duration(seconds: float) -> str:
    """12 s, 1 min 05 s, 2 h 03 min."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def when(timestamp: float, timezone: str | None = None) -> str:
    """A date and time people read at a glance, in the viewer's time zone when known."""
    moment = datetime.fromtimestamp(timestamp).astimezone()
    if timezone:
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
            moment = moment.astimezone(ZoneInfo(timezone))
    return f"{moment.day} {moment:%b %Y, %H:%M}"


def settings_line(job: JobRecord) -> str:
    """ "Text to image · 16:9 · PNG · 2 images": fixed words only, safe as Markdown."""
    request = job.request
    parts = [MODE_LABELS[job.mode]]
    if job.mode is Mode.GENERATE:
        parts.append(request.aspect_ratio or DEFAULT_ASPECT_RATIO)
    else:
        parts.append(plural(len(request.image_urls), "input image"))
    parts.append(formats.label(request.output_format))
    parts.append(plural(request.num_outputs, "image"))
    return " · ".join(parts)


def status_words(job: JobRecord, *, key_available: bool = True) -> str:
    return states.status_words(
        job.status,
        progress=job.progress,
        error_message=job.error_message,
        key_available=key_available,
    )


def timing_line(job: JobRecord, now: float | None = None) -> str:
    """Elapsed time against FoxAPI's estimate while in flight; how long it took after."""
    now = time.time() if now is None else now
    started = job.submitted_at or job.created_at
    if job.in_flight:
        line = f"Elapsed {duration(now - started)}"
        if job.estimated_time:
            line += f" · usually about {duration(job.estimated_time)}"
        return line
    if job.status is JobStatus.DONE and job.finished_at:
        return f"Took {duration(job.finished_at - started)}"
    return f"Sent {duration(now - job.created_at)} ago"
