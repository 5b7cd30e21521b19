"""Presenter mode in a real browser: a board full-screen, fitted, stepping with the keys,
captions on and off, nothing else on screen; and only for someone signed in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.support import UI_TIMEOUT, StudioServers, new_tab, swipe, wait_until_idle
from tests.browser.test_accessibility import in_scheme, violations
from tests.browser.test_review import SCREENSHOTS, shared_board_in
from tests.browser.test_sign_in import project_with_secrets

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
