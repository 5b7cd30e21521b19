"""Boards: a person's named, ordered collections of images, their sheets and zips, and the
review links they share them through (the reviewer's side is studio.boards.review).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from types import EllipsisType
from typing import Literal

from studio import contact_sheet, links
from studio.archive import Archive
from studio.boards import review
from studio.boards.news import BoardNews, mark_seen, news
from studio.boards.review import Review
from studio.boards.review_store import ReviewStore
from studio.boards.store import BoardStore
from studio.errors import BoardInputError
from studio.gallery.service import GalleryService
from studio.links import UrlSigner
from studio.people.access import Access
from studio.records import (
    Board,
    FinishedReview,
    GalleryItem,
    ImageRecord,
    ReviewClosed,
    ReviewLink,
    ReviewNote,
    Verdicts,
)
from studio.settings import Settings

log = logging.getLogger(__name__)

BOARD_NAME_CHARS, LINK_LABEL_CHARS = 120, 120
MAX_LINK_DAYS = 365
SHEET_COLUMNS = 3  # a board's contact sheet: at most this many images a row
NO_SUCH_BOARD = "This board is gone, or it is not yours."


class BoardService:
    """One person's boards: their images in order, sheets, and review links shared."""

    def __init__(
        self,
        settings: Settings,
        store: BoardStore,
        reviews: ReviewStore,
        archive: Archive,
        signer: UrlSigner,
        gallery: GalleryService,
        access: Access,
        *,
        on_review_finished: Callable[[Review, str], None] | None = None,
    ) -> None:
        """`on_review_finished` hears of each review sent (the operator's webhook)."""
        self.settings = settings
        self._on_review_finished = on_review_finished
        self._store = store
        self._reviews = reviews
        self._archive = archive
        self.signer = signer
        self._gallery = gallery
        self._access = access
        self.person = access.person

    def boards(self, *, archived: bool = False) -> list[Board]:
        """This person's boards, the most recently changed first."""
        return self._store.boards(self.person.sub, archived=archived)

    def board(self, board_id: int) -> Board | None:
        """The board, or None when it is gone or not this person's (an admin sees all)."""
        found = self._store.board(board_id)
        if found is None:
            return None
        return found if self.person.admin or found.owner_sub == self.person.sub else None

    def _own_board(self, board_id: int) -> Board:
        found = self.board(board_id)
        if found is None:
            raise BoardInputError(NO_SUCH_BOARD)
        return found

    def create_board(self, name: str, image_ids: Sequence[int] = ()) -> Board:
        """A new board of this person's, holding `image_ids` (those they may see) in order."""
        board_id = self._store.create_board(self.person.sub, self.person.email, _board_name(name))
        if image_ids:
            self.add_to_board(board_id, image_ids)
        return self._own_board(board_id)

    def rename_board(self, board_id: int, name: str) -> Board:
        self._own_board(board_id)
        self._store.update_board(board_id, name=_board_name(name))
        return self._own_board(board_id)

    def archive_board(self, board_id: int, archived: bool = True) -> None:
        self._own_board(board_id)
        self._store.update_board(board_id, archived=archived)

    def add_to_board(self, board_id: int, image_ids: Sequence[int]) -> int:
        """Append the images not yet on the board, in order; return how many were new."""
        self._own_board(board_id)
        visible = [item.image.id for item in self._gallery.images(image_ids)]
        return self._store.add_board_images(board_id, visible)

    def remove_from_board(self, board_id: int, image_id: int) -> None:
        self._own_board(board_id)
        self._store.remove_board_image(board_id, image_id)

    def move_in_board(self, board_id: int, image_id: int, offset: int) -> None:
        """Move an image `offset` places (-1 up, +1 down), stopping at either end."""
        self._own_board(board_id)
        order = self._store.board_image_ids(board_id)
        if image_id not in order:
            return
        old = order.index(image_id)
        order.insert(max(0, min(len(order) - 1, old + offset)), order.pop(old))
        self._store.reorder_board(board_id, order)

    def reorder_board(self, board_id: int, image_ids: Sequence[int]) -> None:
        """Put the board in the order `image_ids` gives (as a drag leaves it)."""
        self._own_board(board_id)
        self._store.reorder_board(board_id, image_ids)

    def board_images(
        self, board_id: int, *, sort: Literal["order", "approvals"] = "order"
    ) -> list[GalleryItem]:
        """The board's images this person may see: in its order, or most approved first."""
        if self.board(board_id) is None:
            return []
        found = self._store.board_items(board_id, viewer_sub=self.person.sub)
        items = [item for item in found if self._access.may_see(item.job)]
        if sort == "approvals":
            verdicts = self.verdicts([item.image.id for item in items])
            place = {item.image.id: index for index, item in enumerate(items)}
            items.sort(
                key=lambda item: (
                    -verdicts[item.image.id].approvals,
                    verdicts[item.image.id].changes,
                    place[item.image.id],
                )
            )
        return items

    def boards_of_image(self, image_id: int) -> list[Board]:
        """This person's boards that hold the image."""
        return self._store.boards_of_image(image_id, self.person.sub)

    def board_contact_sheet(self, board_id: int, kind: Literal["png", "pdf"] = "png") -> bytes:
        """The board on one captioned sheet: its name, then its images numbered in order,
        each with its prompt, ratio and, once reviewed, its votes."""
        board = self._own_board(board_id)
        return self._sheet(board.name, self.board_images(board_id), kind)

    def selection_contact_sheet(
        self, image_ids: Sequence[int], kind: Literal["png", "pdf"] = "png"
    ) -> bytes:
        """The gallery images chosen, on one captioned sheet like a board's."""
        items = self._gallery.images(image_ids)
        title = "1 image" if len(items) == 1 else f"{len(items)} images"
        return self._sheet(f"{title} from the gallery", items, kind)

    def _sheet(self, title: str, items: list[GalleryItem], kind: Literal["png", "pdf"]) -> bytes:
        verdicts = self.verdicts([item.image.id for item in items])
        sheet_items = [
            contact_sheet.item_of(
                item,
                verdicts[item.image.id],
                self._gallery.thumbnail(item.image),
                self._print_picture(item.image) if kind == "pdf" else None,
            )
            for item in items
        ]
        columns = min(max(len(items), 1), SHEET_COLUMNS)
        paper = self.settings.studio_paper
        return contact_sheet.build(title, sheet_items, columns=columns, kind=kind, paper=paper)

    def _print_picture(self, image: ImageRecord) -> bytes | None:
        """The original, for a PDF to print; None when it is missing (the thumbnail serves)."""
        try:
            return self._gallery.original(image)
        except OSError:
            return None

    def board_zip_link(self, board_id: int, viewer: str) -> str:
        """A signed link to the board's images as a zip, with manifest.json."""
        self._own_board(board_id)
        return self._gallery.zip_link_of(self.board_images(board_id), viewer)

    def share_board(
        self,
        board_id: int,
        *,
        label: str = "",
        expires_in_days: int | EllipsisType | None = ...,
        allow_downloads: bool = False,
    ) -> tuple[ReviewLink, str]:
        """A new review link to the board: the link, and its token (shown once, never kept).

        It lives `expires_in_days` days (None: until revoked; left out: review_link_days).
        """
        self._own_board(board_id)
        if isinstance(expires_in_days, EllipsisType):
            expires_in_days = self.review_link_days
        label = " ".join(label.split())
        if len(label) > LINK_LABEL_CHARS:
            raise BoardInputError(
                f"Keep the link's name to {LINK_LABEL_CHARS} characters; it has {len(label)}."
            )
        if expires_in_days is not None and not 1 <= expires_in_days <= MAX_LINK_DAYS:
            raise BoardInputError(f"A link can last 1 to {MAX_LINK_DAYS} days, or never expire.")
        lifetime = None if expires_in_days is None else timedelta(days=expires_in_days)
        expires_at = None if lifetime is None else time.time() + lifetime.total_seconds()
        token, digest = review.new_token()
        link_id = self._reviews.create_review_link(
            board_id, digest, label=label, expires_at=expires_at, allow_downloads=allow_downloads
        )
        link = self._reviews.review_link(link_id)
        assert link is not None  # just made
        return link, token

    @property
    def review_link_days(self) -> int:
        """How long a new review link lives unless its owner says otherwise."""
        return self.settings.studio_review_link_days

    @property
    def public_url(self) -> str | None:
        """STUDIO_PUBLIC_URL: the address people outside reach the studio at, if set."""
        return self.settings.studio_public_url

    def review_links(self, board_id: int) -> list[ReviewLink]:
        if self.board(board_id) is None:
            return []
        return self._reviews.review_links(board_id)

    def revoke_link(self, link_id: int) -> None:
        """End a review link now: its next page load and its image links say so."""
        link = self._reviews.review_link(link_id)
        if link is None or self.board(link.board_id) is None:
            raise BoardInputError(NO_SUCH_BOARD)
        self._reviews.revoke_review_link(link_id)

    def verdicts(self, image_ids: Sequence[int]) -> dict[int, Verdicts]:
        """Each image's votes and comments across this person's review links."""
        notes: dict[int, list[ReviewNote]] = {image_id: [] for image_id in image_ids}
        for note in self._reviews.notes_on(list(notes), self.person.sub):
            notes[note.image_id].append(note)
        return {
            image_id: Verdicts(
                approvals=sum(note.vote == "approve" for note in found),
                changes=sum(note.vote == "changes" for note in found),
                notes=tuple(found),
            )
            for image_id, found in notes.items()
        }

    def review_activity_marker(self, board_id: int) -> str:
        """Changes whenever a vote or comment on the board does: cheap, for live refresh."""
        if self.board(board_id) is None:
            return ""
        finished = [done.finished_at for done in self._reviews.finished_reviews(board_id)]
        return f"{self._reviews.review_activity(board_id)}|{max(finished, default=0)}"

    def board_news(self) -> BoardNews:
        """What reviewers said on this person's boards since they last opened each."""
        return news(self._store, self.person.sub, time.time())

    def mark_board_seen(self, board_id: int) -> None:
        """Its owner is looking at the board: what reviewers said so far is no longer news."""
        found = self.board(board_id)
        if found is not None and found.owner_sub == self.person.sub:
            mark_seen(self._store, board_id, time.time())

    def finished_reviews(self, board_id: int) -> list[FinishedReview]:
        """Who sent their review of the board (none when it is not this person's)."""
        if self.board(board_id) is None:
            return []
        return self._reviews.finished_reviews(board_id)

    def open_review(self, token: str) -> Review | ReviewClosed:
        """The board behind a review token, for anyone holding it, signed in or not."""
        return Review.open(
            token,
            store=self._reviews,
            archive=self._archive,
            signer=self.signer,
            changes_per_minute=self.settings.studio_review_changes_per_minute,
            on_finished=self._on_review_finished,
        )

    def review_item(self, viewer: str, image_id: int, kind: str) -> GalleryItem | None:
        """The image a link signed for review viewer `viewer` asks for, if that link is
        live, its board holds the image, and (for a download) the owner allowed downloads."""
        link_id = links.viewer_link_id(viewer)
        if link_id is None:
            return None
        shown, downloads = self._reviews.review_link_shows(link_id, image_id, time.time())
        if not shown or (kind == "download" and not downloads):
            return None
        return self._gallery.reviewed_image(image_id)


def _board_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > BOARD_NAME_CHARS:
        raise BoardInputError(f"Give the board a name of 1 to {BOARD_NAME_CHARS} characters.")
    return cleaned
