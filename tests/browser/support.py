"""The real studio in a real browser: `streamlit run app.py` as a subprocess, driven by Chromium.

Servers run on a free port with the emulator (in the test process) as FoxAPI and their own
data folder; each start writes its own log, which a failing test keeps. Page helpers wait
on what Streamlit reports (its script-run state, a widget's checked state, a toast) and
never sleep.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Locator,
    Page,
    Playwright,
    expect,
)

from studio.records import GalleryFilter, GalleryItem, JobRecord
from studio.store import Store

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_ROOT = PROJECT_ROOT / "test-artifacts"
# Debian's Chromium in a container: no sandbox, GPU or background traffic (no network here).
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
SYSTEM_CHROMIUM = ("/usr/bin/chromium", "chromium", "chromium-browser")
VIEWPORT = {"width": 1400, "height": 900}
PHONE_VIEWPORT = {"width": 390, "height": 844}
START_TIMEOUT = 60.0  # seconds for a server to answer its health check
STOP_TIMEOUT = 20.0  # seconds a stopped server gets to exit before it is killed
UI_TIMEOUT = 30_000  # ms for anything a rerun shows; a first run also opens the studio
JOB_TIMEOUT = 45_000  # ms from Generate to images in the grid; emulator jobs take ~1.5 s
# Keys and addresses the studio's settings read: a developer's own must not leak in.
_STUDIO_VARIABLES = re.compile(r"^(FOXAPI_|STUDIO_)")


# Chromium ------------------------------------------------------------------------


def browser_required() -> bool:
    """Whether a missing browser fails the run (CI sets STUDIO_REQUIRE_BROWSER=1)."""
    return os.environ.get("STUDIO_REQUIRE_BROWSER", "").strip() not in ("", "0")


def find_chromium(playwright: Playwright) -> str | None:
    """$STUDIO_CHROMIUM, else the system's Chromium, else Playwright's own download."""
    configured = os.environ.get("STUDIO_CHROMIUM", "").strip()
    if configured:
        if not Path(configured).is_file():
            pytest.fail(f"STUDIO_CHROMIUM is set to {configured}, but there is no file there.")
        return configured
    for name in SYSTEM_CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    bundled = Path(playwright.chromium.executable_path)
    return str(bundled) if bundled.is_file() else None


def launch_chromium(playwright: Playwright) -> Browser:
    """Chromium, or a skip saying why there is none (a failure when a browser is required)."""
    path = find_chromium(playwright)
    if path is None:
        reason = (
            "No Chromium for the browser tests: set STUDIO_CHROMIUM, install Debian's "
            "chromium (/usr/bin/chromium), or run `playwright install chromium`."
        )
        if browser_required():
            pytest.fail(f"{reason} STUDIO_REQUIRE_BROWSER is set, so this is a failure.")
        pytest.skip(reason)
    return playwright.chromium.launch(executable_path=path, args=list(CHROMIUM_ARGS))


def set_expect_timeout() -> None:
    # Playwright's 5 s default is tight for a rerun on a busy two-core machine.
    expect.set_options(timeout=UI_TIMEOUT)


def new_tab(browser: Browser, *, phone: bool = False) -> tuple[BrowserContext, Page, list[str]]:
    """A fresh context and tab (a phone's: small and touched, when asked); the list collects
    the tab's console errors as they come."""
    context = browser.new_context(
        viewport=PHONE_VIEWPORT if phone else VIEWPORT,
        has_touch=phone,
        is_mobile=phone,
        accept_downloads=True,
        locale="en-GB",
        timezone_id="UTC",
        reduced_motion="reduce",
    )
    context.set_default_timeout(UI_TIMEOUT)
    page = context.new_page()
    console: list[str] = []

    def keep_errors(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            console.append(f"{message.type}: {message.text}")

    page.on("console", keep_errors)
    page.on("pageerror", lambda error: console.append(f"page error: {error}"))
    return context, page, console


# What a failing test leaves behind -------------------------------------------------


def artifact_folder(item: pytest.Item) -> Path:
    """test-artifacts/<module>.<test name>/, in words a file system accepts.

    A rerun (tests/browser/conftest.py) leaves its own folder, `.run-2`: the first failure's
    page and logs are the ones to read.
    """
    name = f"{Path(str(item.fspath)).stem}.{item.name}"
    run = getattr(item, "execution_count", 1)  # set by pytest-rerunfailures
    if run > 1:
        name += f".run-{run}"
    return ARTIFACTS_ROOT / re.sub(r"[^\w.-]+", "-", name).strip("-")


def save_screenshot(page: Page, folder: Path) -> None:
    """The tab as the test left it; a closed or crashed tab leaves a note instead."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=folder / "page.png", timeout=10_000)
    except Error as problem:
        (folder / "page-not-saved.txt").write_text(f"No screenshot: {problem}\n")


# The server ----------------------------------------------------------------------


def streamlit_command(port: int, app: str | Path = "app.py") -> list[str]:
    """`streamlit run` on loopback and `port`, headless, with no file watcher and no usage
    statistics: how the browser tests and the benchmarks start a studio."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]


class ServerDidNotStart(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class StudioServer:
    """One `streamlit run app.py` process; `start` again gives a new process and log."""

    data_dir: Path
    environment: dict[str, str]
    log_path: Path
    port: int = 0
    project: Path = PROJECT_ROOT  # the folder it runs in: its .streamlit/ is the server's
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def start(self) -> None:
        """Start on a free port and return once Streamlit answers its health check."""
        chosen = self.port  # a port given beforehand (a sign-in callback names it) is kept
        for _attempt in range(3):  # a free port can be taken between probe and bind
            self.port = chosen or free_port()
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    streamlit_command(self.port),
                    cwd=self.project,  # .streamlit/config.toml: theme and limits as shipped
                    env=self.environment,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            if self._wait_until_healthy():
                return
            if "already in use" not in self.log_text():
                break
        raise ServerDidNotStart("The studio did not start:\n" + self.log_text()[-4000:])

    def loaded_packages(self, *names: str) -> set[str]:
        """Which of the packages `names` the server's process has loaded native code of."""
        assert self.process is not None
        maps = Path(f"/proc/{self.process.pid}/maps").read_text()
        return {name for name in names if f"/site-packages/{name}/" in maps}

    def _wait_until_healthy(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    if client.get(self.url("/_stcore/health")).text == "ok":
                        return True
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        self.stop(signal.SIGKILL)
        return False

    def stop(self, how: signal.Signals = signal.SIGTERM) -> int | None:
        """Send `how` and return the exit code; a process that will not stop is killed.

        None when there was no process left to stop.
        """
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return None
        process.send_signal(how)
        try:
            return process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class StudioServers:
    """Starts servers for one test, against one upstream, and stops them all afterwards."""

    def __init__(self, workspace: Path, base_url: str, api_key: str) -> None:
        self.workspace = workspace
        self.base_url = base_url
        self.api_key = api_key
        self.started: list[StudioServer] = []

    def start(
        self,
        data_dir: Path | None = None,
        *,
        project: Path = PROJECT_ROOT,
        port: int = 0,
        **settings: str,
    ) -> StudioServer:
        """A fresh server; on `data_dir` when given (a restart), else on an empty folder.

        `project` is the folder it runs in (a copy, to give it a secrets file of its own);
        `port` fixes its port (0: any free one); `settings` are more environment
        variables (STUDIO_ALLOWED_EMAILS=...).
        """
        data_dir = data_dir or self.workspace / "data"
        environment = {
            name: value for name, value in os.environ.items() if not _STUDIO_VARIABLES.match(name)
        }
        environment.update(
            FOXAPI_API_KEY=self.api_key,
            FOXAPI_BASE_URL=self.base_url,
            STUDIO_DATA_DIR=str(data_dir),
            **settings,
        )
        number = len(self.started) + 1
        server = StudioServer(
            data_dir,
            environment,
            self.workspace / f"server-{number}.log",
            port=port,
            project=project,
        )
        self.started.append(server)
        server.start()
        return server

    def restart(self, server: StudioServer, how: signal.Signals = signal.SIGTERM) -> StudioServer:
        """Stop `server` with `how`, then start a new one on the same data folder."""
        server.stop(how)
        return self.start(server.data_dir)

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()

    def logs(self) -> Iterator[Path]:
        return (server.log_path for server in self.started if server.log_path.exists())


def stored_gallery(data_dir: Path) -> list[GalleryItem]:
    """Every archived image in a server's store, newest first."""
    store = Store(f"sqlite:///{data_dir / 'studio.db'}")
    try:
        return store.gallery.gallery(GalleryFilter(), limit=1000, offset=0)
    finally:
        store.close()


def stored_jobs(data_dir: Path) -> list[JobRecord]:
    """Every job in a server's store, newest first."""
    store = Store(f"sqlite:///{data_dir / 'studio.db'}")
    try:
        return store.jobs.jobs()
    finally:
        store.close()


# Pages ---------------------------------------------------------------------------


def wait_until_idle(page: Page, timeout: float = UI_TIMEOUT) -> None:
    """Wait until the page is connected and Streamlit has no script run pending or going."""
    page.locator(
        '[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
        '[data-test-script-state="notRunning"]'
    ).wait_for(state="attached", timeout=timeout)


def open_page(page: Page, url: str, title: str) -> None:
    """Go to `url` and wait until its first run is over and its title shows."""
    page.goto(url)
    expect(page.get_by_role("heading", name=title, exact=True, level=1)).to_be_visible(
        timeout=UI_TIMEOUT
    )
    wait_until_idle(page)


def go_to(page: Page, title: str) -> None:
    """Follow the sidebar's link to a page, as a person would (the session is kept)."""
    nav_link(page, title).click()
    expect(page.get_by_role("heading", name=title, exact=True, level=1)).to_be_visible(
        timeout=UI_TIMEOUT
    )
    wait_until_idle(page)


def nav_link(page: Page, title: str) -> Locator:
    """The sidebar's link to a page, with or without a badge after its name (Boards has
    one for what reviewers said: "Boards 2 new from reviewers")."""
    name = re.compile(rf"^{re.escape(title)}( .+)?$")
    return page.get_by_test_id("stSidebarNav").get_by_role("link", name=name)


def choose(page: Page, group: str, option: str) -> None:
    """Pick `option` in the pills or segmented control labelled `group`."""
    radio = page.get_by_role("radiogroup", name=group).get_by_role("radio", name=option, exact=True)
    radio.click()
    expect(radio).to_be_checked()
    wait_until_idle(page)


def toast(page: Page, text: str) -> Locator:
    return page.get_by_test_id("stToast").filter(has_text=text)


def generate_button(page: Page) -> Locator:
    """The Generate button; its name ends with the shortcut it announces ("Ctrl + Enter")."""
    return page.get_by_role("button", name="Generate Shortcut Ctrl + Enter", exact=True)


def send_generation(
    page: Page,
    prompt: str,
    *,
    ratio: str | None = None,
    output_format: str | None = None,
    count: int | None = None,
) -> None:
    """Fill the Generate form, press Generate, and wait for the toast saying it was sent."""
    if ratio is not None:
        choose(page, "Aspect ratio", ratio)
    if output_format is not None:
        choose(page, "Format", output_format)
    if count is not None:
        choose(page, "Images", str(count))
    page.get_by_role("textbox", name="Prompt", exact=True).fill(prompt)
    generate_button(page).click()
    # Toasts name the prompt (cut at about 60 characters): earlier ones may still show.
    expect(toast(page, "Sent").filter(has_text=prompt[:40])).to_have_count(1)


def wait_for_ready(page: Page, prompt: str) -> None:
    """Wait for the toast saying the job with `prompt` is in the gallery."""
    expect(toast(page, "Ready").filter(has_text=prompt)).to_have_count(1, timeout=JOB_TIMEOUT)
    wait_until_idle(page)


def images_named(page: Page, prompt: str) -> Locator:
    """Images on the page (not the sidebar) whose alt text is `prompt`."""
    return page.get_by_test_id("stMain").get_by_role("img", name=prompt, exact=True)


def job_card(page: Page, prompt: str) -> Locator:
    """The bordered card of the job with `prompt` (the innermost block holding its text)."""
    prompt_text = (
        page.get_by_test_id("stMain").get_by_test_id("stText").get_by_text(prompt, exact=True)
    )
    return prompt_text.locator("xpath=ancestor::*[@data-testid='stVerticalBlock'][1]")


def natural_size(image: Locator) -> tuple[int, int]:
    """The pixel size of the picture the browser loaded (not the size it is drawn at)."""
    expect(image).to_be_visible()
    handle = image.element_handle()
    image.page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=handle)
    width, height = image.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
    return int(width), int(height)


def in_view(page: Page, locator: Locator) -> bool:
    """Whether the element's box lies within the window, as a person sees it."""
    box = locator.bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None
    return box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]


def open_image_dialog(page: Page) -> Locator:
    """Click the picture of the gallery's first tile (the newest image); return the dialog."""
    page.get_by_test_id("stMain").locator("li.tile").first.get_by_role("link").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible(timeout=UI_TIMEOUT)
    return dialog


def swipe(page: Page, across: float, down: float = 0.0, *, at: Locator | None = None) -> None:
    """A finger on a touchscreen (as Chromium receives one from the phone's glass): down on
    the middle of `at` (else of the screen), moved `across` and `down` px in steps, lifted."""
    box = at.bounding_box() if at is not None else None
    size = page.viewport_size or {"width": 0, "height": 0}
    x, y = (
        (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        if box is not None
        else (size["width"] / 2, size["height"] / 2)
    )
    glass = page.context.new_cdp_session(page)
    try:
        glass.send(
            "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]}
        )
        for step in range(1, 11):
            point = {"x": x + across * step / 10, "y": y + down * step / 10}
            glass.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        glass.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        glass.detach()


# Boards ----------------------------------------------------------------------------


def tile(page: Page, image_id: int) -> Locator:
    """The gallery tile of one image (drawn by the grid's component, in its shadow root)."""
    return page.get_by_test_id("stMain").locator(f"li.tile[data-id='{image_id}']")


def selected_count(page: Page) -> int:
    """How many images the gallery's selection bar says are selected (once it is drawn)."""
    pattern = re.compile(r"^Download \((\d+)\)$")
    bar = page.get_by_test_id("stMain").get_by_text(pattern).filter(visible=True)
    expect(bar.first).to_be_visible()
    found = pattern.search(bar.first.inner_text().strip())
    assert found is not None, "no selection bar"
    return int(found.group(1))


def select_tiles(page: Page, image_ids: list[int]) -> None:
    """Tick the gallery tiles of `image_ids` by their corner checkboxes, one at a time."""
    for image_id in image_ids:
        before = selected_count(page)
        checkbox = tile(page, image_id).get_by_role("checkbox", name="Select")
        checkbox.click()
        expect(checkbox).to_be_checked()
        expect(page.get_by_role("link", name=f"Download ({before + 1})")).to_be_visible()
        wait_until_idle(page)


def add_to_new_board(page: Page, name: str, *, opener: Locator) -> None:
    """Press `opener` (a tile's or the selection's Add to board) and make board `name`."""
    opener.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    wait_until_idle(page)
    name_field = dialog.get_by_role("textbox", name="New board name")
    if not name_field.is_visible():  # the picker offers the newest board first
        dialog.get_by_role("combobox", name="Board").click()
        page.get_by_role("option", name="New board…").click()
    name_field.fill(name)
    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(toast(page, "Added")).to_have_count(1)
    expect(dialog).to_have_count(0)
    wait_until_idle(page)


def open_board(page: Page, name: str) -> None:
    """From the Boards page, open the board called `name`."""
    go_to(page, "Boards")
    card = (
        page.get_by_test_id("stVerticalBlock")
        .filter(has=page.get_by_text(name, exact=True))
        .filter(has=page.get_by_role("button", name="Open board"))
    )
    card.last.get_by_role("button", name="Open board").click()
    expect(page.get_by_role("heading", name=name, level=2)).to_be_visible()
    wait_until_idle(page)


def share_for_review(page: Page, label: str) -> str:
    """On an open board, make a review link for `label`; return its address as shown."""
    page.get_by_text("Share for review", exact=True).first.click()  # the expander
    label_field = page.get_by_role("textbox", name="Who it is for")
    label_field.fill(label)
    label_field.press("Tab")  # the form holds the label before its button is pressed
    wait_until_idle(page)
    page.get_by_test_id("stFormSubmitButton").get_by_role("button", name="Share for review").click()
    code = page.get_by_test_id("stCode").locator("code")
    expect(code).to_contain_text("/review?token=")
    wait_until_idle(page)
    return code.inner_text().strip()
