"""What goes wrong, as a person sees it: a refused key, a failed task, markup in a prompt."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from studio.archive import Archive
from studio.emulator import RunningEmulator
from studio.emulator.faults import POLICY_REFUSAL
from studio.states import JobStatus
from studio.store import Store
from tests.app_support import seed_images, seed_job
from tests.browser.support import (
    JOB_TIMEOUT,
    StudioServers,
    generate_button,
    go_to,
    images_named,
    job_card,
    open_image_dialog,
    open_page,
    send_generation,
    toast,
    wait_for_ready,
)
from tests.conftest import EMULATOR_KEY

pytestmark = pytest.mark.browser

SCRIPT = "<img src=x onerror=alert(1)>"
MARKUP = "**bold** <img src=x onerror=alert(1)> :red[red]"
REASON = "*Refused*: <b>policy</b> :tada: $x^2$ -> [link](https://e.x) # not a heading"


def test_a_refused_key_is_explained_next_to_the_form(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    server = studio_servers.start()
    upstream.config.api_key = "sk-only-the-account-owner-knows-this"  # the server's is wrong now
    open_page(page, server.url(), "Generate")
    prompt = page.get_by_role("textbox", name="Prompt", exact=True)
    prompt.fill("A quiet harbour at dawn")

    generate_button(page).click()

    message = page.get_by_role("alert").filter(has_text="FoxAPI did not accept the API key")
    expect(message).to_contain_text("Check it and enter it again.")
    button = generate_button(page).bounding_box()
    box, field = message.bounding_box(), prompt.bounding_box()
    assert box is not None and button is not None and field is not None
    assert box["y"] >= button["y"] + button["height"]  # under the form's button...
    assert abs(box["x"] - field["x"]) < 40  # ...in the form's column
    expect(prompt).to_have_value("A quiet harbour at dawn")  # nothing typed is lost
    expect(page.get_by_role("progressbar")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(EMULATOR_KEY)
    refused = [entry.status for entry in upstream.log if entry.path == "/v1/images/generations"]
    assert refused == [401]


def test_a_failed_task_shows_foxapis_reason_on_its_card(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    upstream.config.fail_next_tasks = 1
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")

    send_generation(page, "A fox made of fireworks")

    expect(toast(page, "Failed").filter(has_text="A fox made of fireworks")).to_have_count(
        1, timeout=JOB_TIMEOUT
    )
    card = job_card(page, "A fox made of fireworks")
    reason = card.get_by_role("alert").get_by_test_id("stMarkdownContainer")
    expect(reason).to_have_text(f"Failed: {POLICY_REFUSAL}")
    expect(card.get_by_role("button", name="Retry")).to_be_visible()
    expect(images_named(page, "A fox made of fireworks")).to_have_count(0)


def test_a_prompt_with_html_is_shown_as_text_and_never_runs(
    page: Page, dialogs: list[str], studio_servers: StudioServers
) -> None:
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")

    send_generation(page, SCRIPT)

    wait_for_ready(page, SCRIPT)
    expect(toast(page, "Ready")).to_contain_text(f"“{SCRIPT}” is in the gallery")
    # Done: the newest result shows large in the feed, its prompt as text and alt text.
    feed = page.locator(".st-key-studio-feed")
    expect(feed.get_by_test_id("stText").get_by_text(SCRIPT, exact=True)).to_be_visible()
    expect(images_named(page, SCRIPT)).to_have_count(1)
    go_to(page, "Gallery")
    expect(page.locator("li.tile").get_by_text(SCRIPT, exact=True)).to_be_visible()
    dialog = open_image_dialog(page)
    expect(dialog.get_by_test_id("stText")).to_have_text(SCRIPT)
    assert page.locator("img[src='x']").count() == 0
    assert dialogs == []


def test_markup_in_prompts_and_foxapis_reasons_renders_as_typed(
    page: Page, studio_servers: StudioServers, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    store = Store(f"sqlite:///{data_dir / 'studio.db'}")
    try:
        seed_images(store, Archive(data_dir / "images"), MARKUP)
        seed_job(store, "refused", status=JobStatus.FAILED, error_message=REASON)
    finally:
        store.close()
    server = studio_servers.start(data_dir)

    open_page(page, server.url("/gallery"), "Gallery")

    expect(images_named(page, MARKUP)).to_have_count(1)
    expect(page.get_by_text(MARKUP, exact=True)).to_be_visible()
    # FoxAPI's words go through Markdown (an alert), escaped: they too show as typed.
    alert = page.get_by_role("alert").filter(has_text="Refused")
    expect(alert).to_have_count(1)
    shown = alert.get_by_test_id("stMarkdownContainer").inner_text()
    assert shown.replace("\u2060", "").strip() == f"Failed: {REASON}"
    assert alert.locator("a").count() == 0
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("strong").count() == 0
    assert page.locator("em").count() == 0
