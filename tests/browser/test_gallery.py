"""The gallery in a real browser: the URL holds the view, and the open image, so links work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from studio.emulator import RunningEmulator
from studio.records import GalleryItem
from tests.browser.gallery_support import seeded_gallery
from tests.browser.support import (
    StudioServer,
    StudioServers,
    go_to,
    in_view,
    new_tab,
    open_image_dialog,
    open_page,
    select_tiles,
    selected_count,
    send_generation,
    stored_gallery,
    tile,
    wait_for_ready,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

BOATS = "Paper boats on a rainy window sill"


def test_a_link_to_an_image_opens_it_and_the_arrow_keys_step(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    send_generation(page, BOATS, count=2)
    wait_for_ready(page, BOATS)
    first, second = stored_gallery(server.data_dir)

    fresh = page.context.new_page()  # a new tab, as from a link someone sent
    open_page(fresh, server.url(f"/gallery?image={first.image.id}"), "Gallery")

    dialog = fresh.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("1 of 2")
    dialog.get_by_role("button", name="Next").click()
    expect(dialog).to_contain_text("2 of 2")
    expect(fresh).to_have_url(re.compile(f"image={second.image.id}$"))
    dialog.get_by_role("button", name="Previous").click()
    expect(dialog).to_contain_text("1 of 2")
    wait_until_idle(fresh)
    fresh.keyboard.press("ArrowRight")
    expect(dialog).to_contain_text("2 of 2")
    wait_until_idle(fresh)
    fresh.keyboard.press("ArrowLeft")
    expect(dialog).to_contain_text("1 of 2")

    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)
    expect(fresh).not_to_have_url(re.compile("image="))
    # The feed, the tiles, the dialog's keys: none of them cost the server pandas (66 MB).
    assert server.loaded_packages("pandas", "pyarrow") == set()


def test_a_search_is_written_to_the_url(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    send_generation(page, BOATS)
    wait_for_ready(page, BOATS)
    go_to(page, "Gallery")

    search = page.get_by_role("textbox", name="Search prompts")
    search.fill("boats")
    search.press("Enter")

    expect(page).to_have_url(re.compile(r"[?&]q=boats"))
    again = page.context.new_page()
    open_page(again, page.url, "Gallery")
    expect(again.get_by_role("textbox", name="Search prompts")).to_have_value("boats")


def test_closing_the_dialog_puts_the_focus_back_on_the_tile_that_opened_it(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    send_generation(page, BOATS, count=2)
    wait_for_ready(page, BOATS)
    go_to(page, "Gallery")
    wait_until_idle(page)
    _, second = stored_gallery(server.data_dir)
    opener = tile(page, second.image.id).get_by_role("link")

    opener.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()

    expect(dialog).to_have_count(0)
    expect(opener).to_be_focused()


def test_the_open_image_is_always_in_the_address_bar(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    send_generation(page, BOATS, count=3)
    wait_for_ready(page, BOATS)
    newest, middle, oldest = stored_gallery(server.data_dir)
    go_to(page, "Gallery")

    dialog = open_image_dialog(page)
    expect(page).to_have_url(re.compile(f"[?&]image={newest.image.id}$"))
    expect(dialog.get_by_text("1 of 3", exact=True)).to_be_visible()
    wait_until_idle(page)
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(f"[?&]image={middle.image.id}$"))
    expect(dialog.get_by_text("2 of 3", exact=True)).to_be_visible()
    wait_until_idle(page)
    dialog.get_by_role("button", name="Next").click()
    expect(page).to_have_url(re.compile(f"[?&]image={oldest.image.id}$"))
    wait_until_idle(page)

    page.reload()  # the address bar as it stands, as if copied into a new tab
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.get_by_role("dialog").get_by_text("3 of 3", exact=True)).to_be_visible()
    expect(page.get_by_role("dialog").get_by_role("img", name=BOATS)).to_be_visible()


def test_deleting_closes_the_dialog_and_offers_undo(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    send_generation(page, BOATS, count=2)
    wait_for_ready(page, BOATS)
    go_to(page, "Gallery")
    dialog = open_image_dialog(page)
    expect(dialog.get_by_text("FoxAPI task")).not_to_be_visible()  # folded under Details
    dialog.get_by_text("Details", exact=True).click()
    expect(dialog.get_by_text("FoxAPI task")).to_be_visible()

    dialog.get_by_role("button", name="Delete", exact=True).click()

    expect(page.get_by_role("dialog")).to_have_count(0)
    undo = page.locator(".st-key-undo-notice").get_by_role("button", name="Undo")
    expect(undo).to_be_visible()
    expect(page).not_to_have_url(re.compile("image="))
    expect(page.get_by_test_id("stMain").get_by_text("1 image", exact=True)).to_be_visible()
    assert len(stored_gallery(server.data_dir)) == 1


# A gallery you click ----------------------------------------------------------------


def newest_first(server: StudioServer) -> list[GalleryItem]:
    return stored_gallery(server.data_dir)


def test_selecting_low_on_the_page_keeps_the_selection_bar_in_view_and_shift_selects_a_range(
    page: Page, studio_servers: StudioServers, tmp_path: Path
) -> None:
    server = seeded_gallery(studio_servers, tmp_path)
    items = newest_first(server)
    open_page(page, server.url("/gallery"), "Gallery")
    low, further = items[18], items[21]  # on the first page, far below the bar
    tile(page, low.image.id).scroll_into_view_if_needed()
    bar = page.locator(".st-key-gallery-selection")

    select_tiles(page, [low.image.id])
    tile(page, further.image.id).get_by_role("checkbox").click(modifiers=["Shift"])

    expect(page.get_by_role("link", name="Download (4)")).to_be_visible()
    wait_until_idle(page)
    for item in items[18:22]:
        expect(tile(page, item.image.id).get_by_role("checkbox")).to_be_checked()
    assert not tile(page, items[17].image.id).get_by_role("checkbox").is_checked()
    assert in_view(page, bar)
    assert in_view(page, bar.get_by_role("button", name="Compare"))
    assert in_view(page, bar.get_by_role("link", name="Download (4)"))


def test_a_page_change_from_the_pager_below_starts_at_the_top(
    page: Page, studio_servers: StudioServers, tmp_path: Path
) -> None:
    server = seeded_gallery(studio_servers, tmp_path)
    items = newest_first(server)
    open_page(page, server.url("/gallery"), "Gallery")
    below = page.get_by_test_id("stPagination").last
    below.scroll_into_view_if_needed()
    assert not in_view(page, tile(page, items[0].image.id))

    below.get_by_role("button", name="Page 2", exact=True).click()

    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    first_of_page_two = tile(page, items[24].image.id)
    expect(first_of_page_two).to_be_visible()
    wait_until_idle(page)
    expect(page.get_by_role("heading", name="Gallery", level=1)).to_be_in_viewport()
    assert in_view(page, first_of_page_two)
    expect(page.get_by_test_id("stMain").locator("li.tile")).to_have_count(6)
    # The pager above the grid says the same page.
    top = page.get_by_test_id("stPagination").first
    expect(top.get_by_role("button", name="Page 2", exact=True)).to_have_attribute(
        "aria-current", "page"
    )


def test_tiles_work_by_keyboard_enter_opens_and_space_selects(
    page: Page, studio_servers: StudioServers, tmp_path: Path
) -> None:
    server = seeded_gallery(studio_servers, tmp_path, jobs=2)
    first, second = newest_first(server)[:2]
    open_page(page, server.url("/gallery"), "Gallery")
    picture = tile(page, first.image.id).get_by_role("link")

    picture.focus()
    page.keyboard.press("Space")
    expect(tile(page, first.image.id).get_by_role("checkbox")).to_be_checked()
    expect(page.get_by_role("link", name="Download (1)")).to_be_visible()
    wait_until_idle(page)
    tile(page, second.image.id).get_by_role("link").focus()
    page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(page).to_have_url(re.compile(f"[?&]image={second.image.id}$"))
    assert selected_count(page) == 1


def test_on_a_phone_the_corner_checkbox_shows_without_hovering(
    page: Page, studio_servers: StudioServers, tmp_path: Path
) -> None:
    server = seeded_gallery(studio_servers, tmp_path, jobs=2)
    context, phone, _console = new_tab(page.context.browser, phone=True)  # type: ignore[arg-type]
    try:
        open_page(phone, server.url("/gallery"), "Gallery")
        checkbox = tile(phone, newest_first(server)[0].image.id).get_by_role("checkbox")
        assert checkbox.evaluate("(box) => getComputedStyle(box).opacity") == "1"
        checkbox.tap()
        expect(checkbox).to_be_checked()
        expect(phone.get_by_role("link", name="Download (1)")).to_be_visible()
    finally:
        context.close()
