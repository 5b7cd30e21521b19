"""Generate in a real browser: what is sent, what arrives, what survives, what downloads.

Each test starts `streamlit run app.py` with the module's emulator as FoxAPI and an empty
data folder (see support.py). The README's screenshot, docs/gallery.png, comes
from the persistence test: written when missing, refreshed with STUDIO_UPDATE_SCREENSHOT=1.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from studio.emulator import RunningEmulator
from studio.request import MODEL
from tests.browser.support import (
    JOB_TIMEOUT,
    PROJECT_ROOT,
    StudioServers,
    choose,
    generate_button,
    go_to,
    images_named,
    natural_size,
    open_image_dialog,
    open_page,
    send_generation,
    stored_gallery,
    stored_jobs,
    toast,
    wait_for_ready,
    wait_until_idle,
)
from tests.c2pa_support import read_credentials
from tests.conftest import posts

pytestmark = pytest.mark.browser

LIGHTHOUSE = "A lighthouse on a cliff at dusk, long exposure"
KETTLE = "A copper kettle on a wood stove"
# The README's gallery: fixed prompts, two images each, landscape to portrait.
GALLERY_JOBS = (
    ("A red fox curled up in fresh snow, soft morning light", "3:2"),
    ("Paper boats on a rainy window sill", "1:1"),
    ("Hot air balloons over a green valley at sunrise", "16:9"),
    ("A lighthouse keeper's desk with maps and a brass lamp", "4:3"),
)
README_SCREENSHOT = PROJECT_ROOT / "docs" / "gallery.png"


def test_two_16_9_pngs_arrive_and_only_the_documented_fields_are_sent(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")

    send_generation(page, LIGHTHOUSE, ratio="16:9", output_format="PNG", count=2)

    expect(page.get_by_role("progressbar").first).to_be_visible()
    wait_for_ready(page, LIGHTHOUSE)
    expect(page.get_by_role("progressbar")).to_have_count(0)
    expect(images_named(page, LIGHTHOUSE)).to_have_count(2)  # on the card under the form
    assert posts(upstream) == [
        {
            "model": MODEL,
            "prompt": LIGHTHOUSE,
            "num_outputs": 2,
            "aspect_ratio": "16:9",
            "output_format": "png",
        }
    ]

    go_to(page, "Gallery")
    expect(images_named(page, LIGHTHOUSE)).to_have_count(2)
    dialog = open_image_dialog(page)
    expect(dialog).to_contain_text("1 of 2")
    shown = [_full_size_picture(page, dialog, LIGHTHOUSE)]
    dialog.get_by_role("button", name="Next").click()
    expect(dialog).to_contain_text("2 of 2")
    wait_until_idle(page)
    shown.append(_full_size_picture(page, dialog, LIGHTHOUSE))
    # The dialog shows each original as archived, not a re-encoding of it.
    assert shown == [item.image.sha256 for item in stored_gallery(server.data_dir)]


def _full_size_picture(page: Page, dialog: Locator, prompt: str) -> str:
    """The SHA-256 of the dialog's picture, checked to be a PNG at FoxAPI's 16:9 size."""
    expect(dialog).to_contain_text("PNG, 1408 x 768 px")
    picture = dialog.get_by_role("img", name=prompt, exact=True)
    assert natural_size(picture) == (1408, 768)
    return hashlib.sha256(page.request.get(str(picture.get_attribute("src"))).body()).hexdigest()


def test_ctrl_enter_sends_and_the_form_keeps_its_values(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    # Streamlit fetches each kind of element's code when it is first drawn, so the button
    # (and the shortcut it registers) can come a moment after the first run has ended.
    expect(generate_button(page)).to_be_visible()
    prompt = page.get_by_role("textbox", name="Prompt", exact=True)
    prompt.fill("a small red fox in the snow")

    prompt.press("Control+Enter")

    expect(toast(page, "Sent")).to_have_count(1)
    wait_for_ready(page, "a small red fox in the snow")
    expect(images_named(page, "a small red fox in the snow")).to_have_count(1)
    expect(prompt).to_have_value("a small red fox in the snow")
    assert len(posts(upstream)) == 1


def test_images_survive_a_reload_and_a_server_restart(
    page: Page, studio_servers: StudioServers
) -> None:
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    for prompt, ratio in GALLERY_JOBS:
        send_generation(page, prompt, ratio=ratio, count=2)
    go_to(page, "Gallery")
    expect(page.get_by_test_id("stMain")).to_contain_text("8 images", timeout=JOB_TIMEOUT)
    # The last job's rerun may still be on its way: wait until nothing is in flight.
    expect(page.get_by_role("progressbar")).to_have_count(0, timeout=JOB_TIMEOUT)
    wait_until_idle(page)
    made = _gallery_tiles(page)
    assert sorted(made) == sorted(prompt for prompt, _ in GALLERY_JOBS for _ in range(2))

    page.reload()
    wait_until_idle(page)
    assert _gallery_tiles(page) == made

    server = studio_servers.restart(server, signal.SIGTERM)
    open_page(page, server.url("/gallery"), "Gallery")
    assert _gallery_tiles(page) == made

    _save_readme_screenshot(page)


def _gallery_tiles(page: Page) -> list[str]:
    """The prompt of every picture in the grid, in order, once each picture has loaded."""
    main = page.get_by_test_id("stMain")
    expect(main.locator("li.tile").first).to_be_visible()
    pictures = main.locator("img[alt]")
    expect(pictures.first).to_be_visible()  # a tile's picture may follow its button
    for index in range(pictures.count()):
        natural_size(pictures.nth(index))
    return [str(alt) for alt in pictures.evaluate_all("(all) => all.map((img) => img.alt)")]


def _save_readme_screenshot(page: Page) -> None:
    """docs/gallery.png for the README: written when missing, or when asked to refresh it.

    The pictures and the emulator's port differ from run to run, so rewriting it on every
    passing run would leave the working tree changed after each test run.
    """
    refresh = os.environ.get("STUDIO_UPDATE_SCREENSHOT", "").strip() not in ("", "0")
    if README_SCREENSHOT.exists() and not refresh:
        return
    page.mouse.move(1390, 450)  # in the margin: nothing shows a hover state
    README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=README_SCREENSHOT)


def test_a_download_carries_the_prompt_the_archived_pixels_and_content_credentials(
    page: Page, studio_servers: StudioServers, tmp_path: Path
) -> None:
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    send_generation(page, KETTLE, output_format="PNG")
    wait_for_ready(page, KETTLE)
    go_to(page, "Gallery")
    dialog = open_image_dialog(page)
    expect(dialog.get_by_text("Signed with content credentials by Image Studio")).to_be_visible()

    with page.expect_download() as started:
        dialog.get_by_role("button", name="Download").click()

    download = started.value
    assert download.suggested_filename == "a-copper-kettle-on-a-wood-stove-1.png"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    (item,) = stored_gallery(server.data_dir)
    original = (server.data_dir / "images" / (item.image.file_path or "")).read_bytes()
    data = saved.read_bytes()
    assert data != original  # the copy has the prompt written in; the archive stays as sent
    with Image.open(BytesIO(data)) as copy, Image.open(BytesIO(original)) as archived:
        assert copy.format == archived.format == "PNG"
        assert copy.text["parameters"].startswith(KETTLE + "\n")
        assert json.loads(copy.text["image_studio"])["prompt"] == KETTLE
        assert copy.size == archived.size
        assert copy.tobytes() == archived.tobytes()
    credentials = read_credentials(data, "image/png")
    assert credentials.valid_but_untrusted
    assert credentials.action_names == ["c2pa.created"]


def test_a_double_click_on_generate_bills_once(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    page.get_by_role("textbox", name="Prompt", exact=True).fill(KETTLE)

    generate_button(page).dblclick()

    wait_for_ready(page, KETTLE)
    assert len(posts(upstream)) == 1
    assert len(stored_gallery(server.data_dir)) == 1


SWEEP = "A {red|blue} kite over the dunes"


def test_a_sweep_shows_its_price_before_the_click_and_ctrl_enter_sends_each_job_once(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    prompt = page.get_by_role("textbox", name="Prompt", exact=True)
    prompt.fill(SWEEP)
    choose(page, "Aspect ratio", "16:9")  # leaving the prompt hands it to the studio
    more = page.get_by_role("combobox", name="Also in these ratios")
    for ratio in ("1:1", "9:16"):
        more.click()
        page.get_by_role("option", name=ratio, exact=True).click()
        wait_until_idle(page)
    page.keyboard.press("Escape")  # the list of ratios closes

    price = page.get_by_text("6 images: 3 ratios x 2 variants x 1 image will be billed")
    expect(price).to_be_visible()
    assert posts(upstream) == []  # priced, and nothing sent before the click

    prompt.press("Control+Enter")

    # The toast comes once every POST of the sweep is answered.
    expect(toast(page, "Sent: a sweep of 6 jobs")).to_have_count(1)
    expect(page.get_by_text("Sweep: 2 variants x 3 ratios: 6 images")).to_be_visible()
    wait_until_idle(page)
    assert len(stored_jobs(server.data_dir)) == 6
    sent = [(body["prompt"], body["aspect_ratio"]) for body in posts(upstream)]  # type: ignore[index]
    assert sent == [
        (f"A {colour} kite over the dunes", ratio)
        for colour in ("red", "blue")
        for ratio in ("16:9", "1:1", "9:16")
    ]
