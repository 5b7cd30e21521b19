"""Share for review: links that show one board to whoever holds them, and Revoke link.

A new link's token is shown once, as the full address to copy (st.code has a copy
button); the studio keeps only its hash, so it cannot be shown again later.
"""

from __future__ import annotations

import time

import streamlit as st

from components import frame, media
from components.state import Scoped
from components.text import escape_markdown, plural, when
from studio.errors import BoardInputError
from studio.jobs import LINK_LABEL_CHARS, MAX_LINK_DAYS, review_url_path
from studio.records import Board, ReviewLink

# The address of the link just made, per board, until its owner dismisses it.
_created: Scoped[str | None] = Scoped("board_new_link", lambda: None)
_error: Scoped[str | None] = Scoped("board_share_error", lambda: None)


def is_live(link: ReviewLink, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    return not link.revoked and (link.expires_at is None or link.expires_at > now)


def sharing(board: Board, links: list[ReviewLink]) -> None:
    live = [link for link in links if is_live(link)]
    title = f"Share for review ({plural(len(live), 'live link')})" if live else "Share for review"
    created = _created(str(board.id)).get()
    with st.expander(title, icon=":material/share:", expanded=created is not None):
        if created is not None:
            _show_created(board, created)
        _share_form(board)
        if links:
            st.markdown("**Links**")
            for link in links:
                _link_row(link)


def _share_form(board: Board) -> None:
    default_days = frame.jobs().review_link_days
    error = _error(str(board.id))
    with st.form(f"share-{board.id}", border=True):
        label = st.text_input(
            "Who it is for",
            key=f"share-label-{board.id}",
            placeholder="e.g. Acme (Jane)",
            max_chars=LINK_LABEL_CHARS,
            help="Shown to you beside their verdicts; each link keeps its own reviewers.",
        )
        days, never = st.columns(2, vertical_alignment="bottom")
        expires = days.number_input(
            "Expires after (days)",
            min_value=1,
            max_value=MAX_LINK_DAYS,
            value=min(default_days, MAX_LINK_DAYS),
            step=1,
            key=f"share-days-{board.id}",
        )
        forever = never.checkbox("Never expires", key=f"share-never-{board.id}")
        downloads = st.checkbox(
            "Allow downloads",
            key=f"share-downloads-{board.id}",
            help="Reviewers may download the original files (with their prompts inside).",
        )
        submitted = st.form_submit_button(
            "Share for review", type="primary", icon=":material/add_link:"
        )
    if submitted:
        try:
            _link, token = frame.jobs().share_board(
                board.id,
                label=label,
                expires_in_days=None if forever else int(expires),
                allow_downloads=downloads,
            )
        except BoardInputError as exc:
            error.set(exc.message)
        else:
            error.clear()
            path = review_url_path(token)
            _created(str(board.id)).set(media.absolute(path) or path)
            st.rerun()
    message = error.get()
    if message:
        st.error(escape_markdown(message), icon=":material/error:")


def _show_created(board: Board, address: str) -> None:
    st.success(
        "The review link is ready. Copy it now (the button in its corner): "
        "it is shown only this once.",
        icon=":material/link:",
    )
    st.code(address, language=None, wrap_lines=True)
    st.button(
        "Done, I copied it",
        key=f"share-done-{board.id}",
        on_click=_created(str(board.id)).clear,
    )


def _link_row(link: ReviewLink) -> None:
    now = time.time()
    with st.container(border=True, key=f"review-link-{link.id}"):
        words, action = st.columns([4, 1], vertical_alignment="center")
        with words:
            st.text(link.label or "Review link")
            st.caption(" · ".join(_facts(link, now)))
        if is_live(link, now):
            action.button(
                "Revoke link",
                key=f"revoke-link-{link.id}",
                icon=":material/link_off:",
                on_click=_revoke,
                args=(link.id,),
                help=f"End the link for {escape_markdown(link.label or 'this review')} now: "
                "it then shows nothing",
            )


def _facts(link: ReviewLink, now: float) -> list[str]:
    zone = st.context.timezone
    facts = [f"made {when(link.created_at, zone)}"]
    if link.revoked:
        facts.append("revoked")
    elif link.expires_at is None:
        facts.append("never expires")
    elif link.expires_at <= now:
        facts.append(f"expired {when(link.expires_at, zone)}")
    else:
        facts.append(f"open until {when(link.expires_at, zone)}")
    facts.append(plural(link.reviewer_count, "reviewer"))
    facts.append("downloads allowed" if link.allow_downloads else "no downloads")
    return facts


def _revoke(link_id: int) -> None:
    try:
        frame.jobs().revoke_link(link_id)
    except BoardInputError as exc:
        frame.queue_toast(exc.message, ":material/error:")
        return
    frame.queue_toast("Link revoked: it shows nothing now.", ":material/link_off:")
