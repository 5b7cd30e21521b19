"""The Generate form as a person sees it: the prompt stays put, and on a phone the button
is on the first screen, with no keyboard hint a touch screen cannot use."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from studio.emulator import RunningEmulator
from tests.browser.support import (
    PHONE_VIEWPORT,
    StudioServers,
    new_tab,
    open_page,
    send_generation,
    wait_for_ready,
)

pytestmark = pytest.mark.browser

HARBOUR = "A quiet harbour at dawn, fishing boats"


def test_recent_prompts_appear_under_the_button_and_move_nothing_above_it(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    prompt = page.get_by_role("textbox", name="Prompt", exact=True)
    expect(prompt).to_have_attribute(
        "placeholder", "e.g. A red fox curled up in fresh snow, soft morning light"
    )
    before = prompt.bounding_box()

    send_generation(page, HARBOUR)
    wait_for_ready(page, HARBOUR)

    recent = page.get_by_role("combobox", name="Recent prompts")
    expect(recent).to_be_visible()
    after, recent_box = prompt.bounding_box(), recent.bounding_box()
    button = page.locator(".st-key-generate-send").bounding_box()
    assert before is not None and after is not None and recent_box is not None
    assert button is not None
    assert after["y"] == before["y"]  # the prompt did not move
    assert recent_box["y"] > button["y"] + button["height"]  # under the button


def test_on_a_phone_generate_is_on_the_first_screen_without_a_keyboard_hint(
    chromium: Browser, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    server = studio_servers.start()
    context, phone, _console = new_tab(chromium, phone=True)
    try:
        open_page(phone, server.url(), "Generate")

        # The hint is gone from the screen and from the button's name.
        generate = phone.get_by_role("button", name="Generate", exact=True)
        expect(generate).to_be_visible()
        expect(phone.locator(".st-key-generate-send kbd")).to_be_hidden()
        box = generate.bounding_box()
        prompt = phone.get_by_role("textbox", name="Prompt", exact=True).bounding_box()
        assert box is not None and prompt is not None
        assert box["y"] + box["height"] <= PHONE_VIEWPORT["height"], box  # no scrolling
        assert 0 <= prompt["y"] < box["y"]  # the prompt above it, in view too
        # The settings follow under it, a scroll away.
        ratios = phone.get_by_role("radiogroup", name="Aspect ratio").bounding_box()
        assert ratios is not None and ratios["y"] > box["y"]

        phone.get_by_role("textbox", name="Prompt", exact=True).fill(HARBOUR)
        generate.tap()
        wait_for_ready(phone, HARBOUR)
    finally:
        context.close()
