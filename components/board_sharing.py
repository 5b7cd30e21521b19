"""Share for review: links that show one board to whoever holds them, and Revoke link.

A new link's token is shown once, as the full address with a Copy link button; the
studio keeps only its hash, so it cannot be shown again later. The address starts with
STUDIO_PUBLIC_URL when set, else with the address this browser is on; when only this
computer or this network can reach that, the form says so and how to fix it. Revoke
link asks once before it acts.
"""

from __future__ import annotations

import time

import streamlit as st

from components import frame
from components.copy_button import copy_button
from components.state import Scoped
from components.text import escape_markdown, plural, when
from studio.errors import BoardInputError
from studio.records import Board, ReviewLink
from studio.service import LINK_LABEL_CHARS, MAX_LINK_DAYS, review_url_path
from studio.share_address import ShareAddress, share_address

# The address of the link just made, per board, until its owner dismisses it.
_created: Scoped[str | None] = Scoped("board_new_link", lambda: None)
_error: Scoped[str | None] = Scoped("board_share_error", lambda: None)
# The link whose Revoke link was pressed once, per link id, until confirmed or kept.
_revoking: Scoped[bool] = Scoped("board_revoking", lambda: False)
FIX = (
    "To share it, set `STUDIO_PUBLIC_URL` to the address other people reach the studio at "
    "(for example `https://studio.example.com`) and restart the studio, or open the "
    "studio at that address and share again."
)


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


def address_of(path: str) -> ShareAddress:
    """Where a shared `path` leads: STUDIO_PUBLIC_URL, else this browser's address."""
    return share_address(
        path, public_url=frame.studio().boards.public_url, browser_url=st.context.url
    )


def reach_warning(address: ShareAddress) -> None:
    """Says plainly when a link made here would open only on this computer or network."""
    if address.reach == "this_computer":
        st.warning(
            f"Only this computer can open links shared from here: they start with "
            f"{escape_markdown(address.host)}, this computer's own address. {FIX}",
            icon=":material/computer:",
        )
    elif address.reach == "network":
        st.warning(
            f"Only people on this network can open links shared from here: "
            f"{escape_markdown(address.host)} is a local address. {FIX}",
            icon=":material/lan:",
        )


def _share_form(board: Board) -> None:
    default_days = frame.studio().boards.review_link_days
    reach_warning(address_of("/"))
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
            _link, token = frame.studio().boards.share_board(
                board.id,
                label=label,
                expires_in_days=None if forever else int(expires),
                allow_downloads=downloads,
            )
        except BoardInputError as exc:
            error.set(exc.message)
        else:
            error.clear()
            _created(str(board.id)).set(address_of(review_url_path(token)).url)
            st.rerun()
    message = error.get()
    if message:
        st.error(escape_markdown(message), icon=":material/error:")


def _show_created(board: Board, address: str) -> None:
    st.success(
        "The review link is ready. Copy it now: it is shown only this once.",
        icon=":material/link:",
    )
    st.code(address, language=None, wrap_lines=True)
    with st.container(horizontal=True, vertical_alignment="center"):
        copy_button("Copy link", address, key=f"share-copy-{board.id}")
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
            asking = _revoking(str(link.id))
            action.button(
                "Revoke link",
                key=f"revoke-link-{link.id}",
                icon=":material/link_off:",
                on_click=asking.set,
                args=(True,),
                disabled=asking.get(),
                help=f"End the link for {escape_markdown(link.label or 'this review')} now: "
                "it then shows nothing",
            )
            if asking.get():
                _confirm_revoke(link)


def _confirm_revoke(link: ReviewLink) -> None:
    """The second step: Revoke link acts only once its owner says yes."""
    who = f"{link.label}'s" if link.label else "this"
    st.warning(
        f"Revoke {escape_markdown(who)} link? Whoever holds it sees nothing from then on, "
        "and it cannot be opened again.",
        icon=":material/link_off:",
    )
    with st.container(horizontal=True):
        st.button(
            "Yes, revoke it",
            key=f"revoke-link-yes-{link.id}",
            type="primary",
            on_click=_revoke,
            args=(link.id,),
        )
        st.button(
            "Keep it",
            key=f"revoke-link-keep-{link.id}",
            on_click=_revoking(str(link.id)).clear,
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
    _revoking(str(link_id)).clear()
    try:
        frame.studio().boards.revoke_link(link_id)
    except BoardInputError as exc:
        frame.queue_toast(exc.message, ":material/error:")
        return
    frame.queue_toast("Link revoked: it shows nothing now.", ":material/link_off:")
