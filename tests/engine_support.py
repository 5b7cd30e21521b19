"""What the engine tests share: engines made over a store and stopped at the end, a job
waited for, and a job left downloading from hosts the fetch policy allows."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from studio.archive import Archive
from studio.credentials import Credentials
from studio.fetch import FetchPolicy
from studio.jobs.engine import Engine
from studio.request import GenerationRequest
from studio.states import JobEvent, JobStatus
from studio.store import Store
from studio.task import Task, TaskStatus
from tests.http_support import LoopbackServer

Factory = Callable[..., Engine]


@contextmanager
def engines(store: Store, archive: Archive) -> Iterator[Factory]:
    """Makes engines over `store` and `archive`, each stopped at the end."""
    made: list[Engine] = []

    def make(**options: object) -> Engine:
        engine = Engine(store.jobs, store.work, archive, **options)  # type: ignore[arg-type]
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.stop()


def wait_until_finished(store: Store, job_id: str, timeout: float = 15.0) -> JobStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = store.jobs.job(job_id)
        if not job.in_flight:
            return job.status
        time.sleep(0.05)
    raise AssertionError(f"job still {store.jobs.job(job_id).status} after {timeout} s")


def request(**fields: object) -> GenerationRequest:
    return GenerationRequest.build(**({"prompt": "a red fox in the snow"} | fields))


def downloading_job(store: Store, credentials: Credentials, urls: list[str]) -> str:
    """A job whose task completed with `urls` as its results, waiting for an engine."""
    job = store.jobs.create_job(
        request(num_outputs=len(urls)),
        backend="foxapi",
        key_id=credentials.key_id,
        lease_owner="gone",
        lease_seconds=0,
    )
    task_id = f"task-unified-1-{job.id[:8]}"
    pending = Task(id=task_id, status=TaskStatus.PENDING)
    store.jobs.mark_submitted(job.id, JobEvent.TASK_PENDING, pending, owner="gone", lease_seconds=0)
    done = Task(id=task_id, status=TaskStatus.COMPLETED, result_urls=tuple(urls))
    assert store.jobs.record_results(job.id, done, owner="gone")
    return job.id


def allowing(*servers: LoopbackServer, ports: tuple[int, ...] = (), **fields: float) -> FetchPolicy:
    """The default policy, plus these loopback servers as an operator's allowed hosts."""
    hosts = {("127.0.0.1", server.port) for server in servers}
    hosts |= {("127.0.0.1", port) for port in ports}
    return replace(FetchPolicy.defaults(), allowed_hosts=frozenset(hosts), **fields)
