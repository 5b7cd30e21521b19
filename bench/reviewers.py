"""What reviewers cost the studio's designers: real Chromium tabs reviewing one board on
one server, beside a designer's tab.

Run from the project root:

    python -m bench.reviewers [--reviewers 20] [--minutes 2] [--clicks 20]

One server of this tree (`streamlit run app.py`, demo backend), pinned to one processor
(the bench and Chromium run on the other), all at a high priority (nice -15, their
autogroups too: run as root) so other work on a shared machine yields to them, with a
board of three images shared for review. A designer's tab opens Generate; each of
`--reviewers` tabs (a browser context each: its own session, its own remembered name)
opens the review link and gives a name. Printed:

1. The server's CPU per reviewer-minute: its CPU time while the reviewers step (Left and
   Right) and vote (Approve or Needs changes, which moves on), each acting every
   ACT_SECONDS, less the same server's idle CPU over as long, over reviewers x minutes.
2. Memory per reviewer: the server's resident memory with every reviewer's tab open,
   less the same before the first opened, over the reviewers.
3. The designer's click-to-change latency, 0 reviewers and then with all of them acting:
   a click on an aspect ratio until the size line under it changes, timed in the page
   (the click's event to the first frame showing the change), median and p95 of
   `--clicks` clicks, and the ratio of the two.

Many tabs load a shared machine: run large numbers alone. A small run (5 reviewers) is
enough to see the shape; say its size beside its figures.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from playwright.sync_api import Browser, Error, Page, expect, sync_playwright

from bench.support import (
    ROOT,
    Server,
    Version,
    describe_priority,
    favour_bench,
    favour_children,
    studio_server,
)
from tests.browser.review_support import shared_board_in
from tests.browser.support import CHROMIUM_ARGS, VIEWPORT, find_chromium, wait_until_idle

SERVER_CPU = 0
ACT_SECONDS = 3.0  # each reviewer steps or votes this often: a person looking, then deciding
IDLE_SECONDS = 20.0
UI_TIMEOUT = 60_000
LOST_AFTER_MS = 30_000  # a click whose change is not seen by then counts as lost
# Resolves to the ms from the click's event to the size line's change (null: lost).
_TIMED_CLICK = """([ratio]) => new Promise((done) => {
  setTimeout(() => done(null), LOST_AFTER_MS);
  // Every element, inside components' shadow roots too (the prompt form is one).
  const all = (root) => [...root.querySelectorAll("*")].flatMap(
    (element) => [element, ...(element.shadowRoot ? all(element.shadowRoot) : [])]);
  const line = () => all(document).find(
    (element) => element.childElementCount === 0 && / px, /.test(element.textContent));
  const before = line()?.textContent;
  const button = all(document).find((element) =>
    element.getAttribute("role") === "radio" && element.textContent.trim().endsWith(ratio));
  let clicked = 0;
  const changed = () => {
    if (clicked && line()?.textContent !== before) {
      done(performance.now() - clicked);
      return true;
    }
    return false;
  };
  const poll = () => { if (!changed()) requestAnimationFrame(poll); };
  button.addEventListener("click", () => { clicked = performance.now(); poll(); }, { once: true });
  button.click();
})""".replace("LOST_AFTER_MS", str(LOST_AFTER_MS))


def designer_clicks(
    page: Page, clicks: int, between: Callable[[], None] | None = None
) -> tuple[list[float], int]:
    """Seconds from each click on a ratio to the size line's change, and how many clicks
    were lost; `between` runs before each click (the reviewers acting up to it, their
    runs still going when it lands)."""
    times: list[float] = []
    lost = 0
    for turn in range(clicks):
        if between is not None:
            between()
        wait_until_idle(page, UI_TIMEOUT)
        ratio = "16:9" if turn % 2 == 0 else "1:1"
        shown = page.evaluate(_TIMED_CLICK, [ratio])
        if shown is None:
            lost += 1
        else:
            times.append(shown / 1000)
    wait_until_idle(page, UI_TIMEOUT)
    return times, lost


def open_reviewer(browser: Browser, url: str, number: int) -> Page:
    context = browser.new_context(viewport=VIEWPORT, reduced_motion="reduce")
    context.set_default_timeout(UI_TIMEOUT)
    page = context.new_page()
    page.goto(url)
    page.get_by_role("textbox", name="Your name").fill(f"Reviewer {number}")
    page.get_by_role("button", name="Start reviewing").click()
    expect(page.get_by_text(f"Reviewing as Reviewer {number}")).to_be_visible()
    return page


class Reviewers:
    """The reviewers' tabs, acting in turn: each steps or votes every ACT_SECONDS."""

    def __init__(self, pages: list[Page]) -> None:
        self.pages = pages
        self.turn = 0
        self.next_at = time.monotonic()

    def act_due(self, until: float) -> None:
        """The actions that have come due by now, up to `until`. One Playwright thread
        drives every tab: when it cannot keep up, the backlog is dropped, not queued (the
        report says how many actions were made)."""
        slot = ACT_SECONDS / max(1, len(self.pages))
        while self.pages and until > time.monotonic() >= self.next_at:
            page = self.pages[self.turn % len(self.pages)]
            round_number = self.turn // len(self.pages)
            with suppress(Error):  # at the summary there is no verdict to choose
                if round_number % 2 == 0:
                    page.keyboard.press("ArrowLeft" if round_number % 4 == 0 else "ArrowRight")
                else:
                    choice = "Approve" if round_number % 4 == 1 else "Needs changes"
                    bar = page.locator(".st-key-review-bar")
                    bar.get_by_role("radio", name=choice, exact=True).click(timeout=1_500)
            self.turn += 1
            self.next_at = max(self.next_at + slot, time.monotonic() - slot)

    def run_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.act_due(end)
            time.sleep(0.02)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--clicks", type=int, default=20)
    arguments = parser.parse_args()
    # The bench and Chromium on the other processor(s) than the server's, and all of them
    # before other work on the machine.
    print(favour_bench(SERVER_CPU), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-reviewers-") as folder_name:
        folder = Path(folder_name)
        _board_id, path = shared_board_in(folder / "data")
        version = Version("this", ROOT)
        log = folder / "server.log"
        with (
            studio_server(
                version,
                folder / "data",
                log,
                cpus=[SERVER_CPU],
                STUDIO_REVIEW_CHANGES_PER_MINUTE="100000",
            ) as server,
            sync_playwright() as playwright,
        ):
            executable = find_chromium(playwright)
            browser = playwright.chromium.launch(
                executable_path=executable, args=list(CHROMIUM_ARGS)
            )
            favour_children()
            measure(browser, server, f"{server.base_url}{path}", arguments)
            browser.close()


def measure(browser: Browser, server: Server, link: str, arguments: argparse.Namespace) -> None:
    designer = browser.new_context(viewport=VIEWPORT, reduced_motion="reduce").new_page()
    designer.goto(server.base_url)
    # The controls arrive a moment after the heading (their code loads on first use).
    expect(designer.get_by_role("radio", name="16:9")).to_be_visible(timeout=UI_TIMEOUT)
    designer_clicks(designer, 4)  # warm: the first runs import and cache
    alone, alone_lost = designer_clicks(designer, arguments.clicks)
    print(f"  designer alone: {len(alone)} clicks timed, {alone_lost} lost", flush=True)
    time.sleep(2)
    cpu_before, idle_start = server.cpu_seconds(), time.monotonic()
    time.sleep(IDLE_SECONDS)
    idle_rate = (server.cpu_seconds() - cpu_before) / (time.monotonic() - idle_start)

    memory_before = server.resident_bytes()
    pages = [open_reviewer(browser, link, number) for number in range(1, arguments.reviewers + 1)]
    for page in pages:
        wait_until_idle(page, UI_TIMEOUT)
    time.sleep(5)
    memory_per_reviewer = (server.resident_bytes() - memory_before) / max(1, len(pages))
    print(f"  {len(pages)} reviewers open", flush=True)

    reviewers = Reviewers(pages)
    seconds = arguments.minutes * 60
    cpu_before, started = server.cpu_seconds(), time.monotonic()
    reviewers.run_for(seconds)
    elapsed = time.monotonic() - started
    actions = reviewers.turn
    reviewing = server.cpu_seconds() - cpu_before - idle_rate * elapsed
    cpu_per_reviewer_minute = reviewing / max(1, len(pages)) / (elapsed / 60)
    cpu_per_action = reviewing / max(1, actions)
    actions_per_reviewer_minute = actions / max(1, len(pages)) / (elapsed / 60)
    print(f"  {reviewers.turn} reviewer actions in {elapsed:.0f} s", flush=True)
    crowded, crowded_lost = designer_clicks(
        designer, arguments.clicks, between=lambda: reviewers.run_for(1.0)
    )

    print()
    print(f"Reviewers on one server (one processor), {len(pages)} reviewers, {elapsed:.0f} s")
    print(
        f"  reviewer actions (steps, votes)  {actions:8d}  ({actions_per_reviewer_minute:.1f} "
        f"a reviewer-minute; planned {60 / ACT_SECONDS:.0f})"
    )
    print(f"  server CPU per reviewer action   {cpu_per_action:8.3f} s")
    print(f"  server CPU per reviewer-minute   {cpu_per_reviewer_minute:8.3f} s (as acted)")
    print(
        f"  ... at one action every {ACT_SECONDS:g} s   {cpu_per_action * 60 / ACT_SECONDS:8.3f} s"
    )
    print(f"  server CPU idle                  {idle_rate:8.3f} s per s")
    print(f"  memory per reviewer              {memory_per_reviewer / 2**20:8.1f} MB")
    for name, times, lost in (
        ("0 reviewers", alone, alone_lost),
        (f"{len(pages)} reviewers", crowded, crowded_lost),
    ):
        print(
            f"  designer click, {name:<14}  median {statistics.median(times) * 1000:6.0f} ms"
            f"  p95 {percentile(times, 0.95) * 1000:6.0f} ms  lost {lost}"
        )
    ratio = statistics.median(crowded) / statistics.median(alone)
    p95_ratio = percentile(crowded, 0.95) / percentile(alone, 0.95)
    print(f"  with reviewers / without         median {ratio:.2f}x  p95 {p95_ratio:.2f}x")
    print(f"  at the end: {describe_priority()}")


if __name__ == "__main__":
    main()
