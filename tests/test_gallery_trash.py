"""studio.gallery.trash against its store on SQLite and PostgreSQL, with no engine: an
image in the Trash is out of sight everywhere and back where it was when restored; its
files go only when the Trash is emptied or it expires, in a folder and in a bucket."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.archive import Archive
from studio.gallery.service import GalleryService
from studio.gallery.trash import DAY, Purger, days_left, purge_expired
from studio.gallery.trash_store import TrashScope
from studio.links import UrlSigner
from studio.people import NotAllowed, Person
from studio.people.access import Access
from studio.records import GalleryFilter, GalleryItem
from studio.settings import Settings
from studio.storage import open_storage
from studio.store import Store
from tests.app_support import ALICE, BOB, all_items, seed_images

ALICE_PERSON = Person(ALICE["sub"], ALICE["email"], ALICE["name"])
BOB_PERSON = Person(BOB["sub"], BOB["email"], BOB["name"])
ADMIN = Person("sub-boss", "boss@example.com", "Boss", admin=True)
EVERYTHING = GalleryFilter()
TRASH_OF_EVERYONE = TrashScope(everyone=True)


@pytest.fixture
def opened(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    yield store
    store.close()


def gallery_of(store: Store, archive: Archive, person: Person) -> GalleryService:
    access = Access(person, private_galleries=False)
    return GalleryService(Settings(), store.gallery, archive, UrlSigner(b"test-secret"), access)


def ids(items: list[GalleryItem]) -> list[int]:
    return [item.image.id for item in items]


def files_of(item: GalleryItem) -> list[str]:
    return [item.image.file_path or "", item.image.thumb_path or ""]


def test_an_image_in_the_trash_is_out_of_sight_and_comes_back_where_it_was(
    opened: Store, tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "images")
    items = seed_images(opened, archive, "three herons", count=3, owner=ALICE)
    alice = gallery_of(opened, archive, ALICE_PERSON)
    middle = items[1].image.id
    board_id = opened.boards.create_board(ALICE["sub"], ALICE["email"], "Picks")
    opened.boards.add_board_images(board_id, [middle, items[2].image.id])
    alice.set_favourite(middle, True)
    before = ids(alice.gallery(EVERYTHING, limit=10, offset=0))

    assert alice.trash.move([middle]) == [middle]

    assert middle not in ids(alice.gallery(EVERYTHING, limit=10, offset=0))
    assert alice.gallery_count(EVERYTHING) == 2
    assert alice.gallery_count(GalleryFilter(search="herons")) == 2
    assert alice.gallery_count(GalleryFilter(favourites_only=True)) == 0
    assert alice.image(middle) is None and alice.may_see_image(middle) is None
    assert alice.gallery_position(EVERYTHING, middle) is None
    assert middle not in ids(alice.saved_items(items[1].job))
    assert alice.stream_zip([middle], "any") is None
    [board] = opened.boards.boards(ALICE["sub"], archived=False)
    assert (board.image_count, board.cover_image_id) == (1, items[2].image.id)
    assert ids(opened.boards.board_items(board_id)) == [items[2].image.id]
    assert opened.boards.board_image_ids(board_id) == [items[2].image.id]
    # Its files stay while it can still be restored.
    assert all(archive.storage.exists(key) for key in files_of(items[1]))
    [trashed] = alice.trash.items(limit=10)
    assert (trashed.item.image.id, trashed.days_left, alice.trash.count()) == (middle, 30, 1)

    assert alice.trash.restore([middle]) == [middle]

    assert ids(alice.gallery(EVERYTHING, limit=10, offset=0)) == before
    assert opened.boards.board_image_ids(board_id) == [middle, items[2].image.id]
    assert alice.gallery_count(GalleryFilter(favourites_only=True)) == 1
    assert alice.trash.count() == 0 and alice.trash.items(limit=10) == []


def test_only_who_may_delete_an_image_trashes_restores_or_empties_it(
    opened: Store, tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "images")
    [alices] = seed_images(opened, archive, "alice's fox", owner=ALICE)
    [bobs] = seed_images(opened, archive, "bob's owl", owner=BOB)
    alice, bob = gallery_of(opened, archive, ALICE_PERSON), gallery_of(opened, archive, BOB_PERSON)
    admin = gallery_of(opened, archive, ADMIN)

    with pytest.raises(NotAllowed):
        bob.trash.move([bobs.image.id, alices.image.id])  # all or nothing
    assert bob.gallery_count(EVERYTHING) == 2
    alice.trash.move([alices.image.id])
    bob.trash.move([bobs.image.id])

    assert ids([t.item for t in bob.trash.items(limit=10)]) == [bobs.image.id]
    assert bob.trash.image(alices.image.id) is None
    assert bob.trash.restore([alices.image.id]) == []
    assert bob.trash.delete_for_good() == 1  # his own alone
    assert alice.trash.count() == 1 and all(archive.storage.exists(k) for k in files_of(alices))
    assert admin.trash.count() == 1
    assert admin.trash.restore() == [alices.image.id]
    assert alice.image(alices.image.id) is not None


def test_emptying_the_trash_deletes_files_no_other_image_uses(
    opened: Store, tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "images")
    [picture] = seed_images(opened, archive, "a wren")
    [other] = seed_images(opened, archive, "a heron")
    # The same bytes made twice share their files (content addressed).
    same = archive.read(picture.image.file_path or "")
    [copy] = seed_images(opened, archive, "a wren, once more", pictures=(same,))
    admin = gallery_of(opened, archive, ADMIN)

    admin.trash.move([picture.image.id, other.image.id])
    assert admin.trash.delete_for_good([picture.image.id, other.image.id]) == 2

    assert not any(archive.storage.exists(key) for key in files_of(other))
    assert all(archive.storage.exists(key) for key in files_of(copy))  # the copy uses them
    assert ids(all_items(opened)) == [copy.image.id]
    assert admin.trash.count() == 0
    assert admin.trash.delete_for_good() == 0  # an empty Trash: nothing, and no error


def test_days_left_count_whole_days_up_to_the_purge() -> None:
    assert days_left(0.0, 0.0, 30) == 30
    assert days_left(0.0, 0.5 * DAY, 30) == 30  # 29.5 days left: shown as 30
    assert days_left(0.0, 29.9 * DAY, 30) == 1
    assert days_left(0.0, 30 * DAY, 30) == 0
    assert days_left(0.0, 45 * DAY, 30) == 0


def test_expired_images_are_purged_once_by_servers_purging_together(
    database_url: str, tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "images")
    servers = [Store(database_url) for _ in range(3)]
    try:
        first = servers[0]
        old, recent, kept = (seed_images(first, archive, name)[0] for name in "abc")
        first.gallery.trash.move_to_trash([old.image.id], now=1000.0)
        first.gallery.trash.move_to_trash([recent.image.id], now=1000.0 + 29 * DAY)
        now = 1000.0 + 30 * DAY + 1
        errors: list[BaseException] = []
        named: list[list[str]] = []
        start = threading.Barrier(len(servers))

        def purge(store: Store) -> None:
            start.wait()
            try:
                named.append(store.gallery.trash.purge_expired(now - 30 * DAY))
            except BaseException as exc:  # any error fails the test below
                errors.append(exc)

        threads = [threading.Thread(target=purge, args=(store,)) for store in servers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        # Each file is named for deletion by one server alone.
        assert sorted(key for keys in named for key in keys) == sorted(files_of(old))
        left = first.gallery.trash.trashed(TRASH_OF_EVERYONE, viewer_sub=None, limit=9)
        assert ids(left) == [recent.image.id]
        assert ids(all_items(first)) == [kept.image.id]
        purge_expired(first.gallery.trash, archive, 30, now)  # again: nothing left, no error
    finally:
        for store in servers:
            store.close()


def test_the_purger_purges_at_start_without_waiting_for_a_page(
    opened: Store, tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "images")
    [old] = seed_images(opened, archive, "an old sparrow")
    opened.gallery.trash.move_to_trash([old.image.id], now=1000.0)
    purger = Purger(opened.gallery.trash, archive, keep_days=30)
    purger.start()
    try:
        for _ in range(500):
            if not archive.storage.exists(old.image.file_path or ""):
                break
            threading.Event().wait(0.01)
        assert not any(archive.storage.exists(key) for key in files_of(old))
        assert opened.gallery.trash.trashed_image(old.image.id) is None
    finally:
        purger.stop()


def test_emptying_the_trash_removes_the_files_from_a_bucket(bucket: str, tmp_path: Path) -> None:
    archive = Archive(open_storage(Settings(studio_data_dir=tmp_path / "data")))
    store = Store(f"sqlite:///{tmp_path / 'studio.db'}")
    try:
        [gone, kept] = seed_images(store, archive, "two gulls", count=2)
        admin = gallery_of(store, archive, ADMIN)
        admin.trash.move([gone.image.id, kept.image.id])
        admin.trash.restore([kept.image.id])
        assert all(archive.storage.exists(key) for key in files_of(gone))

        assert admin.trash.delete_for_good() == 1

        assert not any(archive.storage.exists(key) for key in files_of(gone))
        assert all(archive.storage.exists(key) for key in files_of(kept))
    finally:
        store.close()
