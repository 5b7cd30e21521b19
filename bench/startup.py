"""Start-up: a server's cold start to healthy and to its first page, and its memory idle.

Run from the project root, after `git worktree add /tmp/release c4ad47b`:

    python -m bench.startup [--release /tmp/release] [--before /tmp/main] [--rounds 7]

Each version gets a data folder its own first start has made (the database at its
newest schema, the demo backend's folder), as a server restarted on its data has. Then,
`--rounds` times, each version in turn (the order flipping each round, so a machine's
drift hits all alike): `streamlit run app.py` is started, and timed from the moment the
process starts to
- healthy: `/healthz` answers 200 (today's release has no such route: its
  `/_stcore/health`, which answers once the same start-up, the st.App lifespan that opens
  the studio, is over);
- first page: a websocket client (one Streamlit session) asks for the Generate page and
  its run ends: what a first visitor waits for, less the browser's own drawing;
and the server's resident memory is read 3 s after it is healthy, before any session
(idle). Medians of the rounds, and this tree over each other version as ratios.
Target: this tree at or under today's release on all three.

Each server is pinned to one processor (the bench on the other) and it, like the bench,
runs at a high priority (nice -15, its autogroup too: run as root), so that other work
on a shared machine yields to it. Each version's own source (app.py, studio, components,
pages) is compiled first, as a server restarted on its install has it (and as the Docker
image has it); `--no-bytecode` instead makes every start compile it from source, as a
fresh checkout run with PYTHONDONTWRITEBYTECODE=1 does.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import contextlib
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.support import (
    DEFAULT_RELEASE_FOLDER,
    START_TIMEOUT,
    STOP_TIMEOUT,
    Version,
    compared_versions,
    describe_priority,
    favour_bench,
    free_port,
    version_environment,
)
from tests.browser.support import streamlit_command

IDLE_SECONDS = 3.0
SERVER_CPU = 0  # the processor each server is pinned to
OWN_SOURCE = ("app.py", "studio", "components", "pages")  # a version's own, not its venv's


@dataclass
class Figures:
    healthy: list[float] = field(default_factory=list)  # seconds from the process's start
    first_page: list[float] = field(default_factory=list)
    idle_rss: list[float] = field(default_factory=list)  # MB


def wait_healthy(base_url: str, process: subprocess.Popen[bytes], started: float) -> float:
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while time.monotonic() - started < START_TIMEOUT:
            with contextlib.suppress(httpx.HTTPError):
                answer = client.get(f"{base_url}/healthz")
                if answer.status_code == 200:
                    return time.monotonic() - started
                # A release without the route: Streamlit's own, once the lifespan is over.
                if (
                    answer.status_code == 404
                    and client.get(f"{base_url}/_stcore/health").is_success
                ):
                    return time.monotonic() - started
            if process.poll() is not None:
                raise RuntimeError("The server ended before it was healthy.")
            time.sleep(0.01)
    raise RuntimeError("The server was not healthy in time.")


async def first_page(base_url: str) -> None:
    """One session asks for the default page (Generate); return when its run has ended."""
    url = base_url.replace("http://", "ws://") + "/_stcore/stream"
    request = BackMsg()
    request.rerun_script.query_string = ""
    request.rerun_script.page_script_hash = ""
    async with websockets.connect(
        url, subprotocols=[websockets.Subprotocol("streamlit")], max_size=None
    ) as socket:
        await socket.send(request.SerializeToString())
        message = ForwardMsg()
        async for data in socket:
            if isinstance(data, bytes):
                message.ParseFromString(data)
                if message.WhichOneof("type") == "script_finished":
                    return


def prepare_bytecode(version: Version, compiled: bool) -> None:
    """Compile `version`'s own source into its __pycache__ folders, or remove them."""
    for name in OWN_SOURCE:
        path = version.root / name
        if compiled:
            if path.is_dir():
                compileall.compile_dir(path, quiet=1)
            else:
                compileall.compile_file(path, quiet=1)
        else:
            for cache in [path.parent / "__pycache__", *path.rglob("__pycache__")]:
                shutil.rmtree(cache, ignore_errors=True)


def start_once(
    version: Version, data_dir: Path, log: Path, *, bytecode: bool = True
) -> tuple[float, float, float]:
    """(seconds to healthy, seconds to the first page's run ended, idle MB) of one start;
    without `bytecode`, Python neither reads nor writes the version's compiled source."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = ["taskset", "--cpu-list", str(SERVER_CPU), *streamlit_command(port)]
    with log.open("ab") as output:
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            cwd=version.root,
            env=version_environment(
                version, data_dir, PYTHONDONTWRITEBYTECODE="" if bytecode else "1"
            ),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        healthy = wait_healthy(base_url, process, started)
        time.sleep(IDLE_SECONDS)
        idle = psutil.Process(process.pid).memory_info().rss / 2**20
        asked = time.monotonic()
        asyncio.run(first_page(base_url))
        page = healthy + (time.monotonic() - asked)
        return healthy, page, idle
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--release", type=Path, default=DEFAULT_RELEASE_FOLDER)
    parser.add_argument("--before", type=Path, help="another tree to compare, e.g. main")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="every start compiles the version's own source (no __pycache__)",
    )
    arguments = parser.parse_args()
    print(favour_bench(SERVER_CPU), flush=True)
    chosen = compared_versions(arguments.release, arguments.before)
    bytecode = not arguments.no_bytecode
    for version in chosen:
        prepare_bytecode(version, compiled=bytecode)
    figures = {version.name: Figures() for version in chosen}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder_name:
        folder = Path(folder_name)

        def start(version: Version) -> tuple[float, float, float]:
            log = folder / f"{version.name}.log"
            return start_once(version, folder / version.name, log, bytecode=bytecode)

        for version in chosen:  # each data folder made by its version's first start
            start(version)
        for round_ in range(arguments.rounds):
            for version in chosen if round_ % 2 == 0 else reversed(chosen):
                healthy, page, idle = start(version)
                found = figures[version.name]
                found.healthy.append(healthy)
                found.first_page.append(page)
                found.idle_rss.append(idle)
    report(chosen, figures, arguments.rounds)
    source = "compiled" if bytecode else "compiled from source at every start"
    print(f"own source: {source}; at the end: {describe_priority()}")


def report(chosen: list[Version], figures: dict[str, Figures], rounds: int) -> None:
    names = [version.name for version in chosen]
    print(f"bench.startup: {', '.join(names)}; medians of {rounds} starts each, taking turns")
    ratios = [f"this/{name}" for name in names[:-1]]
    widths = [30, *([10] * len(names)), *([13] * len(ratios))]
    header = ["figure", *names, *ratios]
    print("  ".join(f"{text:<{width}}" for text, width in zip(header, widths, strict=True)))
    rows = (
        ("cold start to healthy (s)", lambda f: f.healthy),
        ("cold start to first page (s)", lambda f: f.first_page),
        ("idle memory (MB)", lambda f: f.idle_rss),
    )
    met = True
    for title, read in rows:
        values = [statistics.median(read(figures[name])) for name in names]
        met = met and values[-1] <= values[0]
        cells = [
            title,
            *(f"{value:.3f}" for value in values),
            *(f"{values[-1] / value:.2f}x" for value in values[:-1]),
        ]
        print("  ".join(f"{text:<{width}}" for text, width in zip(cells, widths, strict=True)))
    print(f"target: this tree at or under today's release on all three: {'met' if met else 'NO'}")


if __name__ == "__main__":
    main()
