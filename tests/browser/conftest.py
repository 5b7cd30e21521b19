"""Browser test fixtures: one Chromium and one emulator per module, the servers a test
starts, its tab, and what a failing test leaves under test-artifacts/.
"""

from __future__ import annotations

import shutil
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, sync_playwright

from studio.emulator import EmulatorConfig, RunningEmulator, start_emulator
from tests.browser.support import (
    StudioServers,
    artifact_folder,
    launch_chromium,
    new_tab,
    save_screenshot,
    set_expect_timeout,
)
from tests.conftest import EMULATOR_KEY

_FAILED_PHASES = pytest.StashKey[set[str]]()


def _browser_emulator_config() -> EmulatorConfig:
    # Tasks of 1.2 to 1.8 s: long enough to see a progress bar, short enough for a fast suite.
    return EmulatorConfig(estimated_time=1.5, duration_spread=0.2, api_key=EMULATOR_KEY, seed=7)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A browser test that fails is run once more, and the run's summary lists it as a rerun.

    A real Chromium and a real server share two cores with everything else CI runs: a
    test that fails twice in a row still fails the run. (`-p no:rerunfailures` runs each once.)
    """
    if not config.pluginmanager.hasplugin("rerunfailures"):
        return
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.flaky(reruns=1))


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
            save_screenshot(page, artifact_folder(item))
    return report


def _failed(item: pytest.Item) -> bool:
    return bool(item.stash.get(_FAILED_PHASES, set()))


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One Chromium per browser test module; a skip (or, in CI, a failure) when there is none."""
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
    request.node.stash[_FAILED_PHASES] = set()  # a rerun starts with no failure of its own
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
