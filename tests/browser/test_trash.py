"""Delete, Undo and the Trash in a real browser at 1440x900: nothing deleted by a slip
is lost, and emptying the Trash says how many images go for good."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.gallery_support import seeded_gallery
from tests.browser.support import (
    StudioServers,
    in_view,
    open_page,
    select_tiles,
    stored_gallery,
    tile,
    toast,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

MOVED_ONE = "1 image moved to the Trash"


def tile_ids(page: Page) -> list[str]:
    tiles = page.get_by_test_id("stMain").locator("li.tile")
    return [tiles.nth(n).get_attribute("data-id") or "" for n in range(tiles.count())]


def notice(page: Page) -> Locator:
    return page.locator(".st-key-undo-notice").get_by_role("status")


def delete_in_dialog(page: Page, image_id: int) -> None:
    tile(page, image_id).get_by_role("link").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    wait_until_idle(page)
    dialog.get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(tile(page, image_id)).to_have_count(0)
    wait_until_idle(page)


def test_delete_in_the_dialog_then_undo_puts_the_image_back_where_it_was(
    page: Page, studio_servers: StudioServers, tmp_path: Path
) -> None:
    server = seeded_gallery(studio_servers, tmp_path, jobs=2)
    middle = stored_gallery(server.data_dir)[2].image.id
    open_page(page, server.url("/gallery"), "Gallery")
    # The tiles' code arrives after the page's first run: read them once they are drawn.
    expect(page.get_by_test_id("stMain").locator("li.tile")).to_have_count(6)
    before = tile_ids(page)

    delete_in_dialog(page, middle)

    expect(notice(page)).to_contain_text(MOVED_ONE)
    assert in_view(page, notice(page).get_by_role("button", name="Undo"))
    expect(page).not_to_have_url(re.compile("image="))
    expect(page.get_by_role("button", name="Trash (1)")).to_be_visible()
    notice(page).get_by_role("button", name="Undo").click()

    expect(toast(page, "Restored 1 image.")).to_have_count(1)
    expect(tile(page, middle)).to_have_count(1)
    wait_until_idle(page)
    assert tile_ids(page) == before
    expect(notice(page)).to_have_count(0)

    # Ctrl+Z presses Undo while the notice shows, but not while typing in a field.
    delete_in_dialog(page, middle)
    expect(notice(page)).to_be_visible()
    page.get_by_role("textbox", name="Search prompts").focus()
    page.keyboard.press("Control+z")
    page.get_by_test_id("stMain").get_by_role("heading", name="Gallery").click()
    wait_until_idle(page)
    expect(tile(page, middle)).to_have_count(0)
    page.keyboard.press("Control+z")
    expect(tile(page, middle)).to_have_count(1)
    wait_until_idle(page)
    assert tile_ids(page) == before


def test_the_trash_view_restores_and_empties_after_saying_how_many_go(
    page: Page, studio_servers: StudioServers, tmp_path: Path
) -> None:
    server = seeded_gallery(studio_servers, tmp_path, jobs=1)
    first, second, third = (item.image.id for item in stored_gallery(server.data_dir))
    open_page(page, server.url("/gallery"), "Gallery")
    select_tiles(page, [first, second])
    page.locator(".st-key-gallery-selection").get_by_role("button", name="Delete").click()
    expect(notice(page)).to_contain_text("2 images moved to the Trash")
    wait_until_idle(page)

    page.get_by_role("button", name="Trash (2)").click()
    expect(page.get_by_role("heading", name="Trash", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]view=trash"))
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Deleted for good in 30 days")).to_have_count(2)
    expect(main.get_by_role("img", name=re.compile("^In the Trash"))).to_have_count(2)
    page.locator(f".st-key-trash-restore-{first}").get_by_role("button").click()
    expect(toast(page, "Restored 1 image.")).to_have_count(1)
    expect(main.get_by_text("Deleted for good in 30 days")).to_have_count(1)
    wait_until_idle(page)

    main.get_by_role("button", name="Empty Trash…").click()
    expect(page.get_by_text("Delete 1 image for good?", exact=False)).to_be_visible()
    page.get_by_role("button", name="Delete 1 image for good").click()

    expect(toast(page, "1 image deleted for good.")).to_have_count(1)
    expect(main.get_by_text("The Trash is empty.")).to_be_visible()
    assert {item.image.id for item in stored_gallery(server.data_dir)} == {first, third}
    page.get_by_role("button", name="Back to gallery").click()
    expect(page.get_by_role("heading", name="Gallery", level=1)).to_be_visible()
    expect(tile(page, first)).to_have_count(1)
