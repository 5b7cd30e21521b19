"""The studio's results feed as a person sees it: the newest result in view where the eye is,
a sweep as one grid on the first two screens beside controls that stay put, the phone
brought to the result, and the same feed after a reload (components/feed.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from studio.emulator import RunningEmulator
from tests.browser.support import (
    JOB_TIMEOUT,
    PHONE_VIEWPORT,
    StudioServers,
    choose,
    generate_button,
    images_named,
    natural_size,
    new_tab,
    open_page,
    send_generation,
    toast,
    wait_for_ready,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
LIGHTHOUSE = "A lighthouse on a cliff at dusk"
KITES = "A {red|blue} kite over the dunes"


def _box(picture: Locator) -> dict[str, float]:
    natural_size(picture)  # loaded, so it is drawn at its own size
    box = picture.bounding_box()
    assert box is not None
    return box


def test_the_first_result_is_in_view_beside_the_form_and_a_reload_shows_the_same_feed(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    page.set_viewport_size(DESKTOP)
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    send_generation(page, "An older harbour at night", ratio="1:1")
    wait_for_ready(page, "An older harbour at night")

    send_generation(page, LIGHTHOUSE, ratio="3:2", count=2)
    wait_for_ready(page, LIGHTHOUSE)

    first = _box(images_named(page, LIGHTHOUSE).first)
    assert first["y"] >= 0 and first["y"] + first["height"] <= DESKTOP["height"], first
    assert first["width"] >= 320, first  # large
    button = page.locator(".st-key-generate-send").bounding_box()
    assert button is not None and first["x"] > button["x"] + button["width"]  # beside the form
    feed = page.locator(".st-key-studio-feed")
    prompts = feed.get_by_test_id("stText").all_inner_texts()
    assert prompts == [LIGHTHOUSE, "An older harbour at night"]  # newest first

    page.reload()
    wait_until_idle(page)
    expect(images_named(page, LIGHTHOUSE)).to_have_count(2)
    assert feed.get_by_test_id("stText").all_inner_texts() == prompts


def test_a_six_image_sweep_is_one_grid_on_the_first_two_screens(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    page.set_viewport_size(DESKTOP)
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    prompt = page.get_by_role("textbox", name="Prompt", exact=True)
    prompt.fill(KITES)
    choose(page, "Aspect ratio", "16:9")
    more = page.get_by_role("combobox", name="Also in these ratios")
    for ratio in ("1:1", "9:16"):
        more.click()
        page.get_by_role("option", name=ratio, exact=True).click()
        wait_until_idle(page)
    page.keyboard.press("Escape")

    prompt.press("Control+Enter")

    expect(toast(page, "Sent: a sweep of 6 jobs")).to_have_count(1)
    feed = page.locator(".st-key-studio-feed")
    expect(feed.get_by_text("Sweep: 2 variants x 3 ratios: 6 images")).to_be_visible()
    pictures = feed.get_by_role("img")
    expect(pictures).to_have_count(6, timeout=JOB_TIMEOUT)
    wait_until_idle(page)
    for index in range(6):
        box = _box(pictures.nth(index))
        assert box["y"] >= 0 and box["y"] + box["height"] <= 2 * DESKTOP["height"], box

    # Scrolling down the feed to its end, the controls stay put.
    button = generate_button(page)
    before = button.bounding_box()
    page.mouse.move(1000, 600)
    page.mouse.wheel(0, 2000)
    main = page.get_by_test_id("stMain")
    main.evaluate(  # at the end of the page, a few hundred pixels down
        """(main) => new Promise((done) => { const check = () =>
          main.scrollTop > 100 && main.scrollTop + main.clientHeight >= main.scrollHeight - 2
            ? done() : requestAnimationFrame(check); check(); })"""
    )
    after = button.bounding_box()
    assert before is not None and after is not None
    assert abs(after["y"] - before["y"]) < 1, (before, after)


def test_on_a_phone_the_result_is_brought_into_view_when_it_arrives(
    chromium: Browser, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    server = studio_servers.start()
    context, phone, _console = new_tab(chromium, phone=True)
    try:
        open_page(phone, server.url(), "Generate")
        phone.get_by_role("textbox", name="Prompt", exact=True).fill(LIGHTHOUSE)
        phone.get_by_role("button", name="Generate", exact=True).tap()
        wait_for_ready(phone, LIGHTHOUSE)

        picture = images_named(phone, LIGHTHOUSE)
        expect(picture).to_be_in_viewport()
        box = _box(picture)
        assert 0 <= box["y"] < PHONE_VIEWPORT["height"] / 2, box  # its top half, unscrolled
    finally:
        context.close()
