"""The README's pictures, made from the studio as it is: run by ./scripts/screenshots.

Seeds a fresh data folder through the command line (`python -m studio generate` on the
demo backend: drawn locally, nothing billed), starts the studio on it, makes a board in
Chromium as a person would, and saves docs/*.png at 1440x900 (desktop) and 390x844
(phone). Nothing of this machine's own data folder, key or settings is used.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a file: the studio and its test helpers from here

from tests.browser.support import (  # noqa: E402 (after the path is set)
    CHROMIUM_ARGS,
    StudioServer,
    add_to_new_board,
    find_chromium,
    open_board,
    open_page,
    select_tiles,
    send_generation,
    set_expect_timeout,
    stored_gallery,
    wait_for_ready,
    wait_until_idle,
)

DOCS = ROOT / "docs"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
BOARD = "Spring campaign"
# (prompt, ratio, images): what a designer's first hour might hold, oldest first.
SEED = (
    ("a lighthouse on a cliff at dusk, oil painting", "16:9", 2),
    ("a red fox curled up in fresh snow, soft morning light", "1:1", 2),
    ("a paper-cut city skyline in teal and orange", "3:2", 2),
    ("a ceramic teapot on a linen cloth, studio photo", "3:4", 1),
    ("a hot-air balloon over lavender fields, watercolour", "2:3", 2),
)
LIVE_PROMPT = "a tram in the rain at night, neon reflections"
_OWN_VARIABLES = re.compile(r"^(FOXAPI_|STUDIO_|AWS_)")


def _environment(data_dir: Path) -> dict[str, str]:
    """This machine's environment less its studio settings: the demo backend, a new folder."""
    environment = {k: v for k, v in os.environ.items() if not _OWN_VARIABLES.match(k)}
    environment["STUDIO_DATA_DIR"] = str(data_dir)
    return environment


def seed(environment: dict[str, str]) -> None:
    for prompt, ratio, images in SEED:
        print(f"Seeding: {prompt} ({images} x {ratio})")
        command = [sys.executable, "-m", "studio", "generate", prompt, "--aspect-ratio", ratio]
        done = subprocess.run(
            [*command, "-n", str(images)], cwd=ROOT, env=environment, capture_output=True
        )
        if done.returncode:  # its progress bars are noise; its error is not
            sys.exit(f"python -m studio generate failed:\n{done.stderr.decode(errors='replace')}")


def _settle(page: Page) -> None:
    """Wait for the page to be still: no run going, no toast, every picture loaded."""
    wait_until_idle(page)
    expect(page.get_by_test_id("stToast")).to_have_count(0, timeout=20_000)
    page.wait_for_timeout(1000)  # a component's first message may start one more run
    wait_until_idle(page)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)
    page.wait_for_function("[...document.images].every((image) => image.complete)")
    page.mouse.move(0, 0)  # no hover state on whatever the last click left the pointer over
    wait_until_idle(page)


def save(page: Page, name: str, *, show: str | None = None) -> None:
    """Save the viewport as docs/NAME.png, scrolled so the text `show` is in its middle."""
    _settle(page)
    if show is not None:
        found = page.get_by_test_id("stMain").get_by_text(show, exact=True).first
        found.evaluate("(element) => element.scrollIntoView({block: 'center'})")
        _settle(page)
    path = DOCS / f"{name}.png"
    page.screenshot(path=path)
    with Image.open(path) as shot:
        shot.save(path, optimize=True)  # smaller in the repository, the same pixels
    print(f"Saved {path.relative_to(ROOT)}")


def _new_page(browser: Browser, viewport: dict[str, int]) -> Page:
    context = browser.new_context(
        viewport=viewport, locale="en-GB", timezone_id="UTC", reduced_motion="reduce"
    )
    context.set_default_timeout(30_000)
    return context.new_page()


def desktop(browser: Browser, server: StudioServer) -> None:
    page = _new_page(browser, DESKTOP)
    open_page(page, server.url("/gallery"), "Gallery")
    newest = [item.image.id for item in stored_gallery(server.data_dir)][:3]
    select_tiles(page, newest)
    opener = page.locator(".st-key-gallery-add-selected-to-board").get_by_role(
        "button", name="Add to board"
    )
    add_to_new_board(page, BOARD, opener=opener)
    open_page(page, server.url("/gallery"), "Gallery")
    save(page, "gallery")
    open_board(page, BOARD)
    save(page, "board")
    open_page(page, server.url("/"), "Generate")
    send_generation(page, LIVE_PROMPT, ratio="16:9", count=2)
    wait_for_ready(page, LIVE_PROMPT)
    save(page, "generate")  # the results are in view beside the form
    page.context.close()


def phone(browser: Browser, server: StudioServer) -> None:
    page = _new_page(browser, PHONE)
    open_page(page, server.url("/"), "Generate")
    save(page, "generate-phone")
    open_page(page, server.url("/gallery"), "Gallery")
    save(page, "gallery-phone", show="11 images")
    page.context.close()


def main() -> None:
    set_expect_timeout()
    with tempfile.TemporaryDirectory(prefix="studio-screenshots-") as folder:
        workspace = Path(folder)
        environment = _environment(workspace / "data")
        seed(environment)
        server = StudioServer(workspace / "data", environment, workspace / "server.log")
        print("Starting the studio on the demo backend...")
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=find_chromium(playwright), args=list(CHROMIUM_ARGS)
                )
                desktop(browser, server)
                phone(browser, server)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
