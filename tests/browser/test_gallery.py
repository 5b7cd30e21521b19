"""The gallery in a real browser: the URL holds the view, and the open image, so links work."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from studio.emulator import RunningEmulator
from tests.browser.support import (
    StudioServers,
    go_to,
    open_image_dialog,
    open_page,
    send_generation,
    stored_gallery,
    toast,
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
    opener = page.locator(f"div.st-key-open-image-{second.image.id}").get_by_role(
        "button", name="Open"
    )

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


def test_deleting_closes_the_dialog_and_says_it_cannot_be_undone(
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

    dialog.get_by_role("button", name="Delete…").click()
    expect(page.get_by_text("Deleting cannot be undone: the files go too.")).to_be_visible()
    page.get_by_role("button", name="Delete this image").click()

    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(toast(page, "Deleted. This cannot be undone.")).to_have_count(1)
    expect(page).not_to_have_url(re.compile("image="))
    expect(page.get_by_test_id("stMain").get_by_text("1 image", exact=True)).to_be_visible()
    assert len(stored_gallery(server.data_dir)) == 1
