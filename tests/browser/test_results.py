"""The designer's loop in a real browser: results large beside the form, with what comes next."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from studio.emulator import RunningEmulator
from tests.browser.support import (
    StudioServers,
    choose,
    generate_button,
    images_named,
    open_page,
    send_generation,
    wait_for_ready,
    wait_until_idle,
)
from tests.conftest import posts

pytestmark = pytest.mark.browser

FOXES = "Two foxes in a birch forest, morning mist"
ACTIONS = ("Open", "Download", "Favourite", "Edit this image", "More like this")


def test_two_results_show_large_beside_the_form_with_their_five_actions(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")

    send_generation(page, FOXES, ratio="3:2", count=2)
    wait_for_ready(page, FOXES)

    pictures = images_named(page, FOXES)
    expect(pictures).to_have_count(2)
    button = generate_button(page).bounding_box()
    for index in range(2):
        box = pictures.nth(index).bounding_box()
        assert box is not None and button is not None
        assert box["width"] >= 320, box
        assert box["x"] > button["x"] + button["width"], box  # beside the form
    first = pictures.first.bounding_box()
    assert first is not None and 0 <= first["y"] < first["y"] + first["height"] <= 900, first
    for index in range(2):
        # The result's own actions (the Recent prompts box has an "Open" button of its own).
        card = pictures.nth(index).locator("xpath=ancestor::*[@data-testid='stVerticalBlock'][1]")
        for action in ACTIONS:
            expect(card.get_by_role("button", name=action, exact=True)).to_have_count(1)
    main = page.get_by_test_id("stMain")
    assert main.get_by_role("button", name="More like this", exact=True).count() == 2

    main.get_by_role("button", name="More like this", exact=True).first.click()

    expect(main.get_by_role("progressbar").first).to_be_visible()  # the new job, in flight
    wait_for_ready(page, FOXES)
    first, again = posts(upstream)
    assert again == first


def test_more_like_this_above_the_threshold_is_priced_and_sent_only_on_a_yes(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    server = studio_servers.start(STUDIO_CONFIRM_ABOVE_IMAGES="1")
    open_page(page, server.url(), "Generate")
    choose(page, "Images", "2")
    page.get_by_role("textbox", name="Prompt", exact=True).fill(FOXES)
    generate_button(page).click()
    page.get_by_role("button", name="Send 2 images", exact=True).click()  # Generate asks too
    wait_for_ready(page, FOXES)
    main = page.get_by_test_id("stMain")

    main.get_by_role("button", name="More like this", exact=True).first.click()

    expect(main.get_by_text("This sends 1 job: 2 images, billed by FoxAPI.")).to_be_visible()
    wait_until_idle(page)
    assert len(posts(upstream)) == 1  # nothing sent before the yes
    main.get_by_role("button", name="Send 2 images", exact=True).click()
    expect(main.get_by_role("progressbar").first).to_be_visible()
    wait_for_ready(page, FOXES)
    first, again = posts(upstream)
    assert again == first
