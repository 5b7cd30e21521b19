"""What reviewers said about an image: approvals, needs-changes and comments, for its owner.

Reviewer names and comments are typed by people the studio does not know, so they are
shown with st.text (never read as Markdown or HTML). A comment can become an edit:
**Edit this image** opens the Edit page with the image as input and the comment as the
change to make.
"""

from __future__ import annotations

import streamlit as st

from components import gallery_view, image_pickers, prompt_form
from components.text import escape_markdown, plural, when
from studio.records import ReviewNote, Verdicts

VOTE_WORDS = {"approve": "Approved", "changes": "Needs changes", None: "No vote"}


def counts_line(verdicts: Verdicts, *, icons: bool = True) -> str:
    """ "2 approvals · 1 needs changes · 1 comment": fixed words only, safe as Markdown;
    without icons, plain text (for the gallery's tiles, drawn by the browser)."""
    comments = sum(1 for note in verdicts.notes if note.comment)
    parts = []

    def icon(name: str) -> str:
        return f":material/{name}: " if icons else ""

    if verdicts.approvals:
        parts.append(f"{icon('thumb_up')}{plural(verdicts.approvals, 'approval')}")
    if verdicts.changes:
        parts.append(f"{icon('edit_note')}{verdicts.changes} needs changes")
    if comments:
        parts.append(f"{icon('chat')}{plural(comments, 'comment')}")
    return " · ".join(parts)


def summary(verdicts: Verdicts) -> None:
    """The counts, when there are any (a gallery tile shows just this)."""
    line = counts_line(verdicts)
    if line:
        st.caption(line)


def notes(verdicts: Verdicts, image_id: int, *, scope: str, name: str) -> None:
    """The counts, then each reviewer's verdict and comment, newest first."""
    if not verdicts.notes:
        st.caption("No verdicts yet.")
        return
    summary(verdicts)
    for index, note in enumerate(verdicts.notes):
        with st.container(border=True):
            st.text(_who(note))
            if note.comment:
                st.text(note.comment)
                if st.button(
                    "Edit this image",
                    key=f"{scope}-edit-from-note-{image_id}-{index}",
                    icon=":material/edit:",
                    help=f"Open {name} on the Edit page, with "
                    f"{escape_markdown(note.reviewer)}'s comment as the change to make",
                ):
                    edit_with_comment(image_id, note.comment)


def _who(note: ReviewNote) -> str:
    link = f", via {note.link_label}" if note.link_label else ""
    moment = when(note.updated_at, st.context.timezone)
    return f"{note.reviewer}{link} · {moment} · {VOTE_WORDS[note.vote]}"


def edit_with_comment(image_id: int, comment: str) -> None:
    """The image as the edit's input and the comment as its change, on the Edit page."""
    image_pickers.add_from_gallery(image_id)
    gallery_view.close_image()  # from the image dialog: the Edit page opens without it
    st.session_state[prompt_form.EDIT_PROMPT] = comment
    st.switch_page("pages/edit.py")
