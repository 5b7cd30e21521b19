"""Helpers for the component and export tests: the app in AppTest, the forms filled in as
a person would, and images and jobs put straight into a real store.

Seeded jobs are leased to an owner no engine takes over, so a running app leaves them
exactly in the state the test gave them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from PIL import Image
from streamlit.components.v2.bidi_component.main import _make_trigger_id
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from components.frame import get_studio
from studio.archive import Archive
from studio.credentials import DEMO_KEY_ID
from studio.records import GalleryFilter, GalleryItem, JobOrigin, JobRecord
from studio.request import GenerationRequest
from studio.runtime import Runtime
from studio.states import JobEvent, JobStatus
from studio.store import Store
from studio.task import Task, TaskStatus

APP_FILE = Path(__file__).resolve().parent.parent / "app.py"
GALLERY = "pages/gallery.py"
EDIT = "pages/edit.py"
RUN_TIMEOUT = 30  # seconds; a first run starts the demo backend
SEED_OWNER = "test-seed"  # not host:pid, so no engine thinks its holder died
SEED_LEASE = 3600.0


def open_app_studio(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
) -> Iterator[Runtime]:
    """The studio the app will use, on an empty data folder, with no key configured.

    `base_url` stands in for FoxAPI; `api_key` configures the server with a key.

    The app opens its studio once per process through st.cache_resource; clearing that
    cache before and after each test gives every test its own (clearing also stops the
    engine and the demo backend).
    """
    monkeypatch.chdir(tmp_path)  # no developer's .streamlit/secrets.toml is read
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "data"))
    if api_key is None:
        monkeypatch.delenv("FOXAPI_API_KEY", raising=False)
    else:
        monkeypatch.setenv("FOXAPI_API_KEY", api_key)
    if base_url is None:
        monkeypatch.delenv("FOXAPI_BASE_URL", raising=False)
    else:
        monkeypatch.setenv("FOXAPI_BASE_URL", base_url)
    monkeypatch.delenv("STUDIO_DATABASE_URL", raising=False)
    monkeypatch.delenv("STUDIO_STORAGE_URL", raising=False)
    st.cache_resource.clear()
    yield get_studio()
    st.cache_resource.clear()


# Sign-in: an `[auth]` section Streamlit accepts, and people as `st.user` gives them.
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not-a-real-secret",
    "client_id": "studio",
    "client_secret": "not-a-real-secret-either",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
ALICE = {"is_logged_in": True, "sub": "sub-alice", "email": "alice@example.com", "name": "Alice"}
BOB = {"is_logged_in": True, "sub": "sub-bob", "email": "bob@example.com", "name": "Bob"}
BOSS = {"is_logged_in": True, "sub": "sub-boss", "email": "boss@example.com", "name": "Boss"}
EVE = {"is_logged_in": True, "sub": "sub-eve", "email": "eve@elsewhere.org", "name": "Eve"}


def app_as(user: dict[str, Any], page_file: str | None = None, **query: str) -> AppTest:
    """The app with sign-in configured, run for `user` (on `page_file`, with `query`)."""
    app = AppTest.from_file(str(APP_FILE), default_timeout=RUN_TIMEOUT)
    app.secrets["auth"] = AUTH
    app.user = user
    if page_file is not None:
        app.switch_page(page_file)
    app.query_params.update(query)
    app.run()
    assert not app.exception, app.exception
    return app


def open_app(page_file: str | None = None, **query: str) -> AppTest:
    """The app run once, then on `page_file` (under pages/) with `query` in the URL."""
    app = AppTest.from_file(str(APP_FILE), default_timeout=RUN_TIMEOUT)
    app.run()
    if page_file is not None:
        app.switch_page(page_file)
    if query:
        app.query_params.update(query)
    if page_file is not None or query:
        app.run()
    assert not app.exception, app.exception
    return app


def texts(app: AppTest) -> list[str]:
    """What st.text shows on the page: prompts, never read as Markdown or HTML."""
    return [element.value for element in app.text]


def submit_generation(app: AppTest, prompt: str) -> AppTest:
    """Type `prompt` on the Generate page and press Generate."""
    app.text_area(key="generate_prompt").set_value(prompt)
    app.run()  # the prompt is left (committed), so its price shows first
    return app.button(key="generate-send").click().run()


def inputs_heading(app: AppTest) -> str:
    """The Edit page's "Input images (n of 3)" heading."""
    return next(m.value for m in app.markdown if m.value.startswith("**Input images**"))


def add_urls(app: AppTest, text: str) -> AppTest:
    """Paste `text` into the Edit page's links box and press Add URLs."""
    app.text_area(key="edit_urls").set_value(text)
    return app.button(key="edit-add-urls").click().run()


def apply_edit(app: AppTest, change: str) -> AppTest:
    """Describe `change` on the Edit page and press Apply edit."""
    app.text_area(key="edit_prompt").set_value(change)
    return app.button(key="FormSubmitter:edit-Apply edit").click().run()


def live_jobs(app: AppTest) -> list[dict[str, Any]]:
    """The jobs in flight the page hands to the browser to follow, as the browser gets them."""
    return [job for data in handed_over(app, "live_progress") for job in data["jobs"]]


def handed_over(app: AppTest, component: str) -> list[dict[str, Any]]:
    """What each of the page's `component` (live_progress, board_order...) hands the browser:
    JSON text inside the JSON Streamlit sends (components/component_data.py), read as the
    component's script reads it."""
    return [
        json.loads(json.loads(element.proto.json)["json"])
        for element in app.get("bidi_component")
        if element.proto.component_name.endswith(f".{component}")
    ]


def send_event(app: AppTest, component: str, event: str, value: Any) -> AppTest:
    """Run the app as after the browser's `component` sent `event` (a tile's click, say):
    the trigger a custom component's setTriggerValue sends, beside every widget's state."""
    [element] = [
        element
        for element in app.get("bidi_component")
        if element.proto.component_name.endswith(f".{component}")
    ]
    states = app._tree.get_widget_states()
    trigger = WidgetState()
    trigger.id = _make_trigger_id(element.proto.id, "events")
    trigger.json_trigger_value = json.dumps([{"event": event, "value": value}])
    states.widgets.append(trigger)
    assert app._tree._runner is not None
    return app._tree._runner._run(states)


def gallery_tiles(app: AppTest) -> list[dict[str, Any]]:
    """The gallery's tiles as handed to the browser (none when no grid is drawn)."""
    return [tile for grid in handed_over(app, "gallery_tiles") for tile in grid["images"]]


def gallery_prompts(app: AppTest) -> list[str]:
    """The prompts of the gallery's tiles, in order."""
    return [tile["prompt"] for tile in gallery_tiles(app)]


def select_in_gallery(app: AppTest, *items: GalleryItem, selected: bool = True) -> AppTest:
    """Tick gallery tiles' corner checkboxes (at once, as a shift-click's range sends them)."""
    ids = [item.image.id for item in items]
    return send_event(app, "gallery_tiles", "select", {"ids": ids, "selected": selected})


def shown_text(app: AppTest) -> str:
    """Every element's content on the page, sidebar and toasts included, as one string."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(app.main)
    walk(app.sidebar)
    parts += [str(toast.proto) for toast in app.toast]
    return "\n".join(parts)


def image_bytes(
    colour: tuple[int, int, int] = (200, 80, 40), size: tuple[int, int] = (64, 64), fmt: str = "PNG"
) -> bytes:
    output = BytesIO()
    Image.new("RGB", size, colour).save(output, fmt)
    return output.getvalue()


def seed_job(
    store: Store,
    prompt: str = "a red fox in the snow",
    *,
    status: JobStatus = JobStatus.RUNNING,
    progress: int = 0,
    key_id: str = DEMO_KEY_ID,
    error_message: str | None = None,
    owner: dict[str, Any] | None = None,
    origin: JobOrigin = JobOrigin(),  # noqa: B008 (frozen)
    **fields: object,
) -> JobRecord:
    """A job FoxAPI accepted, left in `status` and held by no running engine.

    `owner` is a signed-in person as `st.user` gives them (see ALICE); None: nobody.
    """
    request = GenerationRequest.build(prompt=prompt, **fields)
    job = store.jobs.create_job(
        request,
        backend="demo" if key_id == DEMO_KEY_ID else "foxapi",
        key_id=key_id,
        lease_owner=SEED_OWNER,
        lease_seconds=SEED_LEASE,
        owner_sub=owner["sub"] if owner else None,
        owner_email=owner["email"] if owner else None,
        origin=origin,
    )
    if status is JobStatus.UNKNOWN:
        store.jobs.mark_outcome_unknown(job.id, error_message or "")
        return store.jobs.job(job.id)
    pending = status is JobStatus.QUEUED
    task = Task(
        id=f"task-unified-seed-{job.id[:8]}",
        status=TaskStatus.PENDING if pending else TaskStatus.PROCESSING,
        progress=progress,
        estimated_time=45,
    )
    event = JobEvent.TASK_PENDING if pending else JobEvent.TASK_PROCESSING
    store.jobs.mark_submitted(job.id, event, task, owner=SEED_OWNER, lease_seconds=SEED_LEASE)
    if status in (JobStatus.FAILED, JobStatus.LOST):
        event = JobEvent.TASK_FAILED if status is JobStatus.FAILED else JobEvent.TASK_LOST
        store.jobs.finish_job(job.id, event, owner=SEED_OWNER, error_message=error_message)
    return store.jobs.job(job.id)


def finish_seeded(store: Store, job: JobRecord) -> None:
    """A seeded job in flight, finished as FoxAPI and the archive would (no images)."""
    task = Task(id=job.task_id or "", status=TaskStatus.COMPLETED, progress=100)
    store.jobs.record_results(job.id, task)
    store.jobs.finish_job(job.id, JobEvent.SAVED)


def seed_images(
    store: Store,
    archive: Archive,
    prompt: str = "a red fox in the snow",
    *,
    count: int = 1,
    fmt: str = "PNG",
    favourite: bool = False,
    pictures: tuple[bytes, ...] = (),
    **fields: object,
) -> list[GalleryItem]:
    """A finished job with `count` archived images (`pictures` as they are, else drawn);
    returns them as the gallery sees them."""
    job = seed_job(store, prompt, num_outputs=count, **fields)
    urls = tuple(f"https://cdn.example.invalid/{job.id}/{index}.png" for index in range(count))
    store.jobs.record_results(
        job.id,
        Task(id=job.task_id or "", status=TaskStatus.COMPLETED, progress=100, result_urls=urls),
        owner=SEED_OWNER,
    )
    for position, image in enumerate(store.work.pending_images(job.id)):
        # A distinct colour per image and job, so no two files share a hash.
        shade = (len(prompt) * 37 + position * 53 + int(job.created_at * 1000)) % 200
        drawn = image_bytes((shade, 90, 200 - shade), fmt=fmt)
        picture = pictures[position] if position < len(pictures) else drawn
        store.work.archive_image(image.id, archive.save(picture))
        if favourite:
            store.gallery.set_favourite(image.id, True)
    store.jobs.finish_job(job.id, JobEvent.SAVED, owner=SEED_OWNER)
    return [item for item in all_items(store) if item.job.id == job.id]


def all_items(store: Store) -> list[GalleryItem]:
    return store.gallery.gallery(GalleryFilter(), limit=10_000, offset=0)
