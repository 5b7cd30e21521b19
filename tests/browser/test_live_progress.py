"""The live progress area and a person's click: a finished job's rerun never swallows one.

The race, made to happen every time: the area's progress requests are held back (the
browser's own requests, answered by the server as usual, only later), so the answer
that says a job finished reaches the page just after a click on Generate or on a
sidebar link, while that click's run is still going.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections import Counter
from collections.abc import Callable

import pytest
from playwright.sync_api import (
    APIResponse,
    Error,
    Page,
    Request,
    Route,
    WebSocketRoute,
    expect,
)

from studio.emulator import RunningEmulator
from tests.browser.support import (
    UI_TIMEOUT,
    StudioServers,
    generate_button,
    open_page,
    send_generation,
    toast,
    wait_until_idle,
)

pytestmark = pytest.mark.browser

PROGRESS = "**/api/progress/**"
ROUNDS = 3  # the race is timing: each round must keep the click
CLICK_SHOWS_MS = 10_000  # a kept click's outcome shows within this on a busy machine
SERVER_SILENT_MS = 300  # how long the page hears nothing from a busy server
POLL_WINDOW_MS = 4_000  # requests counted over this long


def finished_answer(page: Page, held: list[Route]) -> tuple[Route, APIResponse]:
    """Pass on the area's progress answers while its job runs; return the first request
    whose answer says it has finished, with that answer, still held back."""
    while True:
        page.wait_for_timeout(50)  # lets Playwright hand over the requests it held
        if not held:
            continue
        route = held.pop(0)
        answer = route.fetch()
        states = json.loads(answer.body())
        if any(state["in_flight"] for state in states):
            route.fulfill(response=answer)
            continue
        return route, answer


def race(page: Page, prompt: str, click: Callable[[], None]) -> None:
    """Send a job with `prompt`, then `click` just as the area learns it finished."""
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    page.route(PROGRESS, hold)
    try:
        send_generation(page, prompt)
        route, answer = finished_answer(page, held)
        click()
        route.fulfill(response=answer)
    finally:
        page.unroute(PROGRESS)
        for route in held:
            with contextlib.suppress(Error):  # a request the page gave up on as it moved on
                route.continue_()


def generation_posts(upstream: RunningEmulator) -> Counter[str]:
    return Counter(
        str(entry.body["prompt"])  # type: ignore[index]
        for entry in upstream.log
        if entry.method == "POST" and entry.path == "/v1/images/generations"
    )


def test_a_click_on_generate_as_a_job_finishes_is_kept(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    server = studio_servers.start()
    open_page(page, server.url("/"), "Generate")
    prompt_field = page.get_by_role("textbox", name="Prompt", exact=True)
    for round_number in range(ROUNDS):
        second = f"Round {round_number}: the click that must be kept"

        def click_generate(second: str = second) -> None:
            prompt_field.fill(second)
            generate_button(page).click()

        race(page, f"Round {round_number}: a job finishing", click_generate)
        expect(toast(page, "Sent").filter(has_text=second)).to_have_count(1, timeout=CLICK_SHOWS_MS)
        assert generation_posts(upstream)[second] == 1
        wait_until_idle(page)


class SlowServer:
    """Streamlit's websocket with the server's messages held back while `slow` is set: a
    busy server, slow to say that the run a click asked for has started."""

    def __init__(self, page: Page) -> None:
        self.slow = False
        self._held: list[str | bytes] = []
        self._page_side: WebSocketRoute | None = None
        page.route_web_socket("**/_stcore/stream", self._connect)

    def _connect(self, page_side: WebSocketRoute) -> None:
        server = page_side.connect_to_server()
        self._page_side = page_side
        page_side.on_message(server.send)
        server.on_message(self._to_page)

    def _to_page(self, message: str | bytes) -> None:
        if self.slow:
            self._held.append(message)
        elif self._page_side is not None:
            self._page_side.send(message)

    def catch_up(self) -> None:
        self.slow = False
        held, self._held = self._held, []
        for message in held:
            if self._page_side is not None:
                self._page_side.send(message)


def test_a_sidebar_link_clicked_as_a_job_finishes_is_followed(
    page: Page, studio_servers: StudioServers
) -> None:
    server = studio_servers.start()
    slow_server = SlowServer(page)
    navigation = page.get_by_test_id("stSidebarNav")

    def follow_link() -> None:
        # The run the click asks for starts, but the page hears of it only later: the
        # area's answer comes in between.
        slow_server.slow = True
        navigation.get_by_role("link", name="Gallery", exact=True).click()
        page.wait_for_timeout(SERVER_SILENT_MS)

    for round_number in range(ROUNDS):
        open_page(page, server.url("/"), "Generate")
        race(page, f"Round {round_number}: a job finishing", follow_link)
        page.wait_for_timeout(SERVER_SILENT_MS)
        slow_server.catch_up()
        heading = page.get_by_role("heading", name="Gallery", exact=True, level=1)
        expect(heading).to_be_visible(timeout=CLICK_SHOWS_MS)
        wait_until_idle(page, UI_TIMEOUT)
        expect(heading).to_be_visible()  # and no rerun from the old page took it back


def test_the_page_asks_about_its_jobs_once_a_second_however_many_it_has_sent(
    page: Page, studio_servers: StudioServers, upstream: RunningEmulator
) -> None:
    """The feed draws a live area in each job's card, and each job sent hands the areas
    new data: they share one request, and an area drawn before stops its own, so neither
    the requests nor the reruns they may ask for multiply with the jobs."""
    upstream.config = dataclasses.replace(upstream.config, estimated_time=60.0)
    server = studio_servers.start()
    open_page(page, server.url("/"), "Generate")
    for number in range(4):
        send_generation(page, f"Job {number}: still running")
        wait_until_idle(page)
    asked: list[str] = []

    def count(request: Request) -> None:
        if "/api/progress/" in request.url:
            asked.append(request.url)

    page.on("request", count)
    page.wait_for_timeout(POLL_WINDOW_MS)
    # Once a second for the page; an area each job, each polling, asked 16 times.
    assert 1 <= len(asked) <= POLL_WINDOW_MS // 1000 + 1, asked
