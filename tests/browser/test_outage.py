"""A database that stops answering under an open page: a real PostgreSQL cluster, stopped
and started again (same data, same port), with the studio's pages open in Chromium.

Every page says so in one sentence instead of Streamlit's crash page, and comes back by
itself once the database answers again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from components.outage import RETRY_SECONDS, SENTENCE
from tests.browser.support import (
    UI_TIMEOUT,
    StudioServers,
    go_to,
    open_page,
    send_generation,
    wait_for_ready,
    wait_until_idle,
)
from tests.pg_support import PostgresCluster, start_cluster

pytestmark = pytest.mark.browser

PAGES = ("Generate", "Edit", "Boards", "Gallery")  # the gallery last: it shows the image
# Recovery: one retry interval, a run, and a new connection, with room for a busy machine.
RECOVERY_MS = int(RETRY_SECONDS * 1000) + UI_TIMEOUT
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "outage"


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    """A cluster of this test's own: stopping the session's would fail other tests."""
    started = start_cluster()
    yield started
    with contextlib.suppress(RuntimeError):  # a test that failed may have left it stopped
        started.destroy()


def test_every_page_says_the_database_is_away_and_comes_back_by_itself(
    page: Page, studio_servers: StudioServers, cluster: PostgresCluster
) -> None:
    server = studio_servers.start(STUDIO_DATABASE_URL=cluster.create_database())
    open_page(page, server.url("/"), "Generate")
    send_generation(page, "A lighthouse before the outage")
    wait_for_ready(page, "A lighthouse before the outage")
    main = page.get_by_test_id("stMain")
    sentence = main.get_by_text(SENTENCE, exact=True)
    crash = page.get_by_test_id("stException")

    cluster.stop()
    for title in PAGES:
        go_to(page, title)
        expect(sentence).to_be_visible()
        expect(crash).to_have_count(0)
    _photograph(page)

    cluster.start()
    # Nobody touches the page: it retries, and the gallery is there again, image and all.
    expect(sentence).to_have_count(0, timeout=RECOVERY_MS)
    expect(crash).to_have_count(0)
    expect(main.get_by_role("img", name="A lighthouse before the outage")).to_be_visible()
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Images billed today")


def _photograph(page: Page) -> None:
    """The sentence as a wide screen and a phone show it, for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1440, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        # Loaded afresh, as a phone opens it (its sidebar closed): the outage meets a new
        # session too.
        page.reload()
        page.get_by_text(SENTENCE, exact=True).wait_for()
        wait_until_idle(page)
        page.screenshot(path=SCREENSHOTS / f"outage-{width}x{height}.png")
    page.set_viewport_size({"width": 1400, "height": 900})
