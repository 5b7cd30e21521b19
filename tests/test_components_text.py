"""components.text: the words pages show, and people's text kept literal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from components.text import (
    duration,
    escape_markdown,
    excerpt,
    plural,
    settings_line,
    timing_line,
    when,
)
from studio.records import GalleryFilter, JobRecord
from studio.request import GenerationRequest, Mode
from studio.runtime import Runtime
from studio.states import JobStatus
from tests.app_support import GALLERY, open_app, open_app_studio, seed_images, seed_job, shown_text

MARKUP = "**bold** <img src=x onerror=alert(1)> :red[red]"


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_prompts_are_never_read_as_markup(studio: Runtime) -> None:
    seed_images(studio.store, studio.archive, MARKUP)
    seed_job(studio.store, MARKUP, status=JobStatus.FAILED, error_message="<b>nope</b> **no**")

    app = open_app(GALLERY)

    for element in [*app.markdown, *app.caption, *app.error, *app.warning, *app.info]:
        assert "<img" not in element.value
        assert "**bold**" not in element.value
        assert "<b>" not in element.value
    assert [error.value for error in app.error] == [escape_markdown("Failed: <b>nope</b> **no**")]
    assert studio.store.gallery.gallery_count(GalleryFilter(mode=Mode.GENERATE)) == 1
    assert MARKUP in shown_text(app)


COMMONMARK = MarkdownIt("commonmark")
WORD_JOINER = "\u2060"  # invisible; stops Streamlit turning plain text into links and arrows
MOMENT = 1_700_000_000  # 14 November 2023, 22:13:20 UTC


def _shown(markdown: str) -> str:
    """The text a CommonMark reader shows for `markdown`, which must hold no markup at all."""
    tokens = COMMONMARK.parse(markdown)
    assert [token.type for token in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    children = tokens[1].children or []
    assert [child.type for child in children] == ["text"] * len(children)
    return "".join(child.content for child in children)


@pytest.mark.parametrize(
    "typed",
    [
        "**bold** and _italic_",
        "<img src=x onerror=alert(1)>",
        "<b>policy</b> &amp; co",
        "# not a heading",
        "1. not a list",
        "- not a bullet",
        "> not a quote",
        "[link](https://e.x) and ![image](x.png)",
        "`code` and ~~struck~~",
        "a | table | row",
        "back\\slash",
    ],
)
def test_escaped_text_shows_exactly_as_typed(typed: str) -> None:
    assert _shown(escape_markdown(typed)).replace(WORD_JOINER, "") == typed


@pytest.mark.parametrize("typed", [":red[red]", ":material/star:", ":tada:", "$x^2$ costs $5"])
def test_streamlits_own_colours_icons_emoji_and_latex_are_escaped(typed: str) -> None:
    escaped = escape_markdown(typed)

    assert _shown(escaped) == typed
    # Streamlit reads these from an unescaped ":", "[" or "$".
    assert re.search(r"(?<!\\)[:$\[]", escaped) is None


@pytest.mark.parametrize(
    "typed",
    [
        "see https://example.com",
        "www.example.com",
        "write to me@example.com",
        "a -> b <- c -- d >= e",
    ],
)
def test_plain_text_never_becomes_a_link_or_an_arrow(typed: str) -> None:
    shown = _shown(escape_markdown(typed))

    assert shown.replace(WORD_JOINER, "") == typed
    for trigger in ("https:", "www.", "@example", "->", "<-", "--", ">="):
        assert trigger not in shown


@pytest.mark.parametrize(
    ("text", "limit", "shown"),
    [
        ("a red fox curled up in fresh snow", 20, "a red fox curled…"),
        ("a red fox, then more words", 12, "a red fox…"),
        ("a red fox\n  in the\tsnow ", 90, "a red fox in the snow"),
        ("x" * 100, 10, "x" * 9 + "…"),
    ],
    ids=["at-a-word", "without-trailing-punctuation", "whole-on-one-line", "inside-one-long-word"],
)
def test_an_excerpt_is_cut_at_a_word_within_its_limit(text: str, limit: int, shown: str) -> None:
    assert excerpt(text, limit) == shown
    assert len(shown) <= limit


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (-5, "0 s"),
        (12, "12 s"),
        (59.4, "59 s"),
        (59.6, "1 min 00 s"),
        (65, "1 min 05 s"),
        (3599, "59 min 59 s"),
        (3600, "1 h 00 min"),
        (7380, "2 h 03 min"),
    ],
)
def test_durations_read_in_seconds_minutes_or_hours(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown


def test_a_moment_is_shown_in_the_viewers_time_zone() -> None:
    assert when(MOMENT, "UTC") == "14 Nov 2023, 22:13"
    assert when(MOMENT, "Asia/Tokyo") == "15 Nov 2023, 07:13"
    assert when(MOMENT - 10 * 86_400, "UTC") == "4 Nov 2023, 22:13"  # no leading zero


@pytest.mark.parametrize("zone", [None, "", "Mars/Olympus_Mons", "../../etc/passwd"])
def test_an_unknown_time_zone_falls_back_to_the_servers(zone: str | None) -> None:
    assert when(MOMENT, zone) == when(MOMENT)


def test_counts_are_spelt_in_the_singular_only_for_one() -> None:
    assert [plural(n, "image") for n in (0, 1, 2)] == ["0 images", "1 image", "2 images"]


def _job(
    status: JobStatus = JobStatus.DONE,
    *,
    created_at: float = 1000.0,
    submitted_at: float | None = None,
    finished_at: float | None = None,
    estimated_time: float | None = None,
    **request: object,
) -> JobRecord:
    return JobRecord(
        id="job-1",
        created_at=created_at,
        updated_at=created_at,
        request=GenerationRequest.build(prompt="a red fox", **request),
        backend="demo",
        key_id="demo",
        task_id=None,
        status=status,
        progress=0,
        error_code=None,
        error_message=None,
        credits_reserved=None,
        estimated_time=estimated_time,
        submitted_at=submitted_at,
        finished_at=finished_at,
        retry_of=None,
    )


def test_a_settings_line_names_mode_shape_format_and_count() -> None:
    wide = _job(aspect_ratio="16:9", output_format="png", num_outputs=2)
    edit = _job(image_urls=["https://e.x/a.png", "https://e.x/b.png"], output_format="jpeg")

    assert settings_line(wide) == "Text to image · 16:9 · PNG · 2 images"
    assert settings_line(_job()) == "Text to image · 1:1 · Auto · 1 image"
    assert settings_line(edit) == "Edit · 2 input images · JPG · 1 image"


def test_timing_says_elapsed_while_in_flight_and_how_long_it_took_after() -> None:
    running = _job(JobStatus.RUNNING, submitted_at=1002.0, estimated_time=45)
    queued = _job(JobStatus.QUEUED, submitted_at=1000.0)
    done = _job(JobStatus.DONE, submitted_at=1000.0, finished_at=1090.0)

    assert timing_line(running, now=1014.0) == "Elapsed 12 s · usually about 45 s"
    assert timing_line(queued, now=1065.0) == "Elapsed 1 min 05 s"
    assert timing_line(done, now=5000.0) == "Took 1 min 30 s"
    assert timing_line(_job(JobStatus.FAILED), now=1120.0) == "Sent 2 min 00 s ago"
