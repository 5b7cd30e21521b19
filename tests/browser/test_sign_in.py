"""Sign-in on a real server: the gate meets even a fresh server's first deep link."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from oidc_provider_mock import User, run_server_in_thread
from playwright.sync_api import Page, WebSocket, expect

from tests.browser.sign_in_support import project_with_secrets, sign_in
from tests.browser.support import (
    UI_TIMEOUT,
    StudioServers,
    choose,
    free_port,
    go_to,
    images_named,
    open_page,
    send_generation,
    stored_gallery,
    wait_for_ready,
    wait_until_idle,
)

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


# A real OpenID provider on loopback ------------------------------------------------------

PEOPLE = [
    User(sub="alice", claims={"email": "alice@example.com", "name": "Alice"}),
    User(sub="bob", claims={"email": "bob@example.com", "name": "Bob"}),
    User(sub="eve", claims={"email": "eve@elsewhere.org", "name": "Eve"}),
]


@pytest.fixture
def provider() -> Iterator[str]:
    """oidc-provider-mock on a free loopback port: its issuer URL."""
    with run_server_in_thread(user_claims=PEOPLE) as server:
        yield f"http://localhost:{server.server_port}"


def sign_out(page: Page) -> None:
    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    # Streamlit ends the session at the provider too (it names an end-session endpoint).
    page.get_by_role("button", name="End session").click(timeout=UI_TIMEOUT)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=UI_TIMEOUT)


def websocket_frames(page: Page) -> list[bytes]:
    """Every websocket frame the page receives from now on."""
    frames: list[bytes] = []

    def listen(socket: WebSocket) -> None:
        socket.on(
            "framereceived",
            lambda payload: frames.append(
                payload.encode() if isinstance(payload, str) else bytes(payload)
            ),
        )

    page.on("websocket", listen)
    return frames


def test_people_see_their_own_images_and_outsiders_nothing(
    page: Page, studio_servers: StudioServers, tmp_path: Path, provider: str
) -> None:
    port = free_port()
    project = project_with_secrets(
        tmp_path / "project",
        f"""
[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "not-a-real-secret"
client_id = "studio"
client_secret = "not-a-real-secret-either"
server_metadata_url = "{provider}/.well-known/openid-configuration"
""",
    )
    allowed = {"STUDIO_ALLOWED_EMAILS": "@example.com"}
    server = studio_servers.start(project=project, port=port, **allowed)
    prompt = "alice's lighthouse at dusk"

    sign_in(page, server, "alice")
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Signed in as Alice")
    send_generation(page, prompt)
    wait_for_ready(page, prompt)
    sign_out(page)

    sign_in(page, server, "bob")
    go_to(page, "Gallery")
    main = page.get_by_test_id("stMain")
    expect(main).not_to_contain_text(prompt)
    choose(page, "Whose images", "Everyone")
    expect(images_named(page, prompt)).to_have_count(1)
    image_id = stored_gallery(server.data_dir)[0].image.id
    sign_out(page)

    server.stop()
    private = studio_servers.start(
        server.data_dir, project=project, port=port, STUDIO_PRIVATE_GALLERIES="true", **allowed
    )
    frames = websocket_frames(page)  # all Bob's session is sent, from here on
    sign_in(page, private, "bob")
    open_page(page, private.url(f"/gallery?image={image_id}"), "Gallery")
    expect(page.get_by_role("dialog")).to_contain_text("This image is not yours to see.")
    assert prompt not in page.content()
    assert frames
    assert not [frame for frame in frames if prompt.encode() in frame]
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    sign_out(page)

    sign_in(page, private, "eve")
    expect(page.get_by_test_id("stMain")).to_contain_text("This studio is not open to eve@")
    assert prompt not in page.content()
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
