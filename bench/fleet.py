"""Jobs through two server processes sharing PostgreSQL and a bucket, one key capped.

Run from the project root:

    python -m bench.fleet [--jobs 200] [--rate 5]

A throwaway PostgreSQL, moto's S3 server (a versioned bucket, so a second write of an
object shows) and the emulator are started here. Each "server" is a process running the
studio's runtime exactly as `streamlit run app.py` wires it (`open_studio`: store, archive
on the bucket, engine) without the pages; four threads in it send jobs as four people
would. The same jobs then go through one such process alone, for the wall time.

Printed, from the emulator's request log: the most requests in any second [t, t + 1) at
the upstream (must not exceed the cap), POSTs per prompt above one, object versions in
the bucket above one per key, and the wall time from the first send to the last job done.
"""

from __future__ import annotations

import argparse
import bisect
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from studio.emulator import EmulatorConfig, RunningEmulator, start_emulator
from studio.request import GenerationRequest
from studio.runtime import open_studio
from studio.states import JobStatus
from studio.store import Store
from tests import s3_support
from tests.pg_support import start_cluster
from tests.s3_support import S3Server

KEY = "sk-bench-fleet"
SENDERS = 4  # people sending at once in each server
TASK_SECONDS = 2.0  # the emulator's estimate; true durations spread 20% around it
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Figures:
    servers: int
    jobs_done: int
    busiest_second: int
    duplicate_posts: int
    duplicate_objects: int
    wall_seconds: float


def serve(prompts: list[str]) -> None:
    """One server: send every prompt from SENDERS threads, then work until all are done."""
    studio = open_studio()
    try:
        with ThreadPoolExecutor(max_workers=SENDERS) as pool:
            jobs = list(
                pool.map(
                    lambda prompt: studio.engine.submit(
                        GenerationRequest.build(prompt=prompt), studio.credentials
                    ),
                    prompts,
                )
            )
        while any(studio.store.jobs.job(job.id).in_flight for job in jobs):
            time.sleep(0.5)
    finally:
        studio.close()


def run(
    servers: int, jobs: int, rate: float, database_url: str, s3: S3Server, upstream: RunningEmulator
) -> Figures:
    bucket = s3.new_bucket()
    upstream.log.clear()
    prompts = [f"bench fleet {servers} #{n}" for n in range(jobs)]
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("STUDIO_", "FOXAPI_", "AWS_"))
    } | {
        "FOXAPI_API_KEY": KEY,
        "FOXAPI_BASE_URL": upstream.base_url,
        "STUDIO_DATABASE_URL": database_url,
        "STUDIO_STORAGE_URL": f"s3://{bucket}/studio",
        "STUDIO_MAX_REQUESTS_PER_SECOND": str(rate),
        "AWS_ENDPOINT_URL": s3.endpoint_url,
        "AWS_REGION": s3_support.REGION,
        "AWS_ACCESS_KEY_ID": s3_support.ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": s3_support.SECRET_ACCESS_KEY,
    }
    with tempfile.TemporaryDirectory() as folder:
        started = time.monotonic()
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.fleet", "--serve", *prompts[index::servers]],
                cwd=ROOT,
                env=environment | {"STUDIO_DATA_DIR": str(Path(folder) / f"server-{index}")},
            )
            for index in range(servers)
        ]
        for process in processes:
            if process.wait() != 0:
                raise RuntimeError(f"A server process ended with code {process.returncode}.")
        wall = time.monotonic() - started
    store = Store(database_url)
    try:
        done = [job for job in store.jobs.jobs() if job.prompt in set(prompts)]
        jobs_done = sum(1 for job in done if job.status is JobStatus.DONE)
    finally:
        store.close()
    posts = Counter(
        entry.body["prompt"]  # type: ignore[index]
        for entry in upstream.log
        if entry.method == "POST" and entry.path == "/v1/images/generations"
    )
    api_times = sorted(entry.received_at for entry in upstream.log if entry.path.startswith("/v1/"))
    return Figures(
        servers=servers,
        jobs_done=jobs_done,
        busiest_second=busiest_second(api_times),
        duplicate_posts=sum(count - 1 for count in posts.values()),
        duplicate_objects=sum(count - 1 for count in Counter(s3.versions(bucket)).values()),
        wall_seconds=wall,
    )


def busiest_second(times: list[float]) -> int:
    """The most requests in any one second [t, t + 1) (times sorted)."""
    return max(
        (bisect.bisect_left(times, start + 1.0) - index for index, start in enumerate(times)),
        default=0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="the key's cap, requests/s")
    parser.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)  # a server process
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    cluster = start_cluster()
    config = EmulatorConfig(estimated_time=TASK_SECONDS, duration_spread=0.2, api_key=KEY, seed=7)
    try:
        with S3Server().running() as s3, start_emulator(config) as upstream:
            results = []
            for servers in (2, 1):
                database_url = cluster.create_database()
                results.append(run(servers, args.jobs, args.rate, database_url, s3, upstream))
                cluster.drop_database(database_url)
    finally:
        cluster.destroy()
    print(f"{args.jobs} jobs, one key capped at {args.rate:g} requests/s, PostgreSQL + S3 (moto)")
    print("servers  done  busiest second  duplicate POSTs  duplicate objects  wall time")
    for figures in results:
        print(
            f"{figures.servers:>7}  {figures.jobs_done:>4}  {figures.busiest_second:>14}  "
            f"{figures.duplicate_posts:>15}  {figures.duplicate_objects:>17}  "
            f"{figures.wall_seconds:>7.1f} s"
        )
    verdict = all(
        f.busiest_second <= args.rate and f.duplicate_posts == f.duplicate_objects == 0
        for f in results
    )
    print("cap held, nothing billed or stored twice" if verdict else "TARGET MISSED")


if __name__ == "__main__":
    main()
