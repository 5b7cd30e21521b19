"""Sign-in for a real server: a copy of the studio with its own secrets (an [auth]
section), and signing in as someone through the OpenID provider's page."""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import Page

from tests.browser.support import PROJECT_ROOT, UI_TIMEOUT, StudioServer, wait_until_idle


def project_with_secrets(folder: Path, secrets: str) -> Path:
    """A copy of the studio whose `.streamlit/secrets.toml` is `secrets`."""
    folder.mkdir()
    for name in ("app.py", "components", "pages", "studio", "assets"):
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, folder / name)
    (folder / ".streamlit").mkdir()
    shutil.copy(PROJECT_ROOT / ".streamlit" / "config.toml", folder / ".streamlit")
    (folder / ".streamlit" / "secrets.toml").write_text(secrets)
    return folder


def sign_in(page: Page, server: StudioServer, who: str) -> None:
    page.goto(server.url("/"))
    page.get_by_role("button", name="Sign in").click(timeout=UI_TIMEOUT)
    page.get_by_role("button", name=who, exact=True).click(timeout=UI_TIMEOUT)  # the provider
    wait_until_idle(page)
