"""The real app in a real browser: `streamlit run app.py` on a fresh server, driven by Chromium.

Skipped when no Chromium is installed, unless STUDIO_REQUIRE_BROWSER is set (CI).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from app_support import APP_FILE, seed_images, seed_job

from studio.archive import Archive
from studio.store import JobStatus, Store

pytestmark = pytest.mark.browser

MARKUP = "**bold** <img src=x onerror=alert(1)> :red[red]"
REASON = "*Refused*: <b>policy</b> :tada: $x^2$ -> [link](https://e.x) # not a heading"
START_TIMEOUT = 60.0
LIVE_TIMEOUT = 60_000  # ms: a demo job takes about six seconds


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None and Path("/usr/bin/chromium").exists():
        path = "/usr/bin/chromium"
    if path is None:
        if os.environ.get("STUDIO_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required for the browser tests but is not installed.")
        pytest.skip("Chromium is not installed")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def server(data_dir: Path, tmp_path: Path) -> Iterator[str]:
    """A freshly started `streamlit run app.py` on a free port, with no key: the demo backend."""
    port = _free_port()
    env = {
        **os.environ,
        "STUDIO_DATA_DIR": str(data_dir),
        "FOXAPI_API_KEY": "",  # ignore any developer's secrets.toml: the demo backend
    }
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP_FILE),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=APP_FILE.parent,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if httpx.get(f"{base_url}/_stcore/health", timeout=1).text == "ok":
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("The app did not start:\n" + (tmp_path / "server.log").read_text())
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def page(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        yield context.new_page()
        browser.close()


def test_a_deep_link_on_a_fresh_server_gets_the_frame(
    server: str, page: object, data_dir: Path
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.goto(f"{server}/gallery?q=fox&fav=1")

    expect(page.locator("h1")).to_have_text("Gallery", timeout=30_000)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text("Demo backend: images are drawn on this machine")
    expect(sidebar).to_contain_text("FoxAPI key")
    navigation = page.get_by_test_id("stSidebarNav")
    expect(navigation).to_contain_text("Generate")
    expect(navigation).to_contain_text("Edit")
    expect(navigation).not_to_contain_text("app")  # the old folder rules' page list is gone
    assert page.url.endswith("/gallery?q=fox&fav=1")
    expect(page.get_by_test_id("stMain")).to_contain_text("No images yet.")


def test_prompts_render_as_typed_with_the_prompt_as_alt_text(
    data_dir: Path, server: str, page: object
) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    store = Store(f"sqlite:///{data_dir / 'studio.db'}")
    try:
        seed_images(store, Archive(data_dir / "images"), MARKUP)
        seed_job(store, "refused", status=JobStatus.FAILED, error_message=REASON)
    finally:
        store.close()

    page.goto(f"{server}/gallery")

    thumbnail = page.locator(f"img[alt='{MARKUP}']")
    expect(thumbnail).to_have_count(1, timeout=30_000)
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


def test_ctrl_enter_sends_and_the_card_turns_into_images(server: str, page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.goto(server)
    prompt = page.get_by_role("textbox", name="Prompt", exact=True)
    expect(prompt).to_be_visible(timeout=30_000)
    prompt.fill("a small red fox in the snow")

    prompt.press("Control+Enter")

    toasts = page.get_by_test_id("stToast")
    expect(toasts.filter(has_text="Sent")).to_have_count(1, timeout=20_000)
    expect(page.get_by_test_id("stProgress")).to_have_count(1)
    # The live card refreshes itself; when the job is done the whole page reruns once.
    expect(toasts.filter(has_text="Ready")).to_have_count(1, timeout=LIVE_TIMEOUT)
    expect(page.get_by_test_id("stProgress")).to_have_count(0)
    expect(page.locator("img[alt='a small red fox in the snow']")).to_have_count(1)
    expect(prompt).to_have_value("a small red fox in the snow")
