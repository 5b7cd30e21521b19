"""studio.gallery.service against its store on SQLite and PostgreSQL, with no engine:
what each person may see of the gallery, a board's filter, a job's saved images."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.archive import Archive
from studio.gallery.service import GalleryService
from studio.links import UrlSigner
from studio.people import Person
from studio.people.access import Access
from studio.records import GalleryFilter
from studio.settings import Settings
from studio.store import Store
from tests.app_support import ALICE, BOB, seed_images

ALICE_PERSON = Person(ALICE["sub"], ALICE["email"], ALICE["name"])
BOB_PERSON = Person(BOB["sub"], BOB["email"], BOB["name"])
ADMIN = Person("sub-boss", "boss@example.com", "Boss", admin=True)


@pytest.fixture
def opened(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    yield store
    store.close()


def gallery_of(store: Store, archive: Archive, person: Person, *, private: bool) -> GalleryService:
    access = Access(person, private_galleries=private)
    signer = UrlSigner(b"test-secret")
    return GalleryService(Settings(), store.gallery, archive, signer, access)


def test_private_galleries_show_each_person_their_own_and_an_admin_all(
    opened: Store, tmp_path: Path
) -> None:
    archive = Archive(tmp_path / "images")
    [alices] = seed_images(opened, archive, "alice's fox", owner=ALICE)
    [bobs] = seed_images(opened, archive, "bob's owl", owner=BOB)
    bob = gallery_of(opened, archive, BOB_PERSON, private=True)
    admin = gallery_of(opened, archive, ADMIN, private=True)

    shown = bob.gallery(GalleryFilter(), limit=10, offset=0)
    assert [item.image.id for item in shown] == [bobs.image.id]
    assert bob.gallery_count(GalleryFilter()) == 1
    assert bob.image(alices.image.id) is None
    assert not bob.sees_everyone
    assert admin.gallery_count(GalleryFilter()) == 2 and admin.sees_everyone
    # Everyone's work is visible once galleries are not private: Mine is still one's own.
    open_bob = gallery_of(opened, archive, BOB_PERSON, private=False)
    assert open_bob.gallery_count(GalleryFilter()) == 2
    assert open_bob.gallery_count(GalleryFilter(mine=True)) == 1


def test_someone_elses_board_shows_nothing_in_the_gallery(opened: Store, tmp_path: Path) -> None:
    archive = Archive(tmp_path / "images")
    items = seed_images(opened, archive, "three foxes", count=3, owner=ALICE)
    board_id = opened.boards.create_board(ALICE["sub"], ALICE["email"], "Picks")
    opened.boards.add_board_images(board_id, [item.image.id for item in items[:2]])
    on_board = GalleryFilter(board_id=board_id)

    alice = gallery_of(opened, archive, ALICE_PERSON, private=False)
    bob = gallery_of(opened, archive, BOB_PERSON, private=False)
    admin = gallery_of(opened, archive, ADMIN, private=False)
    assert alice.gallery_count(on_board) == 2
    assert {item.image.id for item in alice.gallery(on_board, limit=9, offset=0)} == {
        item.image.id for item in items[:2]
    }
    assert bob.gallery_count(on_board) == 0  # her images he may see, her board not
    assert bob.gallery(on_board, limit=9, offset=0) == []
    assert bob.gallery_count(GalleryFilter()) == 3
    assert admin.gallery_count(on_board) == 2


def test_a_jobs_saved_images_answer_whoever_may_see_the_job(opened: Store, tmp_path: Path) -> None:
    archive = Archive(tmp_path / "images")
    items = seed_images(opened, archive, "two hares", count=2, owner=ALICE)
    job_id = items[0].job.id

    alice = gallery_of(opened, archive, ALICE_PERSON, private=True)
    bob = gallery_of(opened, archive, BOB_PERSON, private=True)
    assert [image.id for image in alice.saved_images(job_id)] == [i.image.id for i in items]
    assert bob.saved_images(job_id) == []
    assert alice.saved_images("0" * 32) == []
