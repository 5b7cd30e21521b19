"""What the side-by-side benches share: today's release and this tree, served and seeded alike.

"Today" is the release before the live-progress, image-route, streaming-zip and
count-cache work: commit TODAY, checked out as a worktree (`git worktree add
/tmp/release c4ad47b`) and run with the same venv. Each version is served from its own
folder (`streamlit run app.py`, cwd and PYTHONPATH on that folder), against the emulator
in the bench's process, on a data folder seeded by that version's own code (its
`bench/gallery.py`), so each store has the schema its own migrations make.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from playwright.sync_api import Page, expect

from tests.browser.support import streamlit_command

ROOT = Path(__file__).resolve().parent.parent
TODAY = "c4ad47b"
DEFAULT_RELEASE_FOLDER = Path("/tmp/release")  # noqa: S108 (where the brief checks it out)
SEED_SCRIPT = Path(__file__).resolve().parent / "seed.py"
START_TIMEOUT = 90.0  # seconds for a server to answer its health check on a busy machine
STOP_TIMEOUT = 20.0
EMULATOR_KEY = "sk-bench-7c1d0e55a2"
# Keys and addresses the studio's settings read: a developer's own must not leak in.
_STUDIO_VARIABLES = re.compile(r"^(FOXAPI_|STUDIO_)")


# Every picture in the main area, those inside components' shadow roots too.
MAIN_PICTURES = """() => {
  const found = [];
  const walk = (root) => {
    for (const element of root.querySelectorAll("*")) {
      if (element.tagName === "IMG") found.push(element);
      if (element.shadowRoot) walk(element.shadowRoot);
    }
  };
  walk(document.querySelector('[data-testid="stMain"]'));
  return found;
}"""


@dataclass(frozen=True)
class Version:
    name: str  # "today" or "main"
    root: Path  # the folder its app.py and studio/ are in


def versions(release_folder: Path) -> list[Version]:
    """Today's release (checked to be commit TODAY) and this tree."""
    head = subprocess.run(
        ["git", "-C", str(release_folder), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if not head.startswith(TODAY):
        raise SystemExit(
            f"{release_folder} is not a checkout of {TODAY}: "
            f"run `git worktree add {release_folder} {TODAY}` first."
        )
    return [Version("today", release_folder), Version("main", ROOT)]


def compared_versions(release_folder: Path, before: Path | None) -> list[Version]:
    """The release before, optionally another tree (`before`, e.g. main), and this tree."""
    today, this = versions(release_folder)
    extra = [] if before is None else [Version("before", before)]
    return [today, *extra, Version("this", this.root)]


def version_environment(version: Version, data_dir: Path, **settings: str) -> dict[str, str]:
    """The process environment for `version` on `data_dir`: nothing of the developer's own."""
    environment = {
        name: value for name, value in os.environ.items() if not _STUDIO_VARIABLES.match(name)
    }
    environment.update(
        PYTHONPATH=str(version.root),
        STUDIO_DATA_DIR=str(data_dir),
        STUDIO_DATABASE_URL="",
        FOXAPI_API_KEY="",  # the demo backend, unless `settings` name an upstream
    )
    environment.update(settings)
    return environment


def seed(version: Version, data_dir: Path, images: int, image_format: str, clones: int = 1) -> None:
    """Fill `data_dir` with `images` archived images (times `clones`) by `version`'s own code."""
    command = [
        sys.executable,
        str(SEED_SCRIPT),
        str(data_dir),
        str(images),
        image_format,
        str(clones),
    ]
    subprocess.run(
        command, cwd=version.root, env=version_environment(version, data_dir), check=True
    )


# A processor as nearly of its own as a shared machine allows ------------------------

PRIORITY = -15  # the nice value of the bench, its servers, clients and Chromium


def favour_process(pid: int) -> None:
    """Give process `pid` (every thread of it) and its autogroup the bench's high priority.

    Both, because Linux (kernel.sched_autogroup_enabled) shares a processor between sessions'
    autogroups first and by nice value only within one: a nice value alone does not make
    another session's tests yield. Best effort: a process may end meanwhile.
    """
    for thread in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, int(thread.name), PRIORITY)
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/autogroup").write_text(str(PRIORITY))


def favour_bench(server_cpu: int | None = None) -> str:
    """Run the bench with a high priority, on every processor but `server_cpu` if given;
    what it starts later inherits both. Needs root (or CAP_SYS_NICE). Returns a line saying
    what was set and the machine's load, for the report.

    The bench leaves its caller's session when it can (not when started as a process group
    leader, as a shell's job is: `setsid python -m bench...` then), so that favouring its
    autogroup favours nothing else; the autogroup's priority is restored at exit either way.
    """
    with contextlib.suppress(OSError):
        os.setsid()
    autogroup = Path("/proc/self/autogroup")
    with contextlib.suppress(OSError):
        before = autogroup.read_text().split("nice")[-1].strip()

        def restore() -> None:
            with contextlib.suppress(OSError):
                autogroup.write_text(before)

        atexit.register(restore)
    favour_process(os.getpid())
    if server_cpu is not None:
        others = os.sched_getaffinity(0) - {server_cpu}
        if others:
            os.sched_setaffinity(0, others)
    return describe_priority()


def favour_children() -> None:
    """Favour every process the bench has started, Chromium included: Playwright starts
    the browser in a session (and so an autogroup) of its own."""
    for child in psutil.Process().children(recursive=True):
        favour_process(child.pid)


def describe_priority() -> str:
    nice = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        autogroup = Path("/proc/self/autogroup").read_text().strip()
    except OSError:
        autogroup = "no autogroup"
    loads = ", ".join(f"{load:.1f}" for load in os.getloadavg())
    return (
        f"priority: nice {nice}, {autogroup}; processors {sorted(os.sched_getaffinity(0))}; "
        f"load average {loads}"
    )


# Servers ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base_url: str
    process: psutil.Process

    def cpu_seconds(self) -> float:
        """User and system CPU time of the server and any children so far."""
        total = 0.0
        for member in [self.process, *self.process.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = member.cpu_times()
                total += times.user + times.system
        return total

    def resident_bytes(self) -> int:
        total = 0
        for member in [self.process, *self.process.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += member.memory_info().rss
        return total


@contextlib.contextmanager
def studio_server(
    version: Version,
    data_dir: Path,
    log_path: Path,
    upstream: str | None = None,
    *,
    cpus: Sequence[int] = (),
    **extra_settings: str,
) -> Iterator[Server]:
    """`streamlit run app.py` of `version` on a free loopback port; the emulator as FoxAPI.

    `cpus` pins the server (every thread it starts) to those processors.
    """
    settings = {"FOXAPI_API_KEY": EMULATOR_KEY, "FOXAPI_BASE_URL": upstream} if upstream else {}
    settings |= extra_settings
    port = free_port()
    command = streamlit_command(port)
    if cpus:
        command = ["taskset", "--cpu-list", ",".join(map(str, cpus)), *command]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=version.root,
            env=version_environment(version, data_dir, **settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{base_url}/_stcore/health").text == "ok":
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"The {version.name} studio did not start:\n"
                        + log_path.read_text(errors="replace")[-3000:]
                    )
                time.sleep(0.2)
        yield Server(base_url, psutil.Process(process.pid))
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# Pages of either version ------------------------------------------------------------

# The Generate button's name: "Generate" today, with the shortcut it announces on main.
GENERATE_BUTTON = re.compile(r"^Generate( Shortcut .+)?$")


def send_generation(page: Page, prompt: str) -> None:
    """Type `prompt` on the Generate page, press Generate, wait for the toast saying it was
    sent; on either version (tests/browser/support.py's own follows main's page only)."""
    page.get_by_role("textbox", name="Prompt", exact=True).fill(prompt)
    page.get_by_role("button", name=GENERATE_BUTTON).click()
    toasts = page.get_by_test_id("stToast").filter(has_text="Sent")
    expect(toasts.filter(has_text=prompt[:40])).to_have_count(1)


# Report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    figure: str
    today: float
    main: float
    unit: str
    target: str  # in words, e.g. "main <= 1/8 of today"
    met: bool

    @property
    def ratio(self) -> str:
        return f"{self.main / self.today:.3f}x" if self.today else "n/a"


def print_table(title: str, rows: Sequence[Row]) -> None:
    print()
    print(title)
    header = ("figure", "today", "main", "main/today", "target", "met")
    widths = (44, 14, 14, 11, 30, 4)
    print("  ".join(f"{text:<{width}}" for text, width in zip(header, widths, strict=True)))
    for row in rows:
        cells = (
            row.figure,
            f"{row.today:.3f} {row.unit}",
            f"{row.main:.3f} {row.unit}",
            row.ratio,
            row.target,
            "yes" if row.met else "NO",
        )
        print("  ".join(f"{text:<{width}}" for text, width in zip(cells, widths, strict=True)))
    sys.stdout.flush()  # each table as soon as its part is measured
