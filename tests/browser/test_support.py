"""How the browser tests find Chromium, and that CI cannot pass them by skipping them."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from playwright.sync_api import Playwright

from tests.browser import support
from tests.browser.support import find_chromium, launch_chromium

NOWHERE = "/nonexistent/playwright/chromium"


def _playwright(bundled: str = NOWHERE) -> Playwright:
    """Stands in for Playwright where only its own browser's install path is read."""
    return cast(Playwright, SimpleNamespace(chromium=SimpleNamespace(executable_path=bundled)))


@pytest.fixture
def no_chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STUDIO_CHROMIUM", raising=False)
    monkeypatch.setattr(support, "SYSTEM_CHROMIUM", ())


def test_without_chromium_the_browser_tests_are_skipped_saying_why(
    no_chromium: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STUDIO_REQUIRE_BROWSER", raising=False)

    with pytest.raises(pytest.skip.Exception, match=r"No Chromium .* STUDIO_CHROMIUM"):
        launch_chromium(_playwright())


@pytest.mark.parametrize("setting", ["1", "yes"])
def test_a_missing_chromium_fails_when_a_browser_is_required(
    no_chromium: None, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    monkeypatch.setenv("STUDIO_REQUIRE_BROWSER", setting)

    with pytest.raises(pytest.fail.Exception, match="STUDIO_REQUIRE_BROWSER is set"):
        launch_chromium(_playwright())


def test_studio_chromium_comes_before_the_system_browser(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    chosen = tmp_path / "my-chromium"
    chosen.touch()
    monkeypatch.setenv("STUDIO_CHROMIUM", str(chosen))

    assert find_chromium(_playwright()) == str(chosen)


def test_a_studio_chromium_that_is_not_there_fails_rather_than_skips(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STUDIO_CHROMIUM", str(tmp_path / "missing"))

    with pytest.raises(pytest.fail.Exception, match="no file there"):
        find_chromium(_playwright())


def test_playwrights_own_chromium_is_the_last_resort(no_chromium: None, tmp_path: Path) -> None:
    bundled = tmp_path / "chrome"
    bundled.touch()

    assert find_chromium(_playwright(str(bundled))) == str(bundled)
