"""Presenter mode in a real browser: a board full-screen, fitted, stepping with the keys,
captions on and off, nothing else on screen; and only for someone signed in."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser, Page, expect

from components.present import MAX_IMAGES, NO_BOARD, NO_IMAGES, TOO_MANY
from tests.browser.axe_support import in_scheme, violations
from tests.browser.review_support import SCREENSHOTS, shared_board_in
from tests.browser.sign_in_support import project_with_secrets
from tests.browser.support import (
    UI_TIMEOUT,
    StudioServers,
    new_tab,
    open_page,
    select_tiles,
    stored_gallery,
    swipe,
    wait_until_idle,
)

pytestmark = pytest.mark.browser


def fitted(page: Page) -> None:
    """The image wholly on screen above the bar, and no larger than its own pixels."""
    picture = page.locator(".st-key-present-slide img")
    expect(picture).to_be_visible()
    picture.evaluate("image => image.decode()")
    wait_until_idle(page)
    shown = picture.bounding_box()
    bar = page.locator(".st-key-present-bar").bounding_box()
    height = page.viewport_size["height"] if page.viewport_size else 0
    assert shown is not None and bar is not None
    assert shown["y"] >= 0 and shown["y"] + shown["height"] <= bar["y"] + 1, (shown, bar)
    assert bar["y"] + bar["height"] <= height + 1, (bar, height)
    natural = picture.evaluate("image => [image.naturalWidth, image.naturalHeight]")
    assert shown["width"] <= natural[0] + 1 and shown["height"] <= natural[1] + 1


@pytest.mark.parametrize(
    ("phone", "scheme"), [(False, "light"), (True, "dark")], ids=["laptop", "phone-dark"]
)
def test_a_board_presents_full_screen_fitted_and_steps_with_the_keys(
    chromium: Browser,
    studio_servers: StudioServers,
    tmp_path: Path,
    phone: bool,
    scheme: Literal["light", "dark"],
) -> None:
    board_id, _path = shared_board_in(tmp_path / "data", link=False)
    server = studio_servers.start(tmp_path / "data")
    context, page, console = new_tab(chromium, phone=phone)
    in_scheme(page, scheme)
    size = "phone" if phone else "laptop"
    try:
        page.goto(server.url(f"/present?board={board_id}"))
        expect(page.get_by_text("1 of 3", exact=True)).to_be_visible(timeout=UI_TIMEOUT)
        expect(page.get_by_role("heading", name="Harbour picks", level=1)).to_be_attached()
        expect(page.get_by_test_id("stSidebar")).to_have_count(0)
        expect(page.get_by_test_id("stHeader")).to_be_hidden()
        expect(page.get_by_text("a tall lighthouse", exact=True)).to_be_visible()
        fitted(page)  # 9:16
        page.screenshot(path=SCREENSHOTS / f"present-tall-{size}.png")
        assert violations(page) == [], "presenter mode"

        page.keyboard.press("ArrowRight")
        expect(page.get_by_text("2 of 3", exact=True)).to_be_visible()
        fitted(page)  # 16:9
        page.get_by_text("Captions", exact=True).click()
        expect(page.get_by_text("a wide harbour", exact=True)).to_have_count(0)
        fitted(page)
        page.screenshot(path=SCREENSHOTS / f"present-wide-{size}.png")
        page.keyboard.press("ArrowLeft")
        expect(page.get_by_text("1 of 3", exact=True)).to_be_visible()
        assert [line for line in console if "page error" in line] == []
    finally:
        context.close()


def test_presenter_mode_is_for_someone_signed_in(
    chromium: Browser, studio_servers: StudioServers, tmp_path: Path
) -> None:
    board_id, _path = shared_board_in(tmp_path / "data", link=False)
    project = project_with_secrets(
        tmp_path / "project",
        """
[auth]
redirect_uri = "http://127.0.0.1:8501/oauth2callback"
cookie_secret = "not-a-real-secret"
client_id = "studio"
client_secret = "not-a-real-secret-either"
server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"
""",
    )
    server = studio_servers.start(tmp_path / "data", project=project)
    context, page, _console = new_tab(chromium)
    try:
        page.goto(server.url(f"/present?board={board_id}"))
        expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=UI_TIMEOUT)
        wait_until_idle(page)
        expect(page.get_by_test_id("stMain").get_by_role("img")).to_have_count(0)
        assert "a tall lighthouse" not in page.content()
    finally:
        context.close()


def test_on_a_phone_a_swipe_across_steps_and_one_up_or_down_does_not(
    chromium: Browser, studio_servers: StudioServers, tmp_path: Path
) -> None:
    board_id, _path = shared_board_in(tmp_path / "data", link=False)
    server = studio_servers.start(tmp_path / "data")
    context, page, console = new_tab(chromium, phone=True)
    try:
        page.goto(server.url(f"/present?board={board_id}"))
        expect(page.get_by_text("1 of 3", exact=True)).to_be_visible(timeout=UI_TIMEOUT)
        wait_until_idle(page)
        slide = page.locator(".st-key-present-slide img")
        swipe(page, -120, at=slide)  # to the left: the next image, as a phone's photos do
        expect(page.get_by_text("2 of 3", exact=True)).to_be_visible()
        wait_until_idle(page)
        swipe(page, -20, -150, at=slide)  # mostly up: a scroll, not a step
        swipe(page, -30, at=slide)  # too short to mean anything
        wait_until_idle(page)
        expect(page.get_by_text("2 of 3", exact=True)).to_be_visible()
        swipe(page, 120, at=slide)
        expect(page.get_by_text("1 of 3", exact=True)).to_be_visible()
        assert [line for line in console if "page error" in line] == []
    finally:
        context.close()


@pytest.mark.parametrize(
    ("phone", "scheme"), [(False, "dark"), (True, "light")], ids=["laptop-dark", "phone"]
)
def test_a_gallery_selection_presents_its_images_alone(
    chromium: Browser,
    studio_servers: StudioServers,
    tmp_path: Path,
    phone: bool,
    scheme: Literal["light", "dark"],
) -> None:
    shared_board_in(tmp_path / "data", link=False)
    by_prompt = {
        item.job.request.prompt: item.image.id for item in stored_gallery(tmp_path / "data")
    }
    chosen = [by_prompt["a tall lighthouse"], by_prompt["a small buoy"]]
    server = studio_servers.start(tmp_path / "data")
    context, page, console = new_tab(chromium, phone=phone)
    in_scheme(page, scheme)
    size = "phone" if phone else "laptop"
    try:
        open_page(page, server.url("/gallery"), "Gallery")
        select_tiles(page, chosen)
        present = page.get_by_role("link", name="Present")
        expect(present).to_have_attribute("href", f"/present?images={chosen[0]},{chosen[1]}")
        page.screenshot(path=SCREENSHOTS / f"gallery-selection-{size}-{scheme}.png")
        page.goto(server.url(f"/present?images={chosen[0]},{chosen[1]}"))
        expect(page.get_by_text("1 of 2", exact=True)).to_be_visible(timeout=UI_TIMEOUT)
        expect(page.get_by_role("heading", name="Selected images", level=1)).to_be_attached()
        expect(page.get_by_text("a tall lighthouse", exact=True)).to_be_visible()
        fitted(page)
        page.screenshot(path=SCREENSHOTS / f"present-selection-{size}-{scheme}.png")
        assert violations(page) == [], "presenting a gallery selection"
        page.keyboard.press("ArrowRight")
        expect(page.get_by_text("a small buoy", exact=True)).to_be_visible()
        expect(page.get_by_text("a wide harbour", exact=True)).to_have_count(0)  # not chosen
        page.get_by_role("link", name="Exit").click()  # in this tab, not another
        expect(page.get_by_role("heading", name="Gallery", level=1)).to_be_visible()
        assert len(context.pages) == 1
        assert [line for line in console if "page error" in line] == []
    finally:
        context.close()


def test_play_shows_the_next_image_every_few_seconds_loops_and_pauses(
    chromium: Browser, studio_servers: StudioServers, tmp_path: Path
) -> None:
    board_id, _path = shared_board_in(tmp_path / "data", link=False)
    server = studio_servers.start(tmp_path / "data")
    context, page, console = new_tab(chromium)
    try:
        page.goto(server.url(f"/present?board={board_id}"))
        bar = page.locator(".st-key-present-bar")
        expect(bar.get_by_text("1 of 3", exact=True)).to_be_visible(timeout=UI_TIMEOUT)
        bar.get_by_role("button", name="Next").click()
        bar.get_by_role("button", name="Next").click()
        expect(bar.get_by_text("3 of 3", exact=True)).to_be_visible()
        bar.get_by_role("combobox", name="Seconds per image").click()
        page.get_by_role("option", name="3 s").click()
        wait_until_idle(page)
        bar.get_by_role("button", name="Play").click()
        started = time.monotonic()
        expect(bar.get_by_role("button", name="Pause")).to_be_visible()
        # After the last image, the first again: a screen left running keeps going.
        expect(bar.get_by_text("1 of 3", exact=True)).to_be_visible(timeout=10_000)
        assert time.monotonic() - started >= 2.5  # never before its three seconds
        expect(bar.get_by_text("2 of 3", exact=True)).to_be_visible(timeout=10_000)
        bar.get_by_role("button", name="Pause").click()
        expect(bar.get_by_role("button", name="Play")).to_be_visible()
        page.wait_for_timeout(4_000)  # longer than the interval: paused means still
        expect(bar.get_by_text("2 of 3", exact=True)).to_be_visible()
        page.keyboard.press("Escape")  # out, as from any slideshow: back to the board
        expect(page.get_by_role("heading", name="Harbour picks", level=2)).to_be_visible()
        assert page.url.endswith(f"/boards?board={board_id}")
        assert [line for line in console if "page error" in line] == []
    finally:
        context.close()


def test_an_address_naming_no_images_of_yours_or_too_many_says_so(
    chromium: Browser, studio_servers: StudioServers, tmp_path: Path
) -> None:
    server = studio_servers.start(tmp_path / "data")
    context, page, _console = new_tab(chromium)
    too_many = ",".join(str(number) for number in range(1, MAX_IMAGES + 2))
    try:
        for address, sentence in (
            ("/present?images=999", NO_IMAGES),
            ("/present?images=", NO_IMAGES),
            (f"/present?images={too_many}", TOO_MANY),
            ("/present?board=999", NO_BOARD),
        ):
            page.goto(server.url(address))
            expect(page.get_by_text(sentence)).to_be_visible(timeout=UI_TIMEOUT)
            expect(page.get_by_test_id("stMain").get_by_role("img")).to_have_count(0)
    finally:
        context.close()
