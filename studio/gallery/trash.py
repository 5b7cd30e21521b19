"""The Trash: a deleted image waits there STUDIO_TRASH_DAYS days, out of sight, so a
slip is undone with one click; its files go only when the Trash is emptied or it expires.

Who may move an image to the Trash, restore it or delete it for good is who may delete
it (its owner, or an admin: studio.people.access). Spending and limits count what was
billed, so an image in the Trash still counts there, as a deleted one always did.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from studio.archive import Archive
from studio.errors import StorageError
from studio.gallery.trash_store import TrashScope, TrashStore
from studio.people import NotAllowed
from studio.people.access import Access
from studio.records import GalleryItem

log = logging.getLogger(__name__)

DAY = 24 * 3600.0  # seconds
PURGE_EVERY = 3600.0  # seconds between two looks for expired images, on each server
NOT_YOURS_TO_DELETE = "Only the person who made an image, or an admin, can delete it."


def days_left(trashed_at: float, now: float, keep_days: int) -> int:
    """Whole days, rounded up, until an image trashed at `trashed_at` is purged (0: due)."""
    return max(0, math.ceil((trashed_at + keep_days * DAY - now) / DAY))


@dataclass(frozen=True)
class TrashedItem:
    item: GalleryItem
    days_left: int


def remove_files(archive: Archive, keys: Iterable[str]) -> None:
    """Remove files no image uses any more. One that cannot be removed (storage down) is
    left behind and logged: the images are gone either way, and nothing else names it."""
    for key in keys:
        try:
            archive.delete(key)
        except StorageError as exc:
            log.warning("A file of an image deleted for good was left in storage: %s", exc)


class Trash:
    """One person's Trash: what they may delete, moved in, listed, restored, emptied."""

    def __init__(
        self,
        store: TrashStore,
        archive: Archive,
        access: Access,
        find_image: Callable[[int], GalleryItem | None],
        *,
        keep_days: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._archive = archive
        self._access = access
        self._find_image = find_image
        self.keep_days = keep_days
        self._clock = clock
        person = access.person
        self._scope = TrashScope(everyone=person.admin, owner_sub=person.sub)

    def move(self, image_ids: Sequence[int]) -> list[int]:
        """Move the images to the Trash; return those moved (one gone already is skipped).

        NotAllowed, and nothing moved, when any of them is not this person's to delete.
        """
        items = [item for item in map(self._find_image, image_ids) if item is not None]
        if not all(self._access.may_change(item.job) for item in items):
            raise NotAllowed(NOT_YOURS_TO_DELETE)
        return self._store.move_to_trash([item.image.id for item in items], self._clock())

    def restore(self, image_ids: Sequence[int] | None = None) -> list[int]:
        """Bring back the images among `image_ids` this person may delete (None: all)."""
        return self._store.restore(self._scope, image_ids)

    def delete_for_good(self, image_ids: Sequence[int] | None = None) -> int:
        """Delete the images among `image_ids` (None: the whole Trash this person may
        empty) and their files; return how many went."""
        count, keys = self._store.delete_for_good(self._scope, image_ids)
        remove_files(self._archive, keys)
        return count

    def items(self, *, limit: int, offset: int = 0) -> list[TrashedItem]:
        """The images in this person's Trash, the last one in first, with the days left."""
        now = self._clock()
        items = self._store.trashed(
            self._scope, viewer_sub=self._access.person.sub, limit=limit, offset=offset
        )
        return [
            TrashedItem(item, days_left(item.image.trashed_at or now, now, self.keep_days))
            for item in items
        ]

    def count(self) -> int:
        return self._store.count(self._scope)

    def image(self, image_id: int) -> GalleryItem | None:
        """An image in the Trash this person may restore (for its thumbnail); else None."""
        item = self._store.trashed_image(image_id)
        return item if item is not None and self._access.may_change(item.job) else None


def purge_expired(store: TrashStore, archive: Archive, keep_days: int, now: float) -> None:
    """Delete for good what has been in the Trash `keep_days` days, with its files."""
    remove_files(archive, store.purge_expired(now - keep_days * DAY))


class Purger:
    """Purges expired images from the Trash at start and every PURGE_EVERY seconds, in a
    thread of its own, so no page waits for it. Every server may run one on the same
    database: each image's rows and files are deleted once (TrashStore.purge_expired)."""

    def __init__(self, store: TrashStore, archive: Archive, keep_days: int) -> None:
        self._store, self._archive, self._keep_days = store, archive, keep_days
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trash-purger", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                purge_expired(self._store, self._archive, self._keep_days, time.time())
            except Exception:  # a database outage, say: try again at the next round
                log.exception("Purging the Trash failed; it is tried again in an hour")
            self._stopped.wait(PURGE_EVERY)
