"""Boards and review links in a real browser: a designer shares a board, a reviewer with
no account votes and comments, the designer sees it live, and a revoked link says so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from oidc_provider_mock import User, run_server_in_thread
from playwright.sync_api import Browser, FloatRect, Locator, Page, expect

from components.board_view import REFRESH_SECONDS
from studio.emulator import RunningEmulator
from tests.browser.sign_in_support import project_with_secrets, sign_in
from tests.browser.support import (
    UI_TIMEOUT,
    StudioServer,
    StudioServers,
    add_to_new_board,
    choose,
    free_port,
    go_to,
    new_tab,
    open_board,
    open_page,
    select_tiles,
    send_generation,
    share_for_review,
    stored_gallery,
    tile,
    wait_for_ready,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

PROMPT = "Three lanterns on a quiet harbour wall"
# One tick of the board's watch, the rerun it starts, and room for a busy machine.
ONE_TICK_MS = int((REFRESH_SECONDS * 2 + 6) * 1000)


def wait_for_images(page: Page, image_ids: list[int]) -> None:
    """Wait until the page's pictures are exactly these images (read from their signed
    links), once a rerun's leftovers are gone; the gallery's are in its grid's shadow root."""
    page.wait_for_function(
        """(ids) => {
            const pictures = (root) => [...root.querySelectorAll("img")].concat(
                ...[...root.querySelectorAll("*")].filter((element) => element.shadowRoot)
                    .map((element) => pictures(element.shadowRoot)));
            const shown = pictures(document.querySelector("[data-testid='stMain']"))
                .map((image) => (image.getAttribute("src") || "").match(/\\/images\\/(\\d+)\\//))
                .filter(Boolean).map((match) => Number(match[1]));
            return [...new Set(shown)].sort((a, b) => a - b).join(",") === ids
                && shown.length === new Set(shown).size;
        }""",
        arg=",".join(map(str, sorted(image_ids))),
    )


def test_a_reviewer_without_an_account_votes_and_the_designer_sees_it_live(
    page: Page, chromium: Browser, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    send_generation(page, PROMPT, count=4)
    wait_for_ready(page, PROMPT)
    chosen = sorted(item.image.id for item in stored_gallery(server.data_dir))[:3]

    go_to(page, "Gallery")
    select_tiles(page, chosen)
    add_to_new_board(
        page,
        "Harbour picks",
        opener=page.locator(".st-key-gallery-add-selected-to-board").get_by_role(
            "button", name="Add to board"
        ),
    )
    open_board(page, "Harbour picks")
    address = share_for_review(page, "Acme (Jane)")
    assert address.startswith(server.url("/review?token="))

    context, reviewer, _console = new_tab(chromium)  # no cookies, no sign-in: a stranger
    try:
        open_page(reviewer, address, "Harbour picks")
        expect(reviewer.get_by_test_id("stSidebar")).to_have_count(0)
        expect(reviewer.get_by_text("Image 1 of 3", exact=True)).to_be_visible()
        reviewer.get_by_role("button", name="Next").click()
        expect(reviewer.get_by_text("Image 2 of 3", exact=True)).to_be_visible()
        wait_until_idle(reviewer)
        reviewer.keyboard.press("ArrowLeft")
        expect(reviewer.get_by_text("Image 1 of 3", exact=True)).to_be_visible()
        wait_until_idle(reviewer)
        choose(reviewer, "View", "Grid")
        expect(reviewer.get_by_test_id("stMain").get_by_role("img")).to_have_count(3)
        wait_for_images(reviewer, chosen)

        reviewer.get_by_role("textbox", name="Your name").fill("Jane")
        reviewer.get_by_role("button", name="Start reviewing").click()
        expect(reviewer.get_by_text("Reviewing as Jane")).to_be_visible()
        wait_until_idle(reviewer)
        choose(reviewer, "Your verdict on image 1", "Approve")
        choose(reviewer, "Your verdict on image 2", "Needs changes")
        reviewer.get_by_role("textbox", name="Comment on image 2 (optional)").fill(
            "Warmer light, please"
        )
        # The grid's second image: its form's button.
        reviewer.get_by_role("button", name="Save comment").nth(1).click()
        expect(reviewer.get_by_text("Comment saved.")).to_be_visible()
        for number, verdict in ((1, "Approve"), (2, "Needs changes")):  # still chosen
            expect(
                reviewer.get_by_role(
                    "radiogroup", name=f"Your verdict on image {number}"
                ).get_by_role("radio", name=verdict, exact=True)
            ).to_be_checked()

        # The designer's board, untouched since sharing, shows both within one tick.
        main = page.get_by_test_id("stMain")
        for verdict in ("Approved", "Needs changes"):
            said = re.compile(rf"^Jane, via Acme \(Jane\) · .* · {verdict}$")
            expect(main.get_by_text(said)).to_have_count(1, timeout=ONE_TICK_MS)
        expect(main.get_by_text("Warmer light, please", exact=True)).to_be_visible()

        page.get_by_role("button", name="Revoke link").click()
        page.get_by_role("button", name="Yes, revoke it").click()  # it asks once
        expect(page.get_by_text(re.compile(" · revoked · "))).to_be_visible()
        reviewer.reload()
        expect(reviewer.get_by_text("This review link was revoked by its owner.")).to_be_visible(
            timeout=UI_TIMEOUT
        )
        wait_until_idle(reviewer)
        expect(reviewer.get_by_test_id("stMain").get_by_role("img")).to_have_count(0)
        expect(reviewer.get_by_role("heading", name="Harbour picks")).to_have_count(0)
    finally:
        context.close()

    # The gallery, narrowed to the board by its link: those 3 of the 4 images.
    page.get_by_role("link", name="In the gallery").click()
    expect(page.get_by_role("heading", name="Gallery", level=1)).to_be_visible()
    wait_until_idle(page)
    expect(page).to_have_url(re.compile(r"[?&]board=\d+"))
    expect(page.get_by_test_id("stMain").get_by_text("3 images", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stMain").get_by_role("img", name=PROMPT)).to_have_count(3)
    wait_for_images(page, chosen)


def test_with_sign_in_configured_the_link_works_signed_out_and_nothing_else_does(
    page: Page,
    chromium: Browser,
    studio_servers: StudioServers,
    upstream: RunningEmulator,
    tmp_path: Path,
) -> None:
    port = free_port()
    with run_server_in_thread(
        user_claims=[User(sub="alice", claims={"email": "alice@example.com", "name": "Alice"})]
    ) as provider:
        issuer = f"http://localhost:{provider.server_port}"
        project = project_with_secrets(
            tmp_path / "project",
            f"""
[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "not-a-real-secret"
client_id = "studio"
client_secret = "not-a-real-secret-either"
server_metadata_url = "{issuer}/.well-known/openid-configuration"
""",
        )
        server = studio_servers.start(project=project, port=port)
        sign_in(page, server, "alice")
        send_generation(page, PROMPT)
        wait_for_ready(page, PROMPT)
        [item] = stored_gallery(server.data_dir)
        go_to(page, "Gallery")
        add_to_new_board(
            page,
            "Alice's lanterns",
            opener=tile(page, item.image.id).get_by_role("button", name="Add to board"),
        )
        open_board(page, "Alice's lanterns")
        address = share_for_review(page, "Client")

        context, stranger, _console = new_tab(chromium)
        try:
            open_page(stranger, address, "Alice's lanterns")
            expect(stranger.get_by_test_id("stMain").get_by_role("img")).to_have_count(1)
            expect(stranger.get_by_role("button", name="Sign in")).to_have_count(0)
            for path in ("/", "/gallery", "/boards", f"/gallery?image={item.image.id}"):
                stranger.goto(server.url(path))
                expect(stranger.get_by_role("button", name="Sign in")).to_be_visible()
                wait_until_idle(stranger)
                assert PROMPT not in stranger.content()
                assert "Alice's lanterns" not in stranger.content()
        finally:
            context.close()


def wait_for_rows(page: Page, image_ids: list[int]) -> None:
    """Wait until the open board's rows show `image_ids`, top to bottom."""
    page.wait_for_function(
        """(ids) => [...document.querySelectorAll("[class*='st-key-board-image-']")]
            .map((row) => row.className.match(/st-key-board-image-(\\d+)/)[1])
            .join(",") === ids""",
        arg=",".join(map(str, image_ids)),
    )
    wait_until_idle(page)


def board_of_three(page: Page, server: StudioServer) -> tuple[int, int, int]:
    """Generate three images, put them on a new board and open it; their ids, in order."""
    open_page(page, server.url(), "Generate")
    send_generation(page, PROMPT, count=3)
    wait_for_ready(page, PROMPT)
    first, second, third = sorted(item.image.id for item in stored_gallery(server.data_dir))
    go_to(page, "Gallery")
    select_tiles(page, [first, second, third])
    add_to_new_board(
        page,
        "Lantern order",
        opener=page.locator(".st-key-gallery-add-selected-to-board").get_by_role(
            "button", name="Add to board"
        ),
    )
    open_board(page, "Lantern order")
    wait_for_rows(page, [first, second, third])
    return first, second, third


def drag_strip(page: Page) -> Locator:
    """Open the board's Drag to reorder; its strip of images, once all of it shows."""
    page.get_by_text("Drag to reorder", exact=True).click()
    strip = page.get_by_role("list", name="The board's images: drag one to a new place")
    # The expander opens with a slide that hides the strip's lower part: a press there
    # would miss. Its open details (in the page) must reach below the strip (in its
    # component's shadow root).
    page.wait_for_function(
        """(strip) => strip.getRootNode().host.closest("details").getBoundingClientRect()
            .bottom >= strip.getBoundingClientRect().bottom""",
        arg=strip.element_handle(),
    )
    strip.scroll_into_view_if_needed()
    expect(strip).to_be_in_viewport(ratio=1)
    return strip


def box_of(strip: Locator, number: int, part: str = "") -> FloatRect:
    """Where image `number` of the strip (or a part of it, by CSS selector) is on screen."""
    found = strip.get_by_role("listitem", name=f"Image {number}: {PROMPT}")
    box = (found.locator(part) if part else found).bounding_box()
    assert box is not None
    return box


def test_images_are_reordered_by_dragging_and_by_up_and_down(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    first, second, third = board_of_three(page, studio_servers.start())
    strip = drag_strip(page)
    source, target = box_of(strip, 3), box_of(strip, 1)
    # A person's drag: press, move in steps, let go on the left half of the first image.
    page.mouse.move(source["x"] + source["width"] / 2, source["y"] + source["height"] / 2)
    page.mouse.down()
    page.mouse.move(target["x"] + 5, target["y"] + target["height"] / 2, steps=12)
    # Mid-drag: the image under the pointer, a bar where it would land, nothing saved yet.
    expect(strip.locator(".drop-marker")).to_be_visible()
    ghost = strip.locator(".ghost").bounding_box()
    assert ghost is not None and ghost["x"] < target["x"] + 5 < ghost["x"] + ghost["width"]
    page.mouse.up()
    wait_for_rows(page, [third, first, second])

    page.locator(f".st-key-board-down-{third}").get_by_role("button", name="Down").click()
    wait_for_rows(page, [first, third, second])


def test_on_a_phone_a_finger_drags_an_image_by_its_handle(
    page: Page, chromium: Browser, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    server = studio_servers.start()
    first, second, third = board_of_three(page, server)
    context, phone, _console = new_tab(chromium, phone=True)
    try:
        phone.goto(page.url)  # the same board, open by its link
        expect(phone.get_by_role("heading", name="Lantern order", level=2)).to_be_visible()
        wait_until_idle(phone)
        strip = drag_strip(phone)
        source, target = box_of(strip, 3, ".handle"), box_of(strip, 1)
        # A finger as the touchscreen reports it: Chromium makes the pointer events of it,
        # and scrolls instead wherever the page lets a touch scroll.
        touchscreen = context.new_cdp_session(phone)

        def touch(kind: str, x: float, y: float) -> None:
            points = [] if kind == "touchEnd" else [{"x": x, "y": y}]
            touchscreen.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        start_x, start_y = source["x"] + source["width"] / 2, source["y"] + source["height"] / 2
        end_x, end_y = target["x"] + 5, target["y"] + target["height"] / 2
        touch("touchStart", start_x, start_y)
        for step in range(1, 13):
            touch(
                "touchMove",
                start_x + (end_x - start_x) * step / 12,
                start_y + (end_y - start_y) * step / 12,
            )
        expect(strip.locator(".drop-marker")).to_be_visible()
        touch("touchEnd", end_x, end_y)
        wait_for_rows(phone, [third, first, second])
    finally:
        context.close()


def test_a_review_address_without_a_valid_token_says_so_and_shows_no_studio(
    page: Page, studio_servers: StudioServers
) -> None:
    server = studio_servers.start()
    for address in ("/review", "/review?token=", "/review?token=cut-short"):
        page.goto(server.url(address))
        expect(page.get_by_text("This review link is not valid.")).to_be_visible(timeout=UI_TIMEOUT)
        wait_until_idle(page)
        expect(page.get_by_text("Page not found")).to_have_count(0)
        expect(page.get_by_test_id("stSidebar")).to_have_count(0)
        expect(page.get_by_role("heading", name="Generate")).to_have_count(0)
        assert page.url.endswith(address), address
