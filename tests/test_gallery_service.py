"""studio.gallery.service against its store on SQLite and PostgreSQL, with no engine (or
a fake one, where jobs make the images): what each person may see of the gallery, a
board's filter, a job's saved images, downloads, lineage, favourites and deletion."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from studio.archive import Archive
from studio.errors import FoxAPIError
from studio.gallery.service import GalleryService
from studio.links import UrlSigner
from studio.people import NotAllowed, Person
from studio.people.access import Access
from studio.records import GalleryFilter, GalleryItem, InputAsset
from studio.service import EditInput, Lineage, Studio
from studio.settings import Settings
from studio.store import Store
from tests.app_support import ALICE, BOB, seed_images
from tests.service_support import Opened, generate, open_door, png

ALICE_PERSON = Person(ALICE["sub"], ALICE["email"], ALICE["name"])
BOB_PERSON = Person(BOB["sub"], BOB["email"], BOB["name"])
ADMIN = Person("sub-boss", "boss@example.com", "Boss", admin=True)


@pytest.fixture
def opened(database_at_head: str) -> Iterator[Store]:
    store = Store(database_at_head)
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


# Through the door, with jobs sent to a fake engine --------------------------------------


@pytest.fixture
def studio(tmp_path: Path, database_at_head: str) -> Iterator[Opened]:
    opened = open_door(tmp_path / "data", database_at_head, foxapi_api_key="sk-the-servers-key")
    yield opened
    opened.close()


def edit_from(service: Studio, *inputs: EditInput, prompt: str = "at night") -> int:
    """Send an edit of `inputs` and return its image's id."""
    job = service.jobs.send(
        service.jobs.edit(prompt=prompt, num_outputs=1, output_format=None, inputs=inputs),
        service.jobs.server_credentials,
    )
    return service.gallery.saved_images(job.id)[0].id


def _parent_ids(lineage: Lineage) -> list[int]:
    return [item.image.id for item in lineage.made_from if isinstance(item, GalleryItem)]


def test_downloads_carry_the_prompt_and_a_zip_lists_every_image(studio: Opened) -> None:
    service = studio.service
    generate(service, "a fox", count=2)
    items = service.gallery.gallery(GalleryFilter(), limit=10, offset=0)

    copy = service.gallery.download(items[0])
    with Image.open(io.BytesIO(copy.data)) as picture:
        assert "a fox" in picture.info["parameters"]
    assert copy.filename == service.gallery.download_filename(items[0])
    with zipfile.ZipFile(
        io.BytesIO(service.gallery.zip([item.image.id for item in items]))
    ) as bundle:
        assert len(bundle.namelist()) == 3 and "manifest.json" in bundle.namelist()
    assert service.gallery.original(items[0].image) != copy.data
    assert service.gallery.thumbnail(items[0].image)


def test_an_edit_of_an_edit_knows_its_ancestors(studio: Opened) -> None:
    service = studio.service
    [original] = service.gallery.saved_images(generate(service, "a fox").id)

    def edit_of(image_id: int) -> int:
        source = service.gallery.gallery_input(image_id)
        assert source is not None
        return edit_from(service, source)

    child = edit_of(original.id)
    grandchild = edit_of(child)

    assert _parent_ids(service.gallery.lineage(grandchild)) == [child]
    assert _parent_ids(service.gallery.lineage(child)) == [original.id]
    assert [item.image.id for item in service.gallery.lineage(original.id).children] == [child]
    assert [item.image.id for item in service.gallery.lineage(child).children] == [grandchild]


def test_an_edit_of_an_upload_keeps_it_as_an_input_beside_its_gallery_parents(
    studio: Opened,
) -> None:
    service = studio.service
    [gallery_image] = service.gallery.saved_images(generate(service, "a fox").id)
    upload = service.gallery.upload_input(png("teal", (90, 60)), "holiday.png")
    gallery = service.gallery.gallery_input(gallery_image.id)
    assert gallery is not None

    edited = edit_from(service, upload, gallery)

    lineage = service.gallery.lineage(edited)
    kept, parent = lineage.made_from
    assert isinstance(kept, InputAsset) and isinstance(parent, GalleryItem)
    assert parent.image.id == gallery_image.id
    assert (kept.width, kept.height) == (90, 60)
    # What was edited is what is kept: the cleaned upload, byte for byte.
    assert upload.image is not None
    assert service.gallery.input_original(kept) == upload.image.data
    assert Image.open(io.BytesIO(service.gallery.input_thumbnail(kept) or b"")).format == "WEBP"
    assert lineage.before == kept  # the upload came first: the comparison is against it
    assert lineage.links == [] and lineage.missing == 0
    assert studio.archive.path(kept.file_path).is_file()
    # An input is no gallery image: the gallery holds the fox and its edit alone.
    assert service.gallery.gallery_count(GalleryFilter()) == 2
    assert {
        item.image.id for item in service.gallery.gallery(GalleryFilter(), limit=9, offset=0)
    } == {
        gallery_image.id,
        edited,
    }
    # The gallery parent knows its child; the same upload again is the same asset.
    assert [item.image.id for item in service.gallery.lineage(gallery_image.id).children] == [
        edited
    ]
    again = edit_from(service, service.gallery.upload_input(png("teal", (90, 60)), "copy.png"))
    assert service.gallery.lineage(again).made_from == [kept]


def test_an_upload_stays_while_a_job_made_from_it_is_kept(studio: Opened) -> None:
    alice = studio.service.for_person(ALICE_PERSON)
    upload = alice.gallery.upload_input(png("navy"), "sketch.png")
    first = edit_from(alice, upload, prompt="in ink")
    second = edit_from(alice, upload, prompt="in chalk")
    [kept] = alice.gallery.lineage(first).made_from
    assert isinstance(kept, InputAsset)
    stored = studio.archive.path(kept.file_path)

    alice.gallery.trash.move([first])
    assert alice.gallery.trash.delete_for_good() == 1
    assert alice.gallery.lineage(second).made_from == [kept]  # still used: still kept
    assert stored.is_file()

    # One more edit of it, refused before anything was billed, is forgotten with the
    # uploads it alone used: not this one, which the edits before were made from.
    studio.engine.balance = 0
    with pytest.raises(FoxAPIError):
        edit_from(alice, upload, prompt="in oil")
    assert alice.gallery.lineage(second).made_from == [kept]
    assert stored.is_file()


def test_an_upload_is_seen_by_whoever_sees_its_edit(tmp_path: Path, database_at_head: str) -> None:
    studio = open_door(tmp_path / "data", database_at_head, studio_private_galleries=True)
    try:
        alice, bob = studio.service.for_person(ALICE_PERSON), studio.service.for_person(BOB_PERSON)
        edited = edit_from(alice, alice.gallery.upload_input(png("plum"), "private.png"))
        assert len(alice.gallery.lineage(edited).made_from) == 1
        assert bob.gallery.lineage(edited) == Lineage([], [])
        boss = studio.service.for_person(ADMIN)
        assert len(boss.gallery.lineage(edited).made_from) == 1
    finally:
        studio.close()


def test_mine_everyone_and_private_galleries(tmp_path: Path, database_at_head: str) -> None:
    studio = open_door(tmp_path / "data", database_at_head)
    try:
        alice, bob = studio.service.for_person(ALICE_PERSON), studio.service.for_person(BOB_PERSON)
        job = generate(alice, "alice's fox")
        assert job.owner_email == "alice@example.com"
        image_id = alice.gallery.saved_images(job.id)[0].id

        assert bob.gallery.gallery_count(GalleryFilter(mine=True)) == 0
        assert [
            item.job.prompt for item in bob.gallery.gallery(GalleryFilter(), limit=5, offset=0)
        ] == ["alice's fox"]
        assert bob.gallery.image(image_id) is not None
        assert bob.jobs.in_flight() == [] and bob.jobs.recent_jobs(5) == []  # lists show one's own
        assert bob.jobs.recent_prompts() == []  # the prompt box offers one's own history
        assert alice.jobs.recent_prompts() == ["alice's fox"]
    finally:
        studio.close()

    private = open_door(tmp_path / "data", database_at_head, studio_private_galleries=True)
    try:
        bob = private.service.for_person(BOB_PERSON)
        assert not bob.gallery.sees_everyone
        assert bob.gallery.gallery_count(GalleryFilter()) == 0  # Everyone is Mine for him
        assert bob.gallery.image(image_id) is None and bob.jobs.job(job.id) is None
        assert bob.gallery.may_see_image(image_id) is False
        boss = private.service.for_person(ADMIN)
        assert boss.gallery.sees_everyone and boss.gallery.image(image_id) is not None
    finally:
        private.close()


def test_favourites_are_each_persons_own_and_only_for_images_they_see(
    tmp_path: Path, database_at_head: str
) -> None:
    studio = open_door(tmp_path / "data", database_at_head)
    try:
        alice, bob = studio.service.for_person(ALICE_PERSON), studio.service.for_person(BOB_PERSON)
        job = generate(alice, "alice's heron")
        [image] = alice.gallery.saved_images(job.id)
        favourites = GalleryFilter(favourites_only=True)

        bob.gallery.set_favourite(image.id, True)  # everyone's work is visible here: his own mark

        assert bob.gallery.image(image.id).image.favourite  # type: ignore[union-attr]
        assert not alice.gallery.image(image.id).image.favourite  # type: ignore[union-attr]
        assert not alice.gallery.saved_images(job.id)[0].favourite
        assert (
            bob.gallery.gallery_count(favourites) == 1
            and alice.gallery.gallery_count(favourites) == 0
        )
    finally:
        studio.close()

    private = open_door(tmp_path / "data", database_at_head, studio_private_galleries=True)
    try:
        eve = private.service.for_person(Person("sub-eve", "eve@example.com", "Eve"))
        eve.gallery.set_favourite(image.id, True)  # not hers to see: nothing is marked
        assert private.store.gallery.image(image.id, viewer_sub="sub-eve").image.favourite is False  # type: ignore[union-attr]
        alice = private.service.for_person(ALICE_PERSON)
        alice.gallery.set_favourite(image.id, True)
        assert [item.image.id for item in alice.gallery.gallery(favourites, limit=5, offset=0)] == [
            image.id
        ]
    finally:
        private.close()


def test_only_the_owner_or_an_admin_deletes_and_the_files_go_with_it(studio: Opened) -> None:
    alice = studio.service.for_person(ALICE_PERSON)
    bob = studio.service.for_person(BOB_PERSON)
    first = generate(alice, "a fox", count=2)
    second = generate(alice, "an owl")
    shown, kept = alice.gallery.saved_images(first.id)
    [owl] = alice.gallery.saved_images(second.id)
    original = studio.archive.path(shown.file_path or "")
    thumbnail = studio.archive.path(shown.thumb_path or "")

    with pytest.raises(NotAllowed):
        bob.gallery.trash.move([shown.id])
    with pytest.raises(NotAllowed):
        bob.gallery.trash.move([owl.id])
    alice.gallery.trash.move([shown.id])
    assert bob.gallery.trash.delete_for_good() == 0  # not his to empty
    assert original.exists()
    assert alice.gallery.trash.delete_for_good() == 1
    assert alice.gallery.image(shown.id) is None
    assert not original.exists() and not thumbnail.exists()
    assert alice.gallery.image(kept.id) is not None  # nothing else is touched

    admins_trash = studio.service.for_person(ADMIN).gallery.trash
    assert admins_trash.move([owl.id]) == [owl.id]
    assert admins_trash.delete_for_good() == 1
    assert alice.gallery.image(owl.id) is None
    assert alice.gallery.gallery_count(GalleryFilter()) == 1
