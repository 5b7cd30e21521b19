"""How many people one server holds: sessions on the Gallery, each clicking once every 10 s.

Run from the project root, after `git worktree add /tmp/release c4ad47b`:

    python -m bench.sessions [--release /tmp/release] [--before /tmp/main] [--levels 10,25,50,100]
                             [--seconds 40] [--soak 0]

For each version (today's release c4ad47b, optionally another tree given by `--before`,
and this tree), a real server (`streamlit run app.py`, demo backend, 50 images) pinned
to ONE processor (the bench and its clients run on the other), the server, the clients
and Chromium at a high priority (nice -15, their autogroups too: run as root), so that
other work on a shared machine yields to them:

1. A real Chromium tab opens the Gallery and clicks Next and Previous in turn; every
   websocket message the tab sends is recorded. The server's CPU per click of the real
   tab is read, and then that of one replaying client doing the same clicks: the check
   that a replaying client loads the server as a tab does (the tab also fetches its
   thumbnails over HTTP, which a replaying client does not).
2. For each level of sessions, on a fresh server: that many websocket clients (one
   Streamlit session each) replay the tab's opening messages, then each replays a click
   (Next, then Previous, ...) every 10 s from a random start, for `--seconds`. Printed:
   server CPU per click, resident memory per session (the server's memory with every
   session open, less the same server's before the first connected, over the sessions),
   and the response time of a click (its message sent to the end of the run it caused),
   median and p95. Versions take turns at each level, so a machine's drift hits all.
3. `--soak N`: this tree only, ten sessions click N times in all as fast as the server
   answers; the server's memory is printed every N/10 clicks (flat: nothing kept per run).

The figures and the plot (`--plot docs/sessions.svg`, response p95 and CPU per click by
sessions) go into docs/performance.md. Levels are configurable: on a shared two-core
machine 100 sessions take a few minutes per version.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from playwright.sync_api import Page, expect, sync_playwright
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.support import (
    DEFAULT_RELEASE_FOLDER,
    Server,
    Version,
    compared_versions,
    describe_priority,
    favour_bench,
    favour_children,
    seed,
    studio_server,
)
from tests.browser.support import CHROMIUM_ARGS, VIEWPORT, wait_until_idle

CHROMIUM = "/usr/bin/chromium"
GALLERY_IMAGES = 50  # three pages of 24: Next and Previous both work
CLICK_EVERY = 10.0  # seconds between one session's clicks
CHECK_CLICKS = 10  # clicks of the real tab, and of one replaying client, for the check
SERVER_CPU = 0  # the processor the server is pinned to
UI_TIMEOUT = 60_000  # ms
RESPONSE_TIMEOUT = 60.0  # seconds a click may wait for its run before it counts as lost
QUIET_SECONDS = 0.5  # no message for this long after a run's end: the tab is idle
# The page picker's buttons: "Next"/"Previous" today, "Next page"/"Previous page" on main.
NEXT = re.compile(r"^Next( page)?$")
PREVIOUS = re.compile(r"^Previous( page)?$")
TARGET_P95 = 1.0  # seconds, at 100 sessions on one processor


@dataclass(frozen=True)
class Recording:
    """What a real tab sent: on opening the Gallery, and for each click (Next, Previous)."""

    opening: list[bytes]
    clicks: list[list[bytes]]


@dataclass
class Level:
    sessions: int
    cpu_per_click: float  # server seconds
    rss_per_session: float  # bytes
    responses: list[float] = field(default_factory=list)  # seconds
    lost: int = 0  # clicks with no answer within RESPONSE_TIMEOUT

    @property
    def median(self) -> float:
        return statistics.median(self.responses) if self.responses else float("nan")

    @property
    def p95(self) -> float:
        if not self.responses:
            return float("nan")
        ordered = sorted(self.responses)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


# Recording a real tab -------------------------------------------------------------------


def record_tab(page: Page, server: Server) -> tuple[Recording, float]:
    """The tab's messages, and the server's CPU seconds per click of the tab."""
    sent: list[bytes] = []

    def on_socket(socket: object) -> None:
        socket.on("framesent", lambda payload: sent.append(bytes(payload)))  # type: ignore[attr-defined]

    page.on("websocket", on_socket)
    page.goto(f"{server.base_url}/gallery")
    main = page.get_by_test_id("stMain")
    # `.first`: this tree draws the page picker above the grid and again below it.
    expect(main.get_by_role("button", name=NEXT).first).to_be_visible(timeout=UI_TIMEOUT)
    wait_until_idle(page, UI_TIMEOUT)
    time.sleep(QUIET_SECONDS * 2)  # late messages of the opening (query string, components)
    opening, sent[:] = list(sent), []
    clicks: list[list[bytes]] = []
    cpu_before = server.cpu_seconds()
    for turn in range(CHECK_CLICKS):
        button = NEXT if turn % 2 == 0 else PREVIOUS
        main.get_by_role("button", name=button).first.click()
        time.sleep(0.3)  # the click's run starts before the page reads as idle
        wait_until_idle(page, UI_TIMEOUT)
        time.sleep(QUIET_SECONDS)  # the thumbnails it shows are fetched
        if turn < 2:
            clicks.append(list(sent))
        sent[:] = []
    return Recording(opening, clicks), (server.cpu_seconds() - cpu_before) / CHECK_CLICKS


# Replaying clients ------------------------------------------------------------------------


class Session:
    """One websocket client replaying the tab's messages: one Streamlit session."""

    def __init__(self, base_url: str, recording: Recording) -> None:
        self._url = base_url.replace("http://", "ws://") + "/_stcore/stream"
        self._recording = recording
        self._socket: websockets.ClientConnection | None = None
        self._finished = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._last_message = 0.0

    async def open(self) -> None:
        self._socket = await websockets.connect(
            self._url, subprotocols=[websockets.Subprotocol("streamlit")], max_size=None
        )
        self._reader = asyncio.create_task(self._read())
        for message in self._recording.opening:
            self._finished.clear()
            await self._socket.send(message)
            await asyncio.wait_for(self._finished.wait(), RESPONSE_TIMEOUT)
        while time.monotonic() - self._last_message < QUIET_SECONDS:
            await asyncio.sleep(QUIET_SECONDS / 2)

    async def click(self, turn: int) -> float:
        """Replay click `turn` (Next, Previous, ...); seconds until the run it caused ended."""
        assert self._socket is not None
        started = time.monotonic()
        for message in self._recording.clicks[turn % len(self._recording.clicks)]:
            self._finished.clear()
            await self._socket.send(message)
            await asyncio.wait_for(self._finished.wait(), RESPONSE_TIMEOUT)
        return time.monotonic() - started

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._socket is not None:
            await self._socket.close()

    async def _read(self) -> None:
        assert self._socket is not None
        message = ForwardMsg()
        async for data in self._socket:
            self._last_message = time.monotonic()
            if isinstance(data, bytes):
                message.ParseFromString(data)
                if message.WhichOneof("type") == "script_finished":
                    self._finished.set()


async def replay_check(base_url: str, recording: Recording, server: Server) -> float:
    """Server CPU seconds per click of one replaying client, clicking as the tab did."""
    session = Session(base_url, recording)
    await session.open()
    cpu_before = server.cpu_seconds()
    for turn in range(CHECK_CLICKS):
        await session.click(turn)
        await asyncio.sleep(QUIET_SECONDS)
    cpu = server.cpu_seconds() - cpu_before
    await session.close()
    return cpu / CHECK_CLICKS


async def load(server: Server, recording: Recording, sessions: int, seconds: float) -> Level:
    """`sessions` clients, each clicking every CLICK_EVERY s for `seconds`."""
    idle_rss = server.resident_bytes()
    clients = [Session(server.base_url, recording) for _ in range(sessions)]
    for start in range(0, sessions, 10):  # as people arrive: not all in one instant
        await asyncio.gather(*(client.open() for client in clients[start : start + 10]))
    level = Level(sessions, 0.0, 0.0)
    clicks = 0
    cpu_before, started = server.cpu_seconds(), time.monotonic()
    rss_samples: list[int] = []

    async def person(client: Session) -> None:
        nonlocal clicks
        await asyncio.sleep(random.uniform(0, CLICK_EVERY))
        turn = 0
        while time.monotonic() - started < seconds:
            began = time.monotonic()
            try:
                level.responses.append(await client.click(turn))
                clicks += 1
            except TimeoutError:
                level.lost += 1
            turn += 1
            await asyncio.sleep(max(0.0, CLICK_EVERY - (time.monotonic() - began)))

    async def watch_memory() -> None:
        while time.monotonic() - started < seconds:
            rss_samples.append(server.resident_bytes())
            await asyncio.sleep(2.0)

    await asyncio.gather(watch_memory(), *(person(client) for client in clients))
    level.cpu_per_click = (server.cpu_seconds() - cpu_before) / max(clicks, 1)
    level.rss_per_session = (statistics.median(rss_samples) - idle_rss) / sessions
    await asyncio.gather(*(client.close() for client in clients))
    return level


async def soak(server: Server, recording: Recording, clicks: int) -> list[tuple[int, int]]:
    """Ten sessions clicking `clicks` times in all; (clicks so far, server bytes) samples."""
    clients = [Session(server.base_url, recording) for _ in range(10)]
    await asyncio.gather(*(client.open() for client in clients))
    samples = [(0, server.resident_bytes())]
    done = 0

    async def person(client: Session) -> None:
        nonlocal done
        turn = 0
        while done < clicks:
            await client.click(turn)
            turn += 1
            done += 1
            if done % max(1, clicks // 10) == 0:
                samples.append((done, server.resident_bytes()))

    await asyncio.gather(*(person(client) for client in clients))
    await asyncio.gather(*(client.close() for client in clients))
    return samples


# The run ------------------------------------------------------------------------------------


@dataclass
class VersionRun:
    version: Version
    data_dir: Path
    recording: Recording | None = None
    tab_cpu_per_click: float = float("nan")
    replay_cpu_per_click: float = float("nan")
    levels: dict[int, Level] = field(default_factory=dict)


def prepare(run: VersionRun, folder: Path) -> None:
    """Seed its gallery, record a real tab on it, and check a replaying client against it."""
    seed(run.version, run.data_dir, GALLERY_IMAGES, "jpeg")
    log = folder / f"{run.version.name}.log"
    with studio_server(run.version, run.data_dir, log, cpus=[SERVER_CPU]) as server:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
            favour_children()
            try:
                context = browser.new_context(viewport=VIEWPORT)
                context.set_default_timeout(UI_TIMEOUT)
                run.recording, run.tab_cpu_per_click = record_tab(context.new_page(), server)
                context.close()
            finally:
                browser.close()
        # After Playwright has gone: its synchronous API holds an event loop while open.
        run.replay_cpu_per_click = asyncio.run(replay_check(server.base_url, run.recording, server))


def measure_level(run: VersionRun, folder: Path, sessions: int, seconds: float) -> Level:
    assert run.recording is not None
    log = folder / f"{run.version.name}-{sessions}.log"
    with studio_server(run.version, run.data_dir, log, cpus=[SERVER_CPU]) as server:
        return asyncio.run(load(server, run.recording, sessions, seconds))


def report(runs: list[VersionRun], levels: list[int], seconds: float) -> None:
    names = [run.version.name for run in runs]
    this = runs[-1]
    print(
        f"bench.sessions: {', '.join(names)}; Gallery sessions clicking every "
        f"{CLICK_EVERY:g} s, {seconds:g} s per level, the server on one processor"
    )
    print()
    print("check: server CPU per click, a real Chromium tab vs one replaying client")
    for run in runs:
        share = run.replay_cpu_per_click / run.tab_cpu_per_click
        print(
            f"  {run.version.name:>8}: tab {run.tab_cpu_per_click:.3f} s, replay "
            f"{run.replay_cpu_per_click:.3f} s ({share:.2f}x of the tab)"
        )
    ratio_names = [f"{this.version.name}/{run.version.name}" for run in runs[:-1]]
    header = ["sessions", "figure", *names, *ratio_names]
    widths = [8, 24, *([11] * len(names)), *([14] * len(ratio_names))]
    print()
    print("  ".join(f"{text:<{width}}" for text, width in zip(header, widths, strict=True)))
    figures = (
        ("CPU per click (s)", lambda level: level.cpu_per_click, 1.0),
        ("RSS per session (MB)", lambda level: level.rss_per_session, 1 / 2**20),
        ("response median (s)", lambda level: level.median, 1.0),
        ("response p95 (s)", lambda level: level.p95, 1.0),
        ("clicks lost", lambda level: float(level.lost), 1.0),
    )
    for sessions in levels:
        for title, read, scale in figures:
            values = [read(run.levels[sessions]) * scale for run in runs]
            ratios = [f"{values[-1] / value:.2f}x" if value else "n/a" for value in values[:-1]]
            cells = [str(sessions), title, *(f"{value:.3f}" for value in values), *ratios]
            print("  ".join(f"{text:<{width}}" for text, width in zip(cells, widths, strict=True)))
    top = max(levels)
    p95 = this.levels[top].p95
    verdict = "met" if top >= 100 and p95 < TARGET_P95 else "NOT MET" if top >= 100 else "n/a"
    print()
    print(f"target: p95 under {TARGET_P95:g} s at 100 sessions on one processor: {verdict}")
    print(f"  ({this.version.name} at {top} sessions: p95 {p95:.3f} s)")


def plot(runs: list[VersionRun], levels: list[int], path: Path) -> None:
    """Two small line charts side by side, as SVG written by hand (no plotting library)."""
    charts = (
        ("response p95 (s)", lambda level: level.p95),
        ("server CPU per click (s)", lambda level: level.cpu_per_click),
    )
    colours = ("#b3541e", "#7a7a7a", "#1f5fa8")[-len(runs) :]
    width, height, margin = 360, 240, 48
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * width}" height="{height + 40}" '
        'font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    for index, (title, read) in enumerate(charts):
        left = index * width + margin
        right = (index + 1) * width - 16
        top, bottom = 24, height - 28
        values = [read(run.levels[sessions]) for run in runs for sessions in levels]
        ceiling = max(value for value in values if value == value) * 1.1 or 1.0
        span = max(levels) - min(levels) or 1

        def x(sessions: int, left: float = left, right: float = right, span: int = span) -> float:
            return left + (sessions - min(levels)) / span * (right - left)

        def y(
            value: float, ceiling: float = ceiling, top: int = top, bottom: int = bottom
        ) -> float:
            return bottom - value / ceiling * (bottom - top)

        parts.append(f'<text x="{left}" y="14" font-weight="bold">{title}</text>')
        parts.append(f'<path d="M{left},{top} V{bottom} H{right}" stroke="#333" fill="none"/>')
        for fraction in (0.0, 0.5, 1.0):
            value = ceiling / 1.1 * fraction
            parts.append(
                f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:.2f}</text>'
            )
        for sessions in levels:
            parts.append(
                f'<text x="{x(sessions):.1f}" y="{bottom + 14}" text-anchor="middle">'
                f"{sessions}</text>"
            )
        parts.append(
            f'<text x="{(left + right) / 2}" y="{bottom + 26}" text-anchor="middle">sessions</text>'
        )
        if index == 0 and ceiling > TARGET_P95:
            parts.append(
                f'<path d="M{left},{y(TARGET_P95):.1f} H{right}" stroke="#999" '
                'stroke-dasharray="4 3" fill="none"/>'
                f'<text x="{right}" y="{y(TARGET_P95) - 4:.1f}" text-anchor="end" fill="#666">'
                f"target {TARGET_P95:g} s</text>"
            )
        for run, colour in zip(runs, colours, strict=True):
            points = " ".join(
                f"{x(sessions):.1f},{y(read(run.levels[sessions])):.1f}" for sessions in levels
            )
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
    for index, (run, colour) in enumerate(zip(runs, colours, strict=True)):
        x0 = margin + index * 180
        parts.append(
            f'<rect x="{x0}" y="{height + 16}" width="14" height="4" fill="{colour}"/>'
            f'<text x="{x0 + 20}" y="{height + 22}">{run.version.name}</text>'
        )
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--release", type=Path, default=DEFAULT_RELEASE_FOLDER)
    parser.add_argument("--before", type=Path, help="another tree to compare, e.g. main")
    parser.add_argument("--levels", default="10,25,50,100", help="sessions, comma-separated")
    parser.add_argument("--seconds", type=float, default=40.0, help="measured per level")
    parser.add_argument("--soak", type=int, default=0, help="clicks of the soak (0: none)")
    parser.add_argument("--plot", type=Path, help="write the SVG plot here")
    arguments = parser.parse_args()
    levels = [int(level) for level in arguments.levels.split(",")]
    # The bench, its clients and Chromium on the other processor(s) than the server's, and
    # all of them before other work on the machine.
    print(favour_bench(SERVER_CPU), flush=True)
    chosen = compared_versions(arguments.release, arguments.before)
    with tempfile.TemporaryDirectory(prefix="bench-sessions-") as folder_name:
        folder = Path(folder_name)
        runs = [VersionRun(version, folder / version.name) for version in chosen]
        for run in runs:
            prepare(run, folder)
        for turn, sessions in enumerate(levels):
            # Versions take turns, and the order flips each level: drift hits them alike.
            for run in runs if turn % 2 == 0 else reversed(runs):
                run.levels[sessions] = measure_level(run, folder, sessions, arguments.seconds)
                print(
                    f"  {run.version.name} at {sessions} sessions: p95 "
                    f"{run.levels[sessions].p95:.3f} s",
                    flush=True,
                )
        report(runs, levels, arguments.seconds)
        print(f"at the end: {describe_priority()}")
        if arguments.plot is not None:
            plot(runs, levels, arguments.plot)
            print(f"plot: {arguments.plot}")
        if arguments.soak:
            last = runs[-1]
            assert last.recording is not None
            log = folder / "soak.log"
            with studio_server(last.version, last.data_dir, log, cpus=[SERVER_CPU]) as server:
                samples = asyncio.run(soak(server, last.recording, arguments.soak))
            print()
            print(f"soak ({last.version.name}): server memory by clicks, ten sessions")
            for clicks, rss in samples:
                print(f"  {clicks:>6} clicks  {rss / 2**20:7.1f} MB")


if __name__ == "__main__":
    main()
