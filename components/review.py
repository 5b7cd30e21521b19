"""The review page: one board for whoever holds its link, signed in or not.

Everything here goes through the `Review` the link's token opens, which can read that
board's images and record votes and comments, and nothing else: no navigation, no key,
no generation. The images show one at a time (Previous and Next, the Left and Right
arrow keys, or a swipe) or as a grid. A reviewer gives their name once (kept for the
session), then per image Approve or Needs changes (changeable) and an optional comment.
A link revoked or expired while the page is open shows only its sentence on the next run.
"""

from __future__ import annotations

import hashlib

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from components import arrow_keys, frame, media, review_deck, review_memory
from components.state import SessionValue
from components.text import escape_markdown, plural, when
from studio.errors import BoardInputError
from studio.records import ReviewClosed, ReviewImage, ReviewNote, VoteKind
from studio.service import COMMENT_CHARS, REVIEWER_CHARS, Review, ReviewGone, reviewer_name

TOKEN = "token"  # noqa: S105 (the query parameter's name)
PATH = "review"  # the review page's address: /review?token=...
NAME_FIELD = "review-name"
VIEW = "review-view"
ONE_AT_A_TIME, GRID = "One at a time", "Grid"
GRID_COLUMNS = 3
VOTES: dict[str, VoteKind] = {"Approve": "approve", "Needs changes": "changes"}
VOTE_LABELS = {kind: label for label, kind in VOTES.items()}
_VOTE_KEYS = "review-vote-"

_reviewer = SessionValue("reviewer_name", lambda: "")
_name_error: SessionValue[str | None] = SessionValue("reviewer_name_error", lambda: None)
_index = SessionValue("review_index", lambda: 0)
# What happened to a reviewer's last change, per image: ("error" or "saved", sentence).
_outcome: SessionValue[dict[int, tuple[str, str]]] = SessionValue("review_outcome", dict)
# Comments typed but not saved before a reload, by image number, as the browser kept them.
_drafts: SessionValue[dict[int, str]] = SessionValue("review_drafts", dict)


def asked_for() -> bool:
    """Whether the browser asked for the review page: a token in the URL, or /review
    itself (a link cut short). Either way the review page answers, never the studio."""
    if TOKEN in st.query_params:
        return True
    # The page the browser's address names, as Streamlit resolves it in st.navigation.
    context = get_script_run_ctx()
    return context is not None and context.pages_manager.intended_page_name == PATH


def open_link() -> Review | ReviewClosed:
    return frame.server_studio().boards.open_review(st.query_params.get(TOKEN, ""))


def review() -> None:
    """The board behind the URL's token, or the one sentence saying why there is none."""
    opened = open_link()
    if isinstance(opened, ReviewClosed):
        closed(opened)
        return
    page = st.empty()
    try:
        with page.container():
            _board(opened)
    except ReviewGone as gone:  # revoked or expired between two reads of this run
        page.empty()
        closed(gone.closed)


def closed(reason: ReviewClosed) -> None:
    st.info(escape_markdown(reason.message), icon=":material/link_off:")


def _board(review: Review) -> None:
    st.title(escape_markdown(review.board_name), anchor=False)
    images = review.images()
    facts = [f"{plural(len(images), 'image')} shared with you for review"]
    if review.expires_at is not None:
        facts.append(f"open until {when(review.expires_at, st.context.timezone)}")
    st.caption(" · ".join(facts))
    memory = review_memory.remembered(str(review.link_id), _reviewer.get())
    if memory is not None:
        _restore(review, *memory)
    elif not review_memory.answered():
        # Drawn only once the browser has said who this is: no flash of the name form,
        # and the controls start from what was kept, not from an empty first draft.
        return
    # One row: who is reviewing and the view (a grid overview one tap away), so the
    # image below has the most of the screen.
    with st.container(horizontal=True, vertical_alignment="center"):
        name = _reviewer.get()
        if name:
            st.text(f"Reviewing as {name}")
            st.button("Change name", key="review-change-name", on_click=_reviewer.clear)
        view = (
            st.segmented_control(
                "View",
                [ONE_AT_A_TIME, GRID],
                default=ONE_AT_A_TIME,
                required=True,
                key=VIEW,
                label_visibility="collapsed",
            )
            if images
            else None
        )
    if not name:
        _name_form(review)
    if not images:
        st.info("There are no images on this board yet.")
        return
    mine = review.my_notes(name) if name else {}
    if view == GRID:
        for start in range(0, len(images), GRID_COLUMNS):
            row = images[start : start + GRID_COLUMNS]
            for column, image in zip(st.columns(GRID_COLUMNS), row, strict=False):
                with column, st.container(border=True):
                    _image(review, image, len(images), name, mine.get(image.image_id), "thumb")
    else:
        _present(review, images, name, mine)


def _present(
    review: Review, images: list[ReviewImage], name: str, mine: dict[int, ReviewNote]
) -> None:
    """One image fitted to the screen with the verdict bar pinned under it; the summary
    after the last (index len(images))."""
    review_deck.style()
    index = min(_index.get(), len(images))
    step = arrow_keys.pressed("review-arrow-keys")  # Left and Right step too
    if step and 0 <= index + step <= len(images):
        index += step
        _index.set(index)
    if index == len(images):
        review_deck.summary(review, images, name, mine)
        with st.container(key=review_deck.BAR, horizontal=True, vertical_alignment="center"):
            _previous_next(index, len(images), review_deck.progress(images, mine))
        return
    image = images[index]
    note = mine.get(image.image_id)
    with st.container(key=review_deck.SLIDE):
        _picture(review, image, "original")
    st.text(image.prompt)
    st.caption(f"Image {index + 1} of {len(images)}")
    _outcome_line(image.image_id)
    _download(review, image, index + 1)
    with st.container(key=review_deck.BAR, horizontal=True, vertical_alignment="center"):
        _verdict(review, image, index + 1, name, note, collapsed=True)
        with st.popover("Comment", icon=":material/chat:", disabled=not name):
            _comment_form(review, image, index + 1, name, note)
        _previous_next(index, len(images), review_deck.progress(images, mine))


def _name_form(review: Review) -> None:
    """The reviewer's name, asked once."""
    with st.form("review-name-form", border=True, enter_to_submit=True):
        st.text_input(
            "Your name",
            key=NAME_FIELD,
            max_chars=REVIEWER_CHARS,
            placeholder="e.g. Jane at Acme",
            help="Shown to the person who shared these images, beside your votes and comments.",
        )
        st.form_submit_button(
            "Start reviewing", type="primary", on_click=_take_name, args=(review,)
        )
    error = _name_error.get()
    if error:
        st.error(escape_markdown(error), icon=":material/error:")
    else:
        st.caption("Give your name to approve images, ask for changes and comment.")


def _restore(review: Review, name: str, drafts: dict[int, str]) -> None:
    """Take back what this browser remembered for the link (a reload)."""
    _drafts.set(drafts)
    if _reviewer.get() or not name:
        return
    try:
        # A name the studio would keep (anything else is asked again), and what it said.
        images, mine = review.images(), review.my_notes(name)
    except (BoardInputError, ReviewGone):
        return
    _reviewer.set(reviewer_name(name))
    _forget_controls()
    _index.set(review_deck.next_unreviewed(images, mine, -1))  # where they left off


def _forget_controls() -> None:
    """The controls start again from what this reviewer said before."""
    _outcome.clear()
    for key in [key for key in st.session_state if str(key).startswith(_VOTE_KEYS)]:
        del st.session_state[key]


def _take_name(review: Review) -> None:
    typed = str(st.session_state.get(NAME_FIELD) or "")
    try:
        review.my_notes(typed)  # checks the name as the studio keeps it
    except BoardInputError as exc:
        _name_error.set(exc.message)
        return
    except ReviewGone:
        return  # the run that follows says so
    _name_error.clear()
    # Shown as kept: control and direction characters (a right-to-left override) gone.
    _reviewer.set(reviewer_name(typed))
    _forget_controls()  # a new name: its own votes and comments


def _previous_next(index: int, total: int, progress: str) -> None:
    with st.container(horizontal=True, vertical_alignment="center", width="content"):
        st.button(
            "Previous",
            key="review-previous",
            icon=":material/chevron_left:",
            disabled=index <= 0,
            on_click=_index.set,
            args=(index - 1,),
        )
        st.markdown(f"**{progress}**")
        st.button(
            "Next" if index < total - 1 else "Summary",
            key="review-next",
            icon=":material/chevron_right:",
            icon_position="right",
            disabled=index >= total,
            on_click=_index.set,
            args=(index + 1,),
        )


def _image(
    review: Review,
    image: ReviewImage,
    total: int,
    name: str,
    note: ReviewNote | None,
    kind: str = "original",
) -> None:
    number = image.position + 1
    _picture(review, image, kind)
    st.text(image.prompt)
    shape = image.aspect_ratio or f"{image.width} x {image.height}"
    st.caption(f"Image {number} of {total} · {escape_markdown(shape)}")
    _verdict(review, image, number, name, note)
    _comment_form(review, image, number, name, note)
    _outcome_line(image.image_id)
    _download(review, image, number)


def _verdict(
    review: Review,
    image: ReviewImage,
    number: int,
    name: str,
    note: ReviewNote | None,
    *,
    collapsed: bool = False,
) -> None:
    key = f"review-vote-{image.image_id}"
    if key not in st.session_state and note is not None and note.vote is not None:
        st.session_state[key] = VOTE_LABELS[note.vote]
    st.segmented_control(
        f"Your verdict on image {number}",
        list(VOTES),
        key=key,
        disabled=not name,
        on_change=_voted,
        args=(review, name, image.image_id),
        help="Choose again to change it; choose the same again to take it back.",
        label_visibility="collapsed" if collapsed else "visible",
    )


def _outcome_line(image_id: int) -> None:
    outcome = _outcome.get().get(image_id)
    if outcome is not None:
        kind_of, sentence = outcome
        if kind_of == "error":
            st.error(escape_markdown(sentence), icon=":material/error:")
        else:
            st.caption(sentence)


def _download(review: Review, image: ReviewImage, number: int) -> None:
    link = review.image_link(image.image_id, "download") if review.allow_downloads else None
    if link is not None:
        st.link_button(
            "Download",
            link,
            icon=":material/download:",
            help=f"The original file of image {number}, with its prompt inside",
        )


def _picture(review: Review, image: ReviewImage, kind: str) -> None:
    path = review.image_link(image.image_id, "thumb" if kind == "thumb" else "original")
    url = media.absolute(path) if path else None
    if url is not None:
        st.image(url, alt=image.prompt, width="stretch")
        return
    data = review.image_bytes(image.image_id, "thumb" if kind == "thumb" else "original")
    if data is None:
        st.caption("This image is missing from the archive.")
        return
    st.image(data, alt=image.prompt, width="stretch")


def _comment_form(
    review: Review, image: ReviewImage, number: int, name: str, note: ReviewNote | None
) -> None:
    saved = note.comment if note is not None else ""
    with st.form(f"review-comment-{image.image_id}", border=False):
        st.text_area(
            f"Comment on image {number} (optional)",
            # A comment typed before a reload comes back, else the one saved. Given as
            # the box's first value, not written into session state: the box sits in a
            # popover the browser draws only when opened, and would miss such a write.
            value=_drafts.get().get(number, saved),
            key=_comment_key(image.image_id, name),
            max_chars=COMMENT_CHARS,
            height=80,
            disabled=not name,
            placeholder="What should change, or what works",
        )
        st.form_submit_button(
            "Save comment",
            disabled=not name,
            on_click=_commented,
            args=(review, name, image.image_id),
        )


def _voted(review: Review, name: str, image_id: int) -> None:
    key = f"review-vote-{image_id}"
    label = st.session_state.get(key)
    try:
        review.vote(name, image_id, VOTES.get(label) if label else None)
    except BoardInputError as exc:
        _say(image_id, "error", exc.message)
        # Not recorded: the control shows what is.
        st.session_state[key] = _recorded_vote(review, name, image_id)
        return
    except ReviewGone:
        return  # the run that follows shows only why
    _say(image_id, "saved", f"Saved: {label}." if label else "Vote taken back.")
    if label:
        _move_on(review, name, image_id)


def _move_on(review: Review, name: str, image_id: int) -> None:
    """After a verdict, the next image without one (the summary when none is left)."""
    try:
        images, mine = review.images(), review.my_notes(name)
    except (BoardInputError, ReviewGone):
        return
    at = next((i for i, image in enumerate(images) if image.image_id == image_id), -1)
    _index.set(review_deck.next_unreviewed(images, mine, at))


def _recorded_vote(review: Review, name: str, image_id: int) -> str | None:
    try:
        note = review.my_notes(name).get(image_id)
    except (BoardInputError, ReviewGone):
        return None
    return VOTE_LABELS[note.vote] if note is not None and note.vote is not None else None


def _comment_key(image_id: int, name: str) -> str:
    """Each reviewer's own comment box: another name starts from that name's comment."""
    return f"review-comment-text-{image_id}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"


def _commented(review: Review, name: str, image_id: int) -> None:
    text = str(st.session_state.get(_comment_key(image_id, name)) or "")
    try:
        review.comment(name, image_id, text)
    except BoardInputError as exc:
        _say(image_id, "error", exc.message)
        return
    except ReviewGone:
        return
    _say(image_id, "saved", "Comment saved." if text.strip() else "Comment removed.")


def _say(image_id: int, kind: str, sentence: str) -> None:
    outcome = _outcome.get()
    outcome[image_id] = (kind, sentence)
    _outcome.set(outcome)
