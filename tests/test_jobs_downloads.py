"""Results reach the archive whatever other hosts do: each fetched on its own, only the
images asked for, only in the formats the studio keeps, and hopeless links given up at once.

Nothing leaves loopback: result hosts are loopback servers an operator allowed, or names
an injected resolver answers with a public address that an httpx.MockTransport serves.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from studio.archive import Archive
from studio.credentials import Backend, Credentials
from studio.decoding import NOT_DECODED
from studio.fetch import NOT_A_WEB_LINK, FetchPolicy
from studio.jobs.downloads import count_note, final_note
from studio.jobs.engine import Engine
from studio.states import ImageStatus, JobStatus
from studio.store import Store
from tests.decoding_support import (  # noqa: F401 (a fixture, used by name)
    REFUSED_FORMATS,
    Programs,
    encoded,
    no_programs_fixture,
)
from tests.disk_support import files_in
from tests.engine_support import allowing, downloading_job, request, wait_until_finished
from tests.http_support import dripping_server

PUBLIC = "93.184.215.14"
UPSTREAM = Credentials(Backend.FOXAPI, "https://api.example", "sk-downloads-test")


@pytest.fixture
def engines(store: Store, archive: Archive) -> Iterator[list[Engine]]:
    made: list[Engine] = []
    yield made
    for engine in made:
        engine.stop()


def started(engines: list[Engine], store: Store, archive: Archive, **options: object) -> Engine:
    engine = Engine(store.jobs, store.work, archive, **options)  # type: ignore[arg-type]
    engines.append(engine)
    engine.add_credentials(UPSTREAM)
    engine.start()
    return engine


def public_names() -> FetchPolicy:
    """The default policy, with every name resolving to one public address (never dialled:
    the MockTransport answers)."""
    return replace(FetchPolicy.defaults(), resolver=lambda host, port: [PUBLIC])


def serving(*bodies: bytes) -> tuple[httpx.MockTransport, list[str]]:
    """Result host paths /0, /1... answering `bodies` as image/png, whatever they are."""
    asked: list[str] = []

    def answer(sent: httpx.Request) -> httpx.Response:
        asked.append(sent.url.path)
        body = bodies[int(sent.url.path.strip("/"))]
        return httpx.Response(200, headers={"content-type": "image/png"}, content=body)

    return httpx.MockTransport(answer), asked


# Slow hosts


def test_sixteen_dripping_results_do_not_hold_up_an_ordinary_job(
    engines: list[Engine], store: Store, archive: Archive, credentials: Credentials
) -> None:
    server = dripping_server()  # one byte a second: each would take 1,000 s
    try:
        dripping = [downloading_job(store, credentials, [server.url()] * 4) for _ in range(4)]
        engine = started(
            engines, store, archive, fetch_policy=allowing(server, deadline_seconds=60)
        )
        deadline = time.monotonic() + 15
        while len(server.hits) < 16:  # every dripping download has begun
            assert time.monotonic() < deadline, f"{len(server.hits)} downloads began"
            time.sleep(0.05)
        ordinary = engine.submit(request(), credentials)
        # Before, the ordinary result queued behind them for up to the whole deadline.
        assert wait_until_finished(store, ordinary.id, timeout=10) is JobStatus.DONE
        assert all(store.jobs.job(job_id).status is JobStatus.DOWNLOADING for job_id in dripping)
    finally:
        server.stop()  # the drips end, and the engine can stop


# Formats


@pytest.mark.parametrize("pillow_format", REFUSED_FORMATS)
def test_a_result_in_another_format_is_refused_unopened_and_not_kept(
    pillow_format: str,
    no_programs: Programs,
    engines: list[Engine],
    store: Store,
    archive: Archive,
    tmp_path: Path,
) -> None:
    transport, asked = serving(encoded(pillow_format))
    job_id = downloading_job(store, UPSTREAM, ["https://cdn.example/0"])
    started(engines, store, archive, transport=transport, fetch_policy=public_names())
    assert wait_until_finished(store, job_id) is JobStatus.FAILED
    assert store.jobs.job(job_id).error_message == NOT_DECODED
    assert asked == ["/0"]
    assert files_in(tmp_path / "images") == []
    assert no_programs.started == []


def test_a_job_keeps_its_good_results_and_says_what_it_refused(
    no_programs: Programs, engines: list[Engine], store: Store, archive: Archive
) -> None:
    transport, _ = serving(encoded("PNG"), encoded("EPS"))
    job_id = downloading_job(store, UPSTREAM, ["https://cdn.example/0", "https://cdn.example/1"])
    started(engines, store, archive, transport=transport, fetch_policy=public_names())
    assert wait_until_finished(store, job_id) is JobStatus.DONE
    statuses = [image.status for image in store.gallery.job_images(job_id)]
    assert statuses == [ImageStatus.ARCHIVED, ImageStatus.EXPIRED]
    assert store.jobs.job(job_id).error_message == NOT_DECODED
    assert no_programs.started == []


# More results than asked for


@pytest.mark.parametrize(
    ("delivered", "asked", "note"),
    [
        (300, 1, "FoxAPI sent 300 images for a request of 1; only the first was kept."),
        (1, 3, "FoxAPI sent 1 of the 3 images asked for."),
    ],
)
def test_only_the_images_asked_for_are_fetched_and_kept_and_a_miscount_is_said(
    engines: list[Engine],
    store: Store,
    archive: Archive,
    delivered: int,
    asked: int,
    note: str,
) -> None:
    fetched: list[str] = []

    def upstream(sent: httpx.Request) -> httpx.Response:
        if sent.headers["host"] == "cdn.example":  # sent to its checked address
            fetched.append(sent.url.path)
            return httpx.Response(200, headers={"content-type": "image/png"}, content=png)
        task = {"id": "task-unified-1757165031-abcdefgh", "created": 1757165031}
        if sent.method == "POST":
            return httpx.Response(200, json=task | {"status": "pending", "progress": 0})
        results = [{"url": f"https://cdn.example/r/{index}.png"} for index in range(delivered)]
        return httpx.Response(200, json=task | {"status": "completed", "results": results})

    png = encoded("PNG")
    engine = started(
        engines,
        store,
        archive,
        transport=httpx.MockTransport(upstream),
        fetch_policy=public_names(),
    )
    job = engine.submit(request(num_outputs=asked), UPSTREAM)
    assert wait_until_finished(store, job.id) is JobStatus.DONE
    kept = min(delivered, asked)
    statuses = [image.status for image in store.gallery.job_images(job.id)]
    assert statuses == [ImageStatus.ARCHIVED] * kept
    assert sorted(fetched) == [f"/r/{index}.png" for index in range(kept)]
    assert store.jobs.job(job.id).error_message == note


def test_the_notes_a_finished_job_keeps() -> None:
    assert count_note(4, 4) is None
    assert count_note(1, 2) == "FoxAPI sent 1 of the 2 images asked for."
    assert count_note(5, 4) == (
        "FoxAPI sent 5 images for a request of 4; only the first 4 were kept."
    )
    assert final_note(None, None) is None
    assert final_note("A.", "A.", None, "B.") == "A. B."


# Links no try can fetch


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://files.example/a.png", "data:image/png;base64,AA=="]
)
def test_a_result_link_off_the_web_ends_at_once(
    url: str, engines: list[Engine], store: Store, archive: Archive
) -> None:
    job_id = downloading_job(store, UPSTREAM, [url])
    transport, asked = serving()
    started(engines, store, archive, transport=transport, fetch_policy=public_names())
    # Retried, it took eight tries and about three minutes.
    assert wait_until_finished(store, job_id, timeout=5) is JobStatus.FAILED
    assert store.jobs.job(job_id).error_message == NOT_A_WEB_LINK
    assert asked == []
