"""Sign-in on a real server: the gate meets even a fresh server's first deep link."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import PROJECT_ROOT, UI_TIMEOUT, StudioServers, wait_until_idle

pytestmark = pytest.mark.browser

# Streamlit reaches the provider only when someone presses Sign in.
AUTH_TOML = """
[auth]
redirect_uri = "http://127.0.0.1:9/oauth2callback"
cookie_secret = "not-a-real-secret"
client_id = "studio"
client_secret = "not-a-real-secret-either"
server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"
"""


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


def test_a_fresh_servers_first_deep_link_meets_the_sign_in_gate(
    page: Page, studio_servers: StudioServers, tmp_path: Path
) -> None:
    project = project_with_secrets(tmp_path / "project", AUTH_TOML)
    server = studio_servers.start(project=project)

    page.goto(server.url("/gallery"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=UI_TIMEOUT)
    wait_until_idle(page)
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text("grok-imagine-image")
    expect(page.get_by_role("heading", name="Gallery")).to_have_count(0)
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    expect(page.get_by_text("Jobs in flight")).to_have_count(0)
