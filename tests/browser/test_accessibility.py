"""axe-core in a real browser: no serious or critical violation from the studio's own markup.

Violations inside Streamlit's own widgets that no app can change are listed in
STREAMLIT_OWN with the reason; everything else (the theme's colours, our headings,
labels, buttons and components) must pass, in the light theme and the dark one (the
studio follows the browser's setting).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Browser, Page, expect

from studio.emulator import RunningEmulator
from tests.browser.axe_support import in_scheme, violations
from tests.browser.gallery_support import seeded_gallery
from tests.browser.support import (
    JOB_TIMEOUT,
    PHONE_VIEWPORT,
    StudioServers,
    add_to_new_board,
    choose,
    generate_button,
    go_to,
    new_tab,
    open_board,
    open_image_dialog,
    open_page,
    select_tiles,
    send_generation,
    share_for_review,
    stored_gallery,
    tile,
    toast,
    wait_for_ready,
    wait_until_idle,
)

pytestmark = pytest.mark.browser


# The page's background in each light (config.toml): proof the browser's setting was followed.
BACKGROUNDS = {"light": "rgb(255, 252, 249)", "dark": "rgb(26, 22, 20)"}
SCHEMES = pytest.mark.parametrize("scheme", ["light", "dark"])


def expect_theme(page: Page, scheme: str) -> None:
    """The theme of `scheme` shows, and the studio's own CSS is in (st.html draws it with a
    component the browser loads on first use, a moment after the page's first run)."""
    expect(page.get_by_test_id("stApp")).to_have_css("background-color", BACKGROUNDS[scheme])
    page.wait_for_function(
        "() => getComputedStyle(document.documentElement).getPropertyValue('--studio-accent')"
    )


@SCHEMES
def test_every_page_and_the_dialog_pass_axe_core(
    page: Page,
    studio_servers: StudioServers,
    upstream: RunningEmulator,
    scheme: Literal["light", "dark"],
) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    in_scheme(page, scheme)
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    expect_theme(page, scheme)
    send_generation(page, "A heron standing in a reed bed", count=2)
    wait_for_ready(page, "A heron standing in a reed bed")

    assert violations(page) == [], "Generate"
    go_to(page, "Edit")
    assert violations(page) == [], "Edit"
    go_to(page, "Gallery")
    assert violations(page) == [], "Gallery"
    dialog = open_image_dialog(page)
    expect(dialog).to_be_visible()
    assert violations(page) == [], "the image dialog"


@SCHEMES
def test_boards_a_board_and_the_review_page_pass_axe_core(
    page: Page,
    chromium: Browser,
    studio_servers: StudioServers,
    upstream: RunningEmulator,
    scheme: Literal["light", "dark"],
) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    in_scheme(page, scheme)
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    send_generation(page, "Two herons at dawn", count=2)
    wait_for_ready(page, "Two herons at dawn")
    first = stored_gallery(server.data_dir)[0]
    go_to(page, "Gallery")
    add_to_new_board(
        page, "Herons", opener=tile(page, first.image.id).get_by_role("button", name="Add to board")
    )

    go_to(page, "Boards")
    assert violations(page) == [], "Boards"
    open_board(page, "Herons")
    address = share_for_review(page, "Acme")
    assert violations(page) == [], "a board, just shared"

    context, reviewer, _console = new_tab(chromium)
    try:
        reviewer.set_viewport_size({"width": 390, "height": 844})  # a phone
        in_scheme(reviewer, scheme)
        open_page(reviewer, address, "Herons")
        expect_theme(reviewer, scheme)
        assert violations(reviewer) == [], "the review page"
        # A reviewer who has given their name, as one must to vote: the grid's verdicts
        # are then live controls (disabled ones are exempt from contrast, WCAG 1.4.3, and
        # axe judged Streamlit's disabled button groups inconsistently).
        reviewer.get_by_role("textbox", name="Your name").fill("Jane")
        reviewer.get_by_role("button", name="Start reviewing").click()
        expect(reviewer.get_by_text("Reviewing as Jane")).to_be_visible()
        choose(reviewer, "View", "Grid")
        assert violations(reviewer) == [], "the review page as a grid"
    finally:
        context.close()


@SCHEMES
def test_the_gallery_grid_with_a_selection_passes_axe_core_on_a_phone_and_a_desktop(
    page: Page,
    chromium: Browser,
    studio_servers: StudioServers,
    tmp_path: Path,
    scheme: Literal["light", "dark"],
) -> None:
    server = seeded_gallery(studio_servers, tmp_path, jobs=10)
    newest = [item.image.id for item in stored_gallery(server.data_dir)][:3]
    page.set_viewport_size({"width": 1440, "height": 900})
    in_scheme(page, scheme)
    open_page(page, server.url("/gallery"), "Gallery")
    expect_theme(page, scheme)
    select_tiles(page, newest[:2])
    tile(page, newest[2]).get_by_role("link").focus()  # a tile's controls show on focus
    assert violations(page) == [], "the gallery, two images selected"

    context, phone, _console = new_tab(chromium, phone=True)
    try:
        in_scheme(phone, scheme)
        open_page(phone, server.url("/gallery"), "Gallery")
        expect_theme(phone, scheme)
        select_tiles(phone, newest[:1])
        assert violations(phone) == [], "the gallery on a phone, one image selected"
    finally:
        context.close()


@SCHEMES
@pytest.mark.parametrize("viewport", [{"width": 1440, "height": 900}, PHONE_VIEWPORT])
def test_the_studio_feed_with_a_sweep_and_edit_pass_axe_core(
    page: Page,
    studio_servers: StudioServers,
    upstream: RunningEmulator,
    scheme: Literal["light", "dark"],
    viewport: dict[str, int],
) -> None:
    """The feed's cards, a sweep's grid with its icon-only actions, and Edit (its input rows)
    beside its feed."""
    page.set_viewport_size(viewport)
    in_scheme(page, scheme)
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    expect_theme(page, scheme)
    prompt = page.get_by_role("textbox", name="Prompt", exact=True)
    prompt.fill("A {grey|white} heron in the reeds")
    prompt.press("Tab")  # priced before the click, so it is sent without asking
    expect(page.get_by_text("2 images: 2 variants x 1 image")).to_be_visible()
    wait_until_idle(page)
    generate_button(page).click()
    expect(toast(page, "Sent: a sweep of 2 jobs")).to_have_count(1)
    expect(page.get_by_role("progressbar")).to_have_count(0, timeout=JOB_TIMEOUT)
    expect(page.locator(".st-key-studio-feed").get_by_role("img")).to_have_count(2)

    assert violations(page) == [], "Generate with a sweep in its feed"
    open_page(page, server.url("/edit"), "Edit")
    page.get_by_role("textbox", name="Image URLs", exact=True).fill(f"{upstream.base_url}/a.png")
    page.get_by_role("button", name="Add URLs", exact=True).click()
    expect(page.get_by_text("Input images (1 of 3)")).to_be_visible()
    assert violations(page) == [], "Edit with an input"


@SCHEMES
def test_the_undo_notice_and_the_trash_pass_axe_core(
    page: Page,
    studio_servers: StudioServers,
    tmp_path: Path,
    scheme: Literal["light", "dark"],
) -> None:
    server = seeded_gallery(studio_servers, tmp_path, jobs=1)
    newest = [item.image.id for item in stored_gallery(server.data_dir)][:2]
    page.set_viewport_size({"width": 1440, "height": 900})
    in_scheme(page, scheme)
    open_page(page, server.url("/gallery"), "Gallery")
    expect_theme(page, scheme)
    select_tiles(page, newest)
    page.locator(".st-key-gallery-selection").get_by_role("button", name="Delete").click()
    notice = page.locator(".st-key-undo-notice").get_by_role("status")
    expect(notice).to_contain_text("2 images moved to the Trash")
    notice.get_by_role("button", name="Undo").focus()  # it stays while the keyboard is on it
    assert violations(page) == [], "the gallery with the undo notice"

    page.get_by_role("button", name="Trash (2)").click()
    expect(page.get_by_role("heading", name="Trash", level=1)).to_be_visible()
    page.locator("[class*='st-key-trash-select-'] label").first.click()
    expect(page.get_by_role("button", name="Restore selected (1)")).to_be_visible()
    assert violations(page) == [], "the Trash, one image selected"
    page.get_by_role("button", name="Empty Trash…").click()
    expect(page.get_by_role("button", name="Delete 2 images for good")).to_be_visible()
    assert violations(page) == [], "the Trash's confirmation"
