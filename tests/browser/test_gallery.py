"""The gallery in a real browser: the URL holds the view, and the open image, so links work."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from studio.emulator import RunningEmulator
from tests.browser.support import (
    StudioServers,
    go_to,
    open_page,
    send_generation,
    stored_gallery,
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
    expect(dialog).to_contain_text("1 of 2 images")
    dialog.get_by_role("button", name="Next").click()
    expect(dialog).to_contain_text("2 of 2 images")
    expect(fresh).to_have_url(re.compile(f"image={second.image.id}$"))
    dialog.get_by_role("button", name="Previous").click()
    expect(dialog).to_contain_text("1 of 2 images")
    wait_until_idle(fresh)
    fresh.keyboard.press("ArrowRight")
    expect(dialog).to_contain_text("2 of 2 images")
    wait_until_idle(fresh)
    fresh.keyboard.press("ArrowLeft")
    expect(dialog).to_contain_text("1 of 2 images")

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
