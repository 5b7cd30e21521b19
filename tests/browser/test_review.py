"""The review as a presentation, in a real browser at a laptop's and a phone's size: each
image fitted to the screen with the verdict bar in view, a verdict moving on, the count,
and the summary's Send my review reaching the owner's board."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.axe_support import violations
from tests.browser.review_support import SCREENSHOTS, shared_board_in, verdict
from tests.browser.support import (
    UI_TIMEOUT,
    StudioServers,
    new_tab,
    open_page,
    share_for_review,
    swipe,
    wait_until_idle,
)

pytestmark = pytest.mark.browser


def fits(page: Page, picture: Locator, bar: Locator) -> None:
    """The picture wholly on screen above the bar, the bar wholly on screen, and the
    picture no larger than its own pixels."""
    expect(picture).to_be_visible()
    picture.evaluate("image => image.decode()")
    height = page.viewport_size["height"] if page.viewport_size else 0
    shown, pinned = picture.bounding_box(), bar.bounding_box()
    assert shown is not None and pinned is not None
    assert shown["y"] >= 0 and shown["y"] + shown["height"] <= pinned["y"] + 1, (shown, pinned)
    assert pinned["y"] + pinned["height"] <= height + 1, (pinned, height)
    natural = picture.evaluate("image => [image.naturalWidth, image.naturalHeight]")
    assert shown["width"] <= natural[0] + 1 and shown["height"] <= natural[1] + 1


@pytest.mark.parametrize("phone", [False, True], ids=["laptop", "phone"])
def test_the_review_presents_one_fitted_image_at_a_time_and_sends_a_summary(
    chromium: Browser, studio_servers: StudioServers, tmp_path: Path, phone: bool
) -> None:
    board_id, path = shared_board_in(tmp_path / "data")
    server = studio_servers.start(tmp_path / "data")
    context, reviewer, _console = new_tab(chromium, phone=phone)
    size = "phone" if phone else "laptop"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        open_page(reviewer, server.url(path), "Harbour picks")
        reviewer.get_by_role("textbox", name="Your name").fill("Jane")
        reviewer.get_by_role("button", name="Start reviewing").click()
        bar = reviewer.locator(".st-key-review-bar")
        picture = reviewer.locator(".st-key-review-slide img")
        expect(reviewer.get_by_text("Reviewing as Jane")).to_be_visible()
        expect(bar.get_by_text("0 of 3 reviewed")).to_be_visible()
        wait_until_idle(reviewer)
        fits(reviewer, picture, bar)  # 9:16
        reviewer.screenshot(path=SCREENSHOTS / f"tall-{size}.png")
        assert violations(reviewer) == [], "the review, one image at a time"

        verdict(bar, "Approve")
        expect(bar.get_by_text("1 of 3 reviewed")).to_be_visible()
        expect(reviewer.get_by_text("Image 2 of 3", exact=True)).to_be_visible()
        wait_until_idle(reviewer)
        fits(reviewer, picture, bar)  # 16:9
        reviewer.screenshot(path=SCREENSHOTS / f"wide-{size}.png")

        verdict(bar, "Needs changes")
        expect(bar.get_by_text("2 of 3 reviewed")).to_be_visible()
        wait_until_idle(reviewer)
        fits(reviewer, picture, bar)  # small: its own size, not upscaled
        verdict(bar, "Approve")
        summary = reviewer.locator(".st-key-review-summary")
        expect(summary.get_by_text("You approved 2 and asked for changes on 1.")).to_be_visible()
        expect(bar.get_by_text("3 of 3 reviewed")).to_be_visible()
        wait_until_idle(reviewer)
        assert violations(reviewer) == [], "the review's summary"
        summary.get_by_role("button", name="Send my review").click()
        expect(summary.get_by_text("finished your review")).to_be_visible()
        reviewer.screenshot(path=SCREENSHOTS / f"summary-{size}.png")

        owner = context.new_page()
        owner.goto(server.url(f"/boards?board={board_id}"))
        expect(owner.get_by_text("Jane finished their review, via Acme")).to_be_visible(
            timeout=UI_TIMEOUT
        )
    finally:
        context.close()


def test_on_a_phone_a_swipe_steps_through_the_images_and_one_up_or_down_scrolls(
    chromium: Browser, studio_servers: StudioServers, tmp_path: Path
) -> None:
    _board_id, path = shared_board_in(tmp_path / "data")
    server = studio_servers.start(tmp_path / "data")
    context, reviewer, console = new_tab(chromium, phone=True)
    try:
        open_page(reviewer, server.url(path), "Harbour picks")
        expect(reviewer.get_by_text("Image 1 of 3", exact=True)).to_be_visible()
        wait_until_idle(reviewer)
        picture = reviewer.locator(".st-key-review-slide img")
        swipe(reviewer, -120, at=picture)  # to the left: the next image
        expect(reviewer.get_by_text("Image 2 of 3", exact=True)).to_be_visible()
        wait_until_idle(reviewer)
        swipe(reviewer, 120, at=picture)
        expect(reviewer.get_by_text("Image 1 of 3", exact=True)).to_be_visible()
        wait_until_idle(reviewer)
        # Up the page (taller than a phone with the name form): it scrolls, the image stays.
        scrolled = "document.querySelector('[data-testid=stMain]').scrollTop"
        before = reviewer.evaluate(scrolled)
        swipe(reviewer, -30, -200, at=picture)
        reviewer.wait_for_function(f"{scrolled} > {before}")
        wait_until_idle(reviewer)
        expect(reviewer.get_by_text("Image 1 of 3", exact=True)).to_be_visible()
        assert [line for line in console if "page error" in line] == []
    finally:
        context.close()


@pytest.mark.parametrize("phone", [False, True], ids=["laptop", "phone"])
def test_a_reload_keeps_the_reviewer_their_verdicts_and_the_comment_being_typed(
    chromium: Browser, studio_servers: StudioServers, tmp_path: Path, phone: bool
) -> None:
    _board_id, path = shared_board_in(tmp_path / "data")
    server = studio_servers.start(tmp_path / "data")
    context, reviewer, console = new_tab(chromium, phone=phone)
    try:
        open_page(reviewer, server.url(path), "Harbour picks")
        reviewer.get_by_role("textbox", name="Your name").fill("Jane")
        reviewer.get_by_role("button", name="Start reviewing").click()
        expect(reviewer.get_by_text("Reviewing as Jane")).to_be_visible()
        wait_until_idle(reviewer)
        comment(reviewer, 1, "Keep the light", save=True)
        verdict(reviewer.locator(".st-key-review-bar"), "Approve")
        expect(reviewer.get_by_text("Image 2 of 3", exact=True)).to_be_visible()
        wait_until_idle(reviewer)
        comment(reviewer, 2, "Brighter sky, please", save=False)

        reviewer.reload()
        expect(reviewer.get_by_text("Reviewing as Jane")).to_be_visible(timeout=UI_TIMEOUT)
        expect(reviewer.get_by_text("1 of 3 reviewed")).to_be_visible()
        expect(reviewer.get_by_text("Image 2 of 3", exact=True)).to_be_visible()  # left off
        expect(reviewer.get_by_role("textbox", name="Your name")).to_have_count(0)
        wait_until_idle(reviewer)
        expect(open_comment(reviewer, 2)).to_have_value("Brighter sky, please")
        reviewer.keyboard.press("Escape")
        reviewer.get_by_role("button", name="Previous").click()
        expect(reviewer.get_by_text("Image 1 of 3", exact=True)).to_be_visible()
        wait_until_idle(reviewer)
        approve = reviewer.get_by_role("radiogroup", name="Your verdict on image 1")
        expect(approve.get_by_role("radio", name="Approve", exact=True)).to_be_checked()
        expect(open_comment(reviewer, 1)).to_have_value("Keep the light")
        assert [line for line in console if "page error" in line] == []
    finally:
        context.close()


def open_comment(page: Page, number: int) -> Locator:
    page.locator(".st-key-review-bar").get_by_role("button", name="Comment").click()
    box = page.get_by_role("textbox", name=f"Comment on image {number} (optional)")
    expect(box).to_be_visible()
    return box


def comment(page: Page, number: int, text: str, *, save: bool) -> None:
    box = open_comment(page, number)
    box.fill(text)
    if save:
        page.get_by_role("button", name="Save comment").click()
        expect(page.get_by_text("Comment saved.")).to_be_visible()
        wait_until_idle(page)
    page.keyboard.press("Escape")


@pytest.mark.parametrize("phone", [False, True], ids=["laptop", "phone"])
def test_a_link_shared_from_this_computer_says_who_can_open_it_copies_and_revokes_once(
    chromium: Browser, studio_servers: StudioServers, tmp_path: Path, phone: bool
) -> None:
    board_id, _path = shared_board_in(tmp_path / "data", link=False)
    server = studio_servers.start(tmp_path / "data")
    context, designer, _console = new_tab(chromium, phone=phone)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    size = "phone" if phone else "laptop"
    try:
        designer.goto(server.url(f"/boards?board={board_id}"))
        address = share_for_review(designer, "Acme")
        warning = designer.get_by_text("Only this computer can open links shared from here")
        expect(warning).to_be_visible()
        expect(designer.get_by_text("STUDIO_PUBLIC_URL").first).to_be_visible()
        assert address.startswith(server.url("/review?token="))
        assert "127.0.0.1" in address

        copy = designer.get_by_role("button", name="Copy link", exact=True)
        expect(copy).to_be_visible()
        copy.click()
        expect(designer.get_by_role("status").get_by_text("Copied")).to_be_visible()
        assert designer.evaluate("navigator.clipboard.readText()") == address
        wait_until_idle(designer)
        designer.screenshot(path=SCREENSHOTS / f"shared-{size}.png")
        assert violations(designer) == [], "a board just shared from this computer"

        designer.get_by_role("button", name="Revoke link").click()
        expect(designer.get_by_text("Revoke Acme's link?")).to_be_visible()
        wait_until_idle(designer)
        designer.screenshot(path=SCREENSHOTS / f"revoke-{size}.png")
        designer.get_by_role("button", name="Yes, revoke it").click()
        expect(designer.get_by_text("Link revoked: it shows nothing now.")).to_be_visible()
    finally:
        context.close()


def test_with_a_public_address_the_shared_link_starts_with_it_and_no_warning_shows(
    chromium: Browser, studio_servers: StudioServers, tmp_path: Path
) -> None:
    board_id, _path = shared_board_in(tmp_path / "data", link=False)
    server = studio_servers.start(
        tmp_path / "data", STUDIO_PUBLIC_URL="https://studio.example.com/"
    )
    context, designer, _console = new_tab(chromium)
    try:
        designer.goto(server.url(f"/boards?board={board_id}"))
        address = share_for_review(designer, "Acme")
        assert address.startswith("https://studio.example.com/review?token=")
        expect(designer.get_by_text("Only this computer can open")).to_have_count(0)
    finally:
        context.close()
