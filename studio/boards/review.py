"""Review links: tokens, the plain sentences a closed link shows, and the one narrow
object a reviewer's session gets.

A `Review` is made from a token alone and holds the store, the archive (to read images)
and the link signer, nothing else: no credentials, no engine, no FoxAPI client, so nothing a
reviewer does can send a request or spend. Every one of its reads and writes goes
through the token's hash and the link being live in the same query (see studio.boards.store),
so a revoke or an expiry takes effect on the very next call, and no id a reviewer sends
reaches beyond the link's board.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from studio import formats, links
from studio.archive import Archive
from studio.boards.review_store import ReviewStore
from studio.errors import BoardInputError, ReviewGone, ReviewRateLimited
from studio.links import UrlSigner, review_viewer
from studio.records import (
    VOTE_KINDS,
    ImageRecord,
    ReviewClosed,
    ReviewImage,
    ReviewLink,
    ReviewNote,
    VoteKind,
)

TOKEN_BYTES = 24  # 192 bits; secrets.token_urlsafe gives 32 characters for them
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
REVIEWER_CHARS, COMMENT_CHARS = 60, 2000

UNKNOWN = ReviewClosed("unknown", "This review link is not valid. Check that you copied all of it.")
REVOKED = ReviewClosed("revoked", "This review link was revoked by its owner.")
NOT_ON_BOARD = "This image is not part of this review."
NAME_NEEDED = f"Give your name (1 to {REVIEWER_CHARS} characters) before you vote or comment."
TOO_MANY = (
    "Too many votes and comments on this review in the last minute. Wait a minute, then try again."
)


def new_token() -> tuple[str, str]:
    """A fresh token and the hash the store keeps of it (the token itself is never kept)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


def closed(link: ReviewLink | None, now: float) -> ReviewClosed | None:
    """Why `link` shows nothing, or None while it is live."""
    if link is None:
        return UNKNOWN
    if link.revoked:
        return REVOKED
    if link.expires_at is not None and link.expires_at <= now:
        return ReviewClosed("expired", f"This review link expired on {_day(link.expires_at)}.")
    return None


def _day(moment: float) -> str:
    date = datetime.fromtimestamp(moment).astimezone()
    return f"{date.day} {date:%B %Y}"


def reviewer_name(name: str) -> str:
    """A reviewer's name as kept: spaces collapsed, no control characters; or BoardInputError."""
    cleaned = " ".join(_printable(name).split())
    if not cleaned or len(cleaned) > REVIEWER_CHARS:
        raise BoardInputError(NAME_NEEDED)
    return cleaned


def _printable(text: str) -> str:
    """`text` with every kind of space a plain space, and no control or format
    characters (a right-to-left override, say)."""
    return "".join(" " if c.isspace() else c for c in text if c.isprintable() or c.isspace())


class Review:
    """One review link's board, as its reviewers see it; made only from its token."""

    def __init__(
        self,
        *,
        store: ReviewStore,
        archive: Archive,
        signer: UrlSigner,
        token: str,
        link: ReviewLink,
        board_name: str,
        changes_per_minute: int,
        clock: Callable[[], float] = time.time,
        on_finished: Callable[[Review, str], None] | None = None,
    ) -> None:
        self._store = store
        self._on_finished = on_finished  # told of each "Send my review" that is news (the webhook)
        self._archive = archive
        self._signer = signer
        self._token_sha256 = token_hash(token)
        self._link_id = link.id
        self._changes_per_minute = changes_per_minute
        self._clock = clock
        self.link_id = link.id  # never reused: the reviewer's browser remembers them by it
        self.board_name = board_name
        self.link_label = link.label
        self.allow_downloads = link.allow_downloads
        self.expires_at = link.expires_at

    @classmethod
    def open(
        cls,
        token: str,
        *,
        store: ReviewStore,
        archive: Archive,
        signer: UrlSigner,
        changes_per_minute: int,
        clock: Callable[[], float] = time.time,
        on_finished: Callable[[Review, str], None] | None = None,
    ) -> Review | ReviewClosed:
        """The review behind `token`, or why it shows nothing."""
        if not _TOKEN.fullmatch(token.strip()):
            return UNKNOWN
        found = store.review_link_by_token(token_hash(token))
        link, board_name = found if found is not None else (None, "")
        reason = closed(link, clock())
        if reason is not None or link is None:
            return reason or UNKNOWN
        return cls(
            store=store,
            archive=archive,
            signer=signer,
            token=token,
            link=link,
            board_name=board_name,
            changes_per_minute=changes_per_minute,
            clock=clock,
            on_finished=on_finished,
        )

    def images(self) -> list[ReviewImage]:
        """The board's images in its order."""
        shown = self._store.review_images(self._token_sha256, self._clock())
        if shown is None:
            raise self._gone()
        return shown

    def image_bytes(self, image_id: int, kind: Literal["thumb", "original"]) -> bytes | None:
        """The image's thumbnail or original; None when it is not on this board (or missing)."""
        image = self._image(image_id)
        if image is None:
            return None
        key = image.thumb_path if kind == "thumb" else image.file_path
        if not key:
            return None
        try:
            return self._archive.read(key)
        except OSError:
            return None

    def image_link(
        self, image_id: int, kind: Literal["thumb", "original", "download"]
    ) -> str | None:
        """A signed link to one of this board's images, good only while the link is live;
        None when the image is not on the board, or for a download the owner did not allow."""
        found = self._store.review_image(self._token_sha256, self._clock(), image_id)
        if found is None:
            raise self._gone()
        _link_id, downloads, image = found
        if image is None or (kind == "download" and not downloads):
            return None
        extension = "webp" if kind == "thumb" else formats.extension(image.format or "png")
        path = links.image_path(kind, image.id, image.sha256 or "none", extension)
        return self._signer.sign(path, review_viewer(self._link_id))

    def my_notes(self, reviewer: str) -> dict[int, ReviewNote]:
        """What `reviewer` said so far through this link, by image."""
        notes = self._store.reviewer_notes(
            self._token_sha256, self._clock(), reviewer_name(reviewer)
        )
        if notes is None:
            raise self._gone()
        return {note.image_id: note for note in notes}

    def vote(self, reviewer: str, image_id: int, vote: VoteKind | None) -> None:
        """Approve, ask for changes, or (None) take the vote back."""
        if vote is not None and vote not in VOTE_KINDS:
            raise BoardInputError("Choose Approve or Needs changes.")
        self._change(reviewer, image_id, {"vote": vote})

    def comment(self, reviewer: str, image_id: int, text: str) -> None:
        """Say something about an image ("" takes the comment back).

        Kept as plain text: line breaks stay, other control and direction characters go.
        """
        lines = text.replace("\r\n", "\n").split("\n")
        text = "\n".join(_printable(line) for line in lines).strip()
        if len(text) > COMMENT_CHARS:
            raise BoardInputError(
                f"A comment can be at most {COMMENT_CHARS} characters; this one has {len(text)}."
            )
        self._change(reviewer, image_id, {"comment": text})

    def finish(self, reviewer: str) -> None:
        """Tell the board's owner that `reviewer` is done ("Send my review"; again moves it)."""
        name = reviewer_name(reviewer)
        news = self._store.finish(self._token_sha256, self._clock(), name)
        if news is None:
            raise self._gone()
        if news and self._on_finished is not None:  # a second press, nothing changed: quiet
            self._on_finished(self, name)

    def finished_at(self, reviewer: str) -> float | None:
        """When `reviewer` last sent their review through this link, if they did."""
        return self._store.finished_on(self._token_sha256, reviewer_name(reviewer))

    def _change(self, reviewer: str, image_id: int, changes: dict[str, object]) -> None:
        outcome = self._store.review_change(
            self._token_sha256,
            self._clock(),
            reviewer=reviewer_name(reviewer),
            image_id=image_id,
            changes=changes,
            per_minute=self._changes_per_minute,
        )
        if outcome == "closed":
            raise self._gone()
        if outcome == "limited":
            raise ReviewRateLimited(TOO_MANY)
        if outcome == "not_on_board":
            raise BoardInputError(NOT_ON_BOARD)

    def _image(self, image_id: int) -> ImageRecord | None:
        found = self._store.review_image(self._token_sha256, self._clock(), image_id)
        if found is None:
            raise self._gone()
        return found[2]

    def _gone(self) -> ReviewGone:
        found = self._store.review_link_by_token(self._token_sha256)
        return ReviewGone(closed(found[0] if found else None, self._clock()) or UNKNOWN)
