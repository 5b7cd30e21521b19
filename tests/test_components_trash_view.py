"""components.trash_view: the Gallery's Trash, with days left, restore and empty."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.runtime import Runtime
from tests.app_support import ALICE, BOB, GALLERY, app_as, open_app, open_app_studio, seed_images


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_the_trash_restores_one_several_or_all(studio: Runtime) -> None:
    items = seed_images(studio.store, studio.archive, "four kites", count=4)
    first, second, third, fourth = (item.image.id for item in items)
    studio.service.gallery.trash.move([first, second, third, fourth])
    app = open_app(GALLERY, view="trash")

    assert [title.value for title in app.title] == ["Trash"]
    assert sum("Deleted for good in 30 days" in said for said in app.caption.values) == 4
    app.button(key=f"trash-restore-{first}").click().run()
    assert studio.store.gallery.image(first) is not None
    assert app.button(key="trash-restore-all").label == "Restore all (3)"

    app.checkbox(key=f"trash-select-{second}").check().run()
    app.checkbox(key=f"trash-select-{third}").check().run()
    assert app.button(key="trash-restore-selected").label == "Restore selected (2)"
    app.button(key="trash-restore-selected").click().run()
    assert studio.service.gallery.trash.count() == 1

    app.button(key="trash-restore-all").click().run()
    assert studio.service.gallery.trash.count() == 0
    assert "The Trash is empty." in [info.value for info in app.info]
    assert "Restored 1 image." in [toast.value for toast in app.toast]


def test_emptying_the_trash_says_how_many_go_and_deletes_their_files(studio: Runtime) -> None:
    kept, gone, also_gone = seed_images(studio.store, studio.archive, "three gulls", count=3)
    studio.service.gallery.trash.move([gone.image.id, also_gone.image.id])
    original = studio.archive.path(gone.image.file_path or "")
    app = open_app(GALLERY, view="trash")

    assert "Delete **2 images** for good? Their files are deleted too. This cannot be undone." in (
        app.markdown.values
    )
    app.button(key="trash-empty").click().run()

    assert not original.exists()
    assert studio.service.gallery.trash.count() == 0
    assert studio.store.gallery.image(kept.image.id) is not None
    assert "2 images deleted for good." in [toast.value for toast in app.toast]


def test_each_person_sees_and_empties_only_what_they_may_delete(studio: Runtime) -> None:
    [alices] = seed_images(studio.store, studio.archive, "alice's heron", owner=ALICE)
    [bobs] = seed_images(studio.store, studio.archive, "bob's owl", owner=BOB)
    studio.store.gallery.trash.move_to_trash([alices.image.id, bobs.image.id], now=1.0e9)

    bob = app_as(BOB, GALLERY, view="trash")
    assert f"trash-restore-{alices.image.id}" not in [button.key for button in bob.button]
    bob.button(key="trash-empty").click().run()

    assert studio.store.gallery.trash.trashed_image(alices.image.id) is not None
    assert studio.store.gallery.trash.trashed_image(bobs.image.id) is None


def test_the_gallery_leads_to_the_trash_and_back(studio: Runtime) -> None:
    [item] = seed_images(studio.store, studio.archive, "a kite")
    app = open_app(GALLERY)
    assert app.button(key="gallery-open-trash").label == "Trash"
    studio.service.gallery.trash.move([item.image.id])
    app.run()
    empty = "The gallery is empty, with 1 image in the Trash: open it beside the title to restore."
    assert empty in [info.value for info in app.info]
    app.button(key="gallery-open-trash").click().run()

    assert app.query_params["view"] == "trash"
    assert [title.value for title in app.title] == ["Trash"]
    app.button(key="trash-back").click().run()
    assert "view" not in app.query_params
    assert [title.value for title in app.title] == ["Gallery"]


def test_a_trash_of_more_than_a_page_pages_and_stays_on_a_page_that_exists(
    studio: Runtime,
) -> None:
    items = [
        item
        for number in range(8)
        for item in seed_images(studio.store, studio.archive, f"terns {number}", count=4)
    ][:30]
    studio.service.gallery.trash.move([item.image.id for item in items])
    app = open_app(GALLERY, view="trash")
    assert len(app.get("checkbox")) == 24
    app.session_state["trash-page"] = 2
    app.run()
    assert len(app.get("checkbox")) == 6  # 30 - 24

    studio.service.gallery.trash.restore([item.image.id for item in items[:10]])
    app.run()

    assert not app.exception
    assert len(app.get("checkbox")) == 20  # one page now: all of them
