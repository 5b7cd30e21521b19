"""The designer hears what reviewers said, in a real browser: while they work elsewhere in
the studio, votes and a finished review show in the tab's title, as a badge on Boards in
the sidebar and on the board's card, until they open that board."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.axe_support import in_scheme, violations
from tests.browser.review_support import SCREENSHOTS, shared_board_in, verdict
from tests.browser.support import (
    StudioServers,
    go_to,
    nav_link,
    new_tab,
    open_page,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

DASH = "\u2013"
NEWS_TIMEOUT = 40_000  # ms: the studio asks every 10 s, on a busy machine


def review_everything(reviewer: Page, url: str) -> None:
    """A reviewer approving all three images and sending their review: four things said."""
    open_page(reviewer, url, "Harbour picks")
    reviewer.get_by_role("textbox", name="Your name").fill("Jane")
    reviewer.get_by_role("button", name="Start reviewing").click()
    bar = reviewer.locator(".st-key-review-bar")
    for done in range(1, 4):
        expect(bar.get_by_text(f"{done - 1} of 3 reviewed")).to_be_visible()
        wait_until_idle(reviewer)
        verdict(bar, "Approve")
    reviewer.get_by_role("button", name="Send my review").click()
    expect(reviewer.get_by_text("finished your review")).to_be_visible()


def open_sidebar(page: Page) -> None:
    """On a phone the sidebar starts folded away: open it, as a person would."""
    if not page.get_by_test_id("stSidebarNav").is_visible():
        page.get_by_test_id("stExpandSidebarButton").click()
        expect(page.get_by_test_id("stSidebarNav")).to_be_visible()


def fold_sidebar(page: Page) -> None:
    """On a phone the open sidebar covers the page: fold it away again."""
    sidebar = page.get_by_test_id("stSidebar")
    if page.viewport_size and page.viewport_size["width"] < 640 and sidebar.is_visible():
        page.get_by_test_id("stSidebarCollapseButton").get_by_role("button").click()
        expect(page.get_by_test_id("stSidebarNav")).not_to_be_in_viewport()


@pytest.mark.parametrize(
    ("phone", "scheme"), [(False, "light"), (True, "dark")], ids=["laptop", "phone-dark"]
)
def test_votes_and_a_finished_review_reach_the_title_and_boards_until_the_board_is_opened(
    chromium: Browser,
    studio_servers: StudioServers,
    tmp_path: Path,
    phone: bool,
    scheme: Literal["light", "dark"],
) -> None:
    board_id, path = shared_board_in(tmp_path / "data")
    server = studio_servers.start(tmp_path / "data")
    context, designer, console = new_tab(chromium, phone=phone)
    in_scheme(designer, scheme)
    size = "phone" if phone else "laptop"
    try:
        open_page(designer, server.url("/"), "Generate")
        plain_title = designer.title()
        review_everything(context.new_page(), server.url(path))

        # Without a click of the designer's: the studio asks on its own.
        expect(designer).to_have_title(
            f"4 from reviewers {DASH} {plain_title}", timeout=NEWS_TIMEOUT
        )
        open_sidebar(designer)
        boards = nav_link(designer, "Boards")
        expect(boards).to_have_accessible_name("Boards 4 new from reviewers")
        wait_until_idle(designer)
        designer.screenshot(path=SCREENSHOTS / f"news-sidebar-{size}-{scheme}.png")
        assert violations(designer) == [], "the sidebar's badge"

        go_to(designer, "Boards")
        fold_sidebar(designer)
        card = designer.locator(f".st-key-board-card-{board_id}")
        expect(card.get_by_text("4 new from reviewers")).to_be_visible()
        designer.screenshot(path=SCREENSHOTS / f"news-boards-{size}-{scheme}.png")
        in_scheme(designer, "dark" if scheme == "light" else "light")
        assert violations(designer) == [], "a board's card with news"

        card.get_by_role("button", name="Open board").click()
        expect(designer.get_by_text("Jane finished their review, via Acme")).to_be_visible()
        # Seen: the title and the badge go quiet.
        expect(designer).not_to_have_title(re.compile("from reviewers"), timeout=NEWS_TIMEOUT)
        open_sidebar(designer)
        expect(nav_link(designer, "Boards")).to_have_accessible_name("Boards")
        assert [line for line in console if "page error" in line] == []
    finally:
        context.close()
