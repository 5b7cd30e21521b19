"""Edit in a real browser: an uploaded PNG goes through FoxAPI's upload, then the edit,
and the result's dialog shows the upload it was made from; an image pasted on the page
becomes an upload, cleaned like one."""

from __future__ import annotations

import base64
from io import BytesIO
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from components.lightbox import UPLOAD_ALT
from studio.emulator import RunningEmulator
from studio.request import MODEL
from tests.browser.support import (
    StudioServers,
    images_named,
    natural_size,
    open_page,
    wait_for_ready,
)
from tests.conftest import posts

pytestmark = pytest.mark.browser

CHANGE = "Make it night time and add falling snow"
INPUT_SIZE = (320, 240)  # 4:3, so the edit comes back at FoxAPI's 4:3 size, 1280x896


def _landscape_png(path: Path) -> Path:
    picture = Image.linear_gradient("L").resize(INPUT_SIZE).convert("RGB")
    picture.save(path, "PNG")
    return path


def test_an_uploaded_png_is_sent_once_and_the_edit_comes_back(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator, tmp_path: Path
) -> None:
    server = studio_servers.start()
    _edit_an_upload(page, server.url("/edit"), tmp_path)
    result = images_named(page, CHANGE)
    expect(result).to_have_count(1)
    width, height = natural_size(result)  # a thumbnail of the result, shaped like it
    assert abs(width / height - 1280 / 896) < 0.01
    (upload,) = posts(upstream, "/v1/files/upload/stream")
    (edit,) = posts(upstream)
    assert isinstance(upload, dict) and isinstance(edit, dict)
    (input_url,) = edit["image_urls"]
    assert edit == {"model": MODEL, "prompt": CHANGE, "num_outputs": 1, "image_urls": [input_url]}
    # That URL is the upload's: the emulator serves the same bytes there, our picture.
    assert input_url.startswith(f"{upstream.base_url}/cdn/uploads/")
    served = httpx.get(input_url, trust_env=False).content
    assert len(served) == upload["file"]["size"]
    with Image.open(BytesIO(served)) as uploaded:
        assert uploaded.size == INPUT_SIZE


def test_the_result_of_an_upload_shows_it_under_made_from_and_before_and_after(
    page: Page, studio_servers: StudioServers, tmp_path: Path
) -> None:
    server = studio_servers.start()
    _edit_an_upload(page, server.url("/edit"), tmp_path)

    result = images_named(page, CHANGE).first
    card = result.locator("xpath=ancestor::*[@data-testid='stVerticalBlock'][1]")
    card.get_by_role("button", name="Open", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Made from", exact=True)).to_be_visible()
    uploads = dialog.get_by_role("img", name=UPLOAD_ALT, exact=True)
    expect(uploads).to_have_count(1)
    width, height = natural_size(uploads.first)  # its thumbnail, shaped like the upload
    assert abs(width / height - 4 / 3) < 0.02
    expect(dialog.get_by_text(f"Upload, {INPUT_SIZE[0]} x {INPUT_SIZE[1]} px")).to_be_visible()

    dialog.get_by_text("Before and after", exact=True).click()
    expect(uploads).to_have_count(2)
    assert natural_size(uploads.nth(1)) == INPUT_SIZE  # the upload itself, as it was edited
    before_after = uploads.nth(1).locator("xpath=ancestor::*[@data-testid='stExpander'][1]")
    after = before_after.get_by_role("img", name=CHANGE, exact=True)
    assert natural_size(after) == (1280, 896)


def _edit_an_upload(page: Page, edit_address: str, tmp_path: Path) -> None:
    """Upload a landscape PNG on Edit, describe the change, apply it and wait for it."""
    open_page(page, edit_address, "Edit")
    page.get_by_role("tab", name="Upload images").click()
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        _landscape_png(tmp_path / "harbour.png")
    )
    expect(page.get_by_text("Input images (1 of 3)")).to_be_visible()
    page.get_by_role("textbox", name="Describe the change", exact=True).fill(CHANGE)
    page.get_by_role("button", name="Apply edit", exact=True).click()
    wait_for_ready(page, CHANGE)


# A paste event as the browser fires it for Ctrl+V with an image on the clipboard.
PASTE = """([name, type, base64]) => {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const clipboard = new DataTransfer();
  clipboard.items.add(new File([bytes], name, { type }));
  const event = new ClipboardEvent("paste", {
    clipboardData: clipboard, bubbles: true, cancelable: true,
  });
  document.querySelector("h1").dispatchEvent(event);
}"""


def _paste(page: Page, name: str, mime: str, data: bytes) -> None:
    page.evaluate(PASTE, [name, mime, base64.b64encode(data).decode("ascii")])


def test_an_image_pasted_anywhere_on_edit_becomes_a_cleaned_upload(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator, tmp_path: Path
) -> None:
    server = studio_servers.start()
    open_page(page, server.url("/edit"), "Edit")
    photo = BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Pocket camera"  # Make: metadata the studio removes
    Image.linear_gradient("L").resize(INPUT_SIZE).convert("RGB").save(photo, "JPEG", exif=exif)

    heading = page.get_by_text("Input images (1 of 3)")
    for _ in range(5):  # the page's paste listener loads a moment after its first run
        _paste(page, "image.jpg", "image/jpeg", photo.getvalue())
        try:
            expect(heading).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            continue  # the same picture twice is one input: pasting again is harmless

    expect(heading).to_be_visible()
    expect(page.get_by_test_id("stMain").get_by_role("img", name="image.jpg")).to_be_visible()
    # Not the studio's decoding: a GIF on the clipboard is refused in words, nothing added.
    gif = BytesIO()
    Image.new("RGB", (8, 8), "red").save(gif, "GIF")
    _paste(page, "animation.gif", "image/gif", gif.getvalue())
    expect(
        page.get_by_role("alert").filter(has_text="is a GIF image. Only PNG, JPEG and WebP")
    ).to_be_visible()
    expect(page.get_by_text("Input images (1 of 3)")).to_be_visible()

    page.get_by_role("textbox", name="Describe the change", exact=True).fill(CHANGE)
    page.get_by_role("button", name="Apply edit", exact=True).click()
    wait_for_ready(page, CHANGE)
    (upload,) = posts(upstream, "/v1/files/upload/stream")
    (edit,) = posts(upstream)
    assert isinstance(upload, dict) and isinstance(edit, dict)
    (input_url,) = edit["image_urls"]
    with Image.open(BytesIO(httpx.get(input_url, trust_env=False).content)) as sent:
        assert sent.size == INPUT_SIZE
        assert 0x010F not in sent.getexif()  # cleaned like any upload
