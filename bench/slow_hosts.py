"""How long an ordinary job waits while results drip from a slow host: the release before
(commit RELEASE) and this tree side by side, in one run.

Run from the project root, after `git worktree add --detach /tmp/release17 01794e7`:

    python -m bench.slow_hosts [--release /tmp/release17] [--drips 0 16 32] [--deadline 20]

For each count N of dripping results, each version runs in a process of its own (its
folder first on PYTHONPATH, so its own engine, store and fetch policy), on a fresh SQLite
store: a loopback host drips every result one byte a second (an operator's allowed host,
so the fetch policy lets it through), N jobs whose tasks completed with one such result
each are handed to a started engine, and once every drip has begun (or, where downloads
queue, the first ones) an ordinary job is sent to the emulator (1 s tasks). The figure is
the time from its POST to its images being archived. The drips end at the fetch deadline
(`--deadline`), which is what an ordinary job queued behind them waited for.
Target: with 16 or more dripping results, main within 3 s and at most 1/5 of the release.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RELEASE = "01794e7"
DEFAULT_RELEASE_FOLDER = Path("/tmp/release17")  # noqa: S108 (where the brief checks it out)
ROOT = Path(__file__).resolve().parent.parent
DRIP_BYTES = 10_000  # at a byte a second, longer than any deadline measured here
STARTED_WAIT = 10.0  # seconds to wait for the drips to begin before the ordinary job
TARGET_SECONDS = 3.0
TARGET_RATIO = 0.2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", type=Path, default=DEFAULT_RELEASE_FOLDER)
    parser.add_argument("--drips", type=int, nargs="+", default=[0, 16, 32])
    parser.add_argument("--deadline", type=float, default=20.0, help="the fetch deadline, s")
    args = parser.parse_args()
    head = subprocess.run(
        ["git", "-C", str(args.release), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    if not head.startswith(RELEASE):
        raise SystemExit(
            f"{args.release} is not a checkout of {RELEASE}: run `git worktree add "
            f"--detach {args.release} {RELEASE}` first."
        )
    # Imported here: the worker below runs in each version's process without them.
    from bench.support import Row, print_table

    rows = []
    for drips in args.drips:
        release = _measure(args.release, drips, args.deadline)
        main_wait = _measure(ROOT, drips, args.deadline)
        met = drips < 16 or (main_wait <= TARGET_SECONDS and main_wait <= TARGET_RATIO * release)
        rows.append(
            Row(
                f"ordinary job's wait, {drips} dripping results",
                release,
                main_wait,
                "s",
                "<= 3 s and <= 1/5 of release" if drips >= 16 else "(reference)",
                met,
            )
        )
    print_table(
        f"An ordinary job behind dripping results (fetch deadline {args.deadline:g} s); "
        f"'today' is {RELEASE}",
        rows,
    )


def _measure(root: Path, drips: int, deadline: float) -> float:
    """The ordinary job's wait in seconds, measured by `root`'s own code."""
    with tempfile.TemporaryDirectory(prefix="bench-slow-hosts-") as folder:
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--worker", str(drips), str(deadline)],
            cwd=folder,
            env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=deadline * (2 + drips / 8) + 120,
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"The worker for {root} failed:\n{done.stderr}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["wait"])


# The worker: runs with one version's `studio` on its path --------------------------------


def _drip_server() -> tuple[ThreadingHTTPServer, threading.Event, list[str]]:
    stopping = threading.Event()
    hits: list[str] = []

    class Drip(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(DRIP_BYTES))
            self.end_headers()
            for _ in range(DRIP_BYTES):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                if stopping.wait(1.0):
                    return

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, stopping, hits


def _worker(drips: int, deadline: float) -> None:
    from dataclasses import replace

    from studio.archive import Archive
    from studio.credentials import Backend, Credentials
    from studio.emulator import EmulatorConfig, start_emulator
    from studio.fetch import FetchPolicy
    from studio.jobs.engine import Engine
    from studio.request import GenerationRequest
    from studio.states import JobEvent, JobStatus
    from studio.store import Store
    from studio.task import Task, TaskStatus

    server, stopping, hits = _drip_server()
    port = server.server_address[1]
    emulator = start_emulator(EmulatorConfig(estimated_time=1.0, duration_spread=0.0, seed=7))
    store = Store(f"sqlite:///{Path.cwd() / 'studio.db'}")
    credentials = Credentials(Backend.FOXAPI, emulator.base_url, "sk-bench-slow-hosts")
    for index in range(drips):
        job = store.jobs.create_job(
            GenerationRequest.build(prompt=f"a dripping fox {index}"),
            backend="foxapi",
            key_id=credentials.key_id,
            lease_owner="gone",
            lease_seconds=0,
        )
        task_id = f"task-unified-1-{index:08d}"
        pending = Task(id=task_id, status=TaskStatus.PENDING)
        store.jobs.mark_submitted(
            job.id, JobEvent.TASK_PENDING, pending, owner="gone", lease_seconds=0
        )
        urls = (f"http://127.0.0.1:{port}/{index}.png",)
        done = Task(id=task_id, status=TaskStatus.COMPLETED, result_urls=urls)
        store.jobs.record_results(job.id, done, owner="gone")
    policy = replace(
        FetchPolicy.defaults(),
        allowed_hosts=frozenset({("127.0.0.1", port)}),
        deadline_seconds=deadline,
    )
    engine = Engine(store.jobs, store.work, Archive(Path.cwd() / "images"), fetch_policy=policy)
    engine.add_credentials(credentials)
    engine.start()
    begun = time.monotonic() + STARTED_WAIT
    while len(hits) < drips and time.monotonic() < begun:
        time.sleep(0.05)
    sent = time.monotonic()
    ordinary = engine.submit(GenerationRequest.build(prompt="an ordinary fox"), credentials)
    while store.jobs.job(ordinary.id).in_flight:
        time.sleep(0.02)
    wait = time.monotonic() - sent
    status = store.jobs.job(ordinary.id).status
    stopping.set()
    engine.stop()
    emulator.stop()
    server.shutdown()
    if status is not JobStatus.DONE:
        raise SystemExit(f"The ordinary job ended {status}")
    print(json.dumps({"wait": wait, "drips_begun": len(hits)}))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        _worker(int(sys.argv[2]), float(sys.argv[3]))
    else:
        main()
