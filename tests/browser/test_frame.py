"""The frame every page shares, on a fresh server whose first request is a deep link."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from studio.emulator import RunningEmulator
from tests.browser.support import StudioServers, open_page

pytestmark = pytest.mark.browser


def test_a_deep_link_on_a_fresh_server_gets_the_frame(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    server = studio_servers.start()

    open_page(page, server.url("/gallery?q=fox&fav=1"), "Gallery")

    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text(f"FoxAPI at {upstream.base_url.removeprefix('http://')}")
    expect(sidebar).to_contain_text("Jobs in flight")
    expect(sidebar).to_contain_text("Images billed today")
    navigation = page.get_by_test_id("stSidebarNav")
    expect(navigation.get_by_role("link")).to_have_count(4)
    for title in ("Generate", "Edit", "Gallery", "Boards"):
        expect(navigation.get_by_role("link", name=title, exact=True)).to_be_visible()
    assert page.url.endswith("/gallery?q=fox&fav=1")
    expect(page.get_by_test_id("stMain")).to_contain_text("No images yet.")
    assert "Image Studio" in page.title()
