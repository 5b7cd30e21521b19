"""The review as a presentation: one image fitted to the screen, the verdict bar pinned
under it, the count of what is reviewed, and the summary with Send my review.

Fitting is CSS on the slide's own keyed container: never taller than the screen less
the bar (dvh, so a phone's address bar is allowed for), never wider than the page, and
at most the image's own pixels (width and height auto: nothing is upscaled). The rest of
the screen is the page's own background.
"""

from __future__ import annotations

import streamlit as st

from components.text import plural, when
from studio.records import ReviewImage, ReviewNote
from studio.service import Review, ReviewGone

SLIDE = "review-slide"
BAR = "review-bar"
SUMMARY = "review-summary"
SEND = "review-send"
# What sits above the image (title, name, view) and the pinned bar below it; on a phone
# both wrap to more lines.
_ABOVE_AND_BAR, _ABOVE_AND_BAR_PHONE = "17.5rem", "22.5rem"
_STYLE = f"""<style>
.stMainBlockContainer {{ padding-top: 1rem; }}
/* Components with nothing to show (the browser's memory, the arrow keys) take no room. */
.st-key-review-memory, .st-key-review-arrow-keys {{ display: none; }}
.stMainBlockContainer h1 {{ font-size: 1.75rem; padding-top: 0.5rem; }}
.st-key-{SLIDE} {{ align-items: center; }}
.st-key-{SLIDE} [data-testid="stElementContainer"] {{ width: auto !important; max-width: 100%; }}
.st-key-{SLIDE} img {{
  display: block; margin: 0 auto; width: auto !important; height: auto !important;
  max-width: 100% !important; max-height: calc(100vh - {_ABOVE_AND_BAR});
  max-height: calc(100dvh - {_ABOVE_AND_BAR}); object-fit: contain;
}}
@media (max-width: 640px) {{
  .st-key-{SLIDE} img {{
    max-height: calc(100vh - {_ABOVE_AND_BAR_PHONE});
    max-height: calc(100dvh - {_ABOVE_AND_BAR_PHONE});
  }}
}}
/* Sticky on the bar's wrapper: a sticky box stays inside its parent, and the bar's own
   parent is a wrapper just its size. */
[data-testid="stLayoutWrapper"]:has(> .st-key-{BAR}) {{ position: sticky; bottom: 0; z-index: 10; }}
.st-key-{BAR} {{
  padding: 0.5rem 0 0.75rem;
  background: var(--studio-background); border-top: 1px solid rgba(128, 128, 128, 0.3);
}}
</style>"""


def style() -> None:
    st.html(_STYLE)


def reviewed_count(images: list[ReviewImage], mine: dict[int, ReviewNote]) -> int:
    return sum(1 for image in images if _voted(mine.get(image.image_id)))


def next_unreviewed(images: list[ReviewImage], mine: dict[int, ReviewNote], after: int) -> int:
    """The index of the first image after `after` (then from the start) without a vote;
    len(images), the summary, when every image has one."""
    order = list(range(after + 1, len(images))) + list(range(after + 1))
    for index in order:
        if index < len(images) and not _voted(mine.get(images[index].image_id)):
            return index
    return len(images)


def _voted(note: ReviewNote | None) -> bool:
    return note is not None and note.vote is not None


def progress(images: list[ReviewImage], mine: dict[int, ReviewNote]) -> str:
    return f"{reviewed_count(images, mine)} of {len(images)} reviewed"


def summary_sentence(images: list[ReviewImage], mine: dict[int, ReviewNote]) -> str:
    """ "You approved 4 and asked for changes on 2", and what is left, in plain words."""
    votes = [mine[image.image_id].vote for image in images if image.image_id in mine]
    approved, changes = votes.count("approve"), votes.count("changes")
    left = len(images) - approved - changes
    if not approved and not changes:
        sentence = "You have not given a verdict on any image yet"
    elif not changes:
        sentence = f"You approved {approved}"
    elif not approved:
        sentence = f"You asked for changes on {changes}"
    else:
        sentence = f"You approved {approved} and asked for changes on {changes}"
    if left and (approved or changes):
        sentence += f"; {plural(left, 'image')} without a verdict"
    return sentence + "."


def summary(
    review: Review, images: list[ReviewImage], name: str, mine: dict[int, ReviewNote]
) -> None:
    """The end of the deck: what this reviewer said, and Send my review."""
    with st.container(border=True, key=SUMMARY):
        st.subheader("Your review", anchor=False)
        st.markdown(summary_sentence(images, mine))
        comments = sum(1 for note in mine.values() if note.comment)
        if comments:
            st.caption(f"With {plural(comments, 'comment')}.")
        if not name:
            st.caption("Give your name above to send your review.")
            return
        sent = _sent_at(review, name)
        st.button(
            "Send my review",
            key=SEND,
            type="primary",
            icon=":material/send:",
            on_click=_send,
            args=(review, name),
            help="Tells the person who shared these images that you are done. "
            "You can still change your verdicts afterwards, and send again.",
        )
        if sent is not None:
            st.success(
                f"Sent {when(sent, st.context.timezone)}: the person who shared these "
                "images sees that you finished your review.",
                icon=":material/check_circle:",
            )


def _sent_at(review: Review, name: str) -> float | None:
    try:
        return review.finished_at(name)
    except ReviewGone:
        return None


def _send(review: Review, name: str) -> None:
    try:
        review.finish(name)
    except ReviewGone:
        return  # the run that follows shows only why
