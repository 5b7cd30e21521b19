"""The studio's look in a real browser: no page that fades while a rerun is on its way."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from studio.emulator import RunningEmulator
from tests.browser.support import (
    PHONE_VIEWPORT,
    StudioServers,
    choose,
    open_page,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
# Streamlit starts fading what a rerun has not redrawn after 0.5 s, over 1 s.
PAST_THE_FADE_MS = 1_800

_FADED_SINCE_MARKED = """() => [...document.querySelectorAll('*')]
    .filter((element) => !window.__fadedBefore.has(element)
                         && Number(getComputedStyle(element).opacity) < 1)
    .map((element) => element.outerHTML.slice(0, 160))"""
_MARK_FADED = """() => { window.__fadedBefore = new Set([...document.querySelectorAll('*')]
    .filter((element) => Number(getComputedStyle(element).opacity) < 1)); }"""
_BUSY_BAR_OPACITY = """() => Number(getComputedStyle(
    document.querySelector('[data-testid="stApp"]'), '::before').opacity)"""


class SlowLink:
    """The page's websocket, able to hold back what a rerun draws, as a slow link would.

    Once `hold` is set, the run's first element and everything after it wait until
    `release`: the page has been told a run started, and shows what it had meanwhile.
    """

    def __init__(self) -> None:
        self.page_side: WebSocketRoute | None = None
        self.holding = False
        self.held: list[bytes | str] = []

    def route(self, page_side: WebSocketRoute) -> None:
        self.page_side = page_side
        server_side = page_side.connect_to_server()
        server_side.on_message(self._from_server)

    def _from_server(self, message: bytes | str) -> None:
        assert self.page_side is not None
        if self.holding and not self.held and isinstance(message, bytes):
            parsed = ForwardMsg()
            parsed.ParseFromString(message)
            if parsed.WhichOneof("type") != "delta":
                self.page_side.send(message)  # the run's start: the page knows it runs
                return
        if self.holding:
            self.held.append(message)
        else:
            self.page_side.send(message)

    @contextmanager
    def slow_rerun(self) -> Iterator[None]:
        self.holding = True
        try:
            yield
        finally:
            assert self.page_side is not None
            self.holding = False
            for message in self.held:
                self.page_side.send(message)
            self.held.clear()


@pytest.fixture
def slow_link(page: Page) -> SlowLink:
    link = SlowLink()
    page.route_web_socket(re.compile(r"/_stcore/stream"), link.route)
    return link


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE_VIEWPORT], ids=["desktop", "phone"])
def test_a_slow_rerun_keeps_the_page_at_full_strength_with_a_busy_bar(
    page: Page,
    studio_servers: StudioServers,
    upstream: RunningEmulator,
    slow_link: SlowLink,
    viewport: dict[str, int],
) -> None:
    page.set_viewport_size(viewport)
    server = studio_servers.start()
    open_page(page, server.url(), "Generate")
    page.evaluate(_MARK_FADED)  # what the studio draws faint on purpose (captions...)
    assert page.evaluate(_BUSY_BAR_OPACITY) == 0
    two = page.get_by_role("radiogroup", name="Images").get_by_role("radio", name="2")

    with slow_link.slow_rerun():
        two.click()
        page.wait_for_timeout(PAST_THE_FADE_MS)

        assert (
            page.locator('[data-stale="true"]').count() > 5
        )  # the rerun is under way: the form is not redrawn yet
        assert page.evaluate(_FADED_SINCE_MARKED) == []
        assert page.evaluate(_BUSY_BAR_OPACITY) == 1
        expect(page.get_by_role("heading", name="Generate", level=1)).to_be_visible()

    expect(two).to_be_checked()
    wait_until_idle(page)
    expect(page.locator('[data-stale="true"]')).to_have_count(0)
    page.wait_for_function(f"() => ({_BUSY_BAR_OPACITY})() === 0")
    choose(page, "Images", "1")  # the page still answers
