"""The tab's title in a real browser: what is running, then what is ready, until one looks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from studio.emulator import RunningEmulator
from tests.browser.support import (
    StudioServers,
    open_page,
    send_generation,
    wait_for_ready,
)

pytestmark = pytest.mark.browser

OWLS = "Two snowy owls on a fence post"
DASH = "\u2013"  # the title's en dash: "2 ready \u2013 Image Studio"
# The page as a person in another tab has it: hidden, and the window's focus elsewhere.
_LOOK_AWAY = """() => {
    window.__away = true;
    Object.defineProperty(document, "visibilityState", {
        configurable: true, get: () => (window.__away ? "hidden" : "visible") });
    const hasFocus = Document.prototype.hasFocus;
    document.hasFocus = () => !window.__away && hasFocus.call(document);
    document.dispatchEvent(new Event("visibilitychange"));
}"""
_LOOK_BACK = """() => {
    window.__away = false;
    document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_the_title_counts_jobs_running_then_images_ready_until_the_person_looks(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    expect(page).to_have_title(re.compile(r"^Image Studio|Generate"))
    plain_title = page.title()

    send_generation(page, OWLS, count=2)
    expect(page).to_have_title(f"1 running {DASH} {plain_title}")
    page.evaluate(_LOOK_AWAY)
    wait_for_ready(page, OWLS)

    expect(page).to_have_title(f"2 ready {DASH} {plain_title}")
    page.get_by_role("radiogroup", name="Images").get_by_role("radio", name="1").click()
    expect(page).to_have_title(f"2 ready {DASH} {plain_title}")  # other runs keep it

    page.evaluate(_LOOK_BACK)
    expect(page).to_have_title(plain_title)
