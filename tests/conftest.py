"""Shared fixtures: a real database file and a real archive in a temporary folder.

Browser tests also find here one Chromium and one emulator per module, the servers they
start, their tab, and what a failing test leaves under test-artifacts/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from studio.archive import Archive
from studio.credentials import Backend, Credentials
from studio.emulator import EmulatorConfig, RunningEmulator, start_emulator
from studio.store import Store

if TYPE_CHECKING:
    from browser_support import StudioServers
    from playwright.sync_api import Browser, Dialog, Page
    from s3_support import S3Server

EMULATOR_KEY = "sk-test-emulator-key"
S3_PREFIX = "studio"  # the prefix in STUDIO_STORAGE_URL, so keys are shown to stay under it


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'studio.db'}")
    yield opened
    opened.close()


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(tmp_path / "images")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server on a free loopback port, for every test that needs a bucket."""
    # Imported here, like browser_support, so tests without a bucket do without moto.
    from s3_support import S3Server

    with S3Server().running() as server:
        yield server


@pytest.fixture
def bucket(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket, named by STUDIO_STORAGE_URL and reached through the AWS_* settings.

    Settings() and any subprocess started with this environment then use it, as a
    deployment would; nothing else (no ~/.aws, no instance metadata) is consulted.
    """
    import s3_support

    name = s3_server.new_bucket()
    monkeypatch.setenv("STUDIO_STORAGE_URL", f"s3://{name}/{S3_PREFIX}")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv("AWS_REGION", s3_support.REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_support.ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_support.SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    return name


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A real emulator over HTTP on a free loopback port, with short task durations."""
    running = start_emulator(
        EmulatorConfig(estimated_time=0.4, duration_spread=0.25, api_key=EMULATOR_KEY, seed=7)
    )
    yield running
    running.stop()


@pytest.fixture
def credentials(emulator: RunningEmulator) -> Credentials:
    return Credentials(Backend.FOXAPI, emulator.base_url, EMULATOR_KEY)


def posts(emulator: RunningEmulator, path: str = "/v1/images/generations") -> list[object]:
    """Bodies of the POSTs the emulator received on `path`."""
    return [entry.body for entry in emulator.log if entry.method == "POST" and entry.path == path]


# Browser tests (see browser_support.py) ------------------------------------------------

# browser_support (and so Playwright) is imported inside these: other tests run without it.
_FAILED_PHASES = pytest.StashKey[set[str]]()


def _browser_emulator_config() -> EmulatorConfig:
    # Tasks of 1.2 to 1.8 s: long enough to see a progress bar, short enough for a fast suite.
    return EmulatorConfig(estimated_time=1.5, duration_spread=0.2, api_key=EMULATOR_KEY, seed=7)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember which phases failed; on a failing browser test, photograph its page at once."""
    report = yield
    if report.failed:
        item.stash.setdefault(_FAILED_PHASES, set()).add(report.when)
        page = getattr(item, "funcargs", {}).get("page")
        if page is not None and report.when == "call":
            from browser_support import artifact_folder, save_screenshot

            save_screenshot(page, artifact_folder(item))
    return report


def _failed(item: pytest.Item) -> bool:
    return bool(item.stash.get(_FAILED_PHASES, set()))


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One Chromium per browser test module; a skip (or, in CI, a failure) when there is none."""
    from browser_support import launch_chromium, set_expect_timeout
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        set_expect_timeout()
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def module_emulator() -> Iterator[RunningEmulator]:
    """One emulator per browser test module; `upstream` resets it for each test."""
    running = start_emulator(_browser_emulator_config())
    yield running
    running.stop()


@pytest.fixture
def upstream(module_emulator: RunningEmulator) -> RunningEmulator:
    """FoxAPI for the servers a browser test starts: knobs as configured, an empty log."""
    module_emulator.config = _browser_emulator_config()
    module_emulator.log.clear()
    return module_emulator


@pytest.fixture
def failure_artifacts(request: pytest.FixtureRequest) -> Path:
    """Where a failing browser test leaves its screenshot and server logs (emptied first)."""
    from browser_support import artifact_folder

    folder = artifact_folder(request.node)
    shutil.rmtree(folder, ignore_errors=True)
    return folder


@pytest.fixture
def studio_servers(
    upstream: RunningEmulator,
    tmp_path: Path,
    failure_artifacts: Path,
    request: pytest.FixtureRequest,
) -> Iterator[StudioServers]:
    """Starts `streamlit run app.py` against `upstream`; stops every server afterwards."""
    from browser_support import StudioServers

    servers = StudioServers(tmp_path, upstream.base_url, EMULATOR_KEY)
    yield servers
    servers.stop_all()
    if _failed(request.node):
        failure_artifacts.mkdir(parents=True, exist_ok=True)
        for log in servers.logs():
            shutil.copy(log, failure_artifacts / log.name)


@pytest.fixture
def page(
    chromium: Browser, failure_artifacts: Path, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh browser tab, 1400x900, that accepts downloads; its console is kept on failure."""
    from browser_support import new_tab

    context, tab, console = new_tab(chromium)
    yield tab
    if _failed(request.node) and console:
        failure_artifacts.mkdir(parents=True, exist_ok=True)
        (failure_artifacts / "console.log").write_text("\n".join(console) + "\n")
    context.close()


@pytest.fixture
def dialogs(page: Page) -> list[str]:
    """Messages of every JavaScript dialog (alert, confirm...) the page opens, dismissed."""
    opened: list[str] = []

    def record(dialog: Dialog) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return opened
