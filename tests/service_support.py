"""The door (studio.service) over a real store and archive with the engine replaced by a
small fake, for the domains' service tests: FoxAPI's answers are decided here, at once,
so a test waits on nothing and sends nothing. The engine keeps its own tests against the
emulator (test_jobs_engine.py)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from PIL import Image

from studio.archive import Archive
from studio.credentials import Backend, Credentials
from studio.errors import InsufficientBalance, Unauthorized
from studio.jobs.keys import TypedKeys
from studio.jobs.store import JobStore, WorkStore
from studio.links import UrlSigner
from studio.people import LOCAL, Person, Quota
from studio.records import GalleryItem, JobOrigin, JobRecord
from studio.request import GenerationRequest
from studio.service import Parts, Studio
from studio.settings import Settings
from studio.states import JobEvent
from studio.storage import open_storage
from studio.store import Store
from studio.task import Task, TaskStatus

FAKE_OWNER = "fake-engine"  # the lease every job of the fake is held under
UPLOADED = "https://uploads.example.invalid"
DEMO_CREDENTIALS = Credentials(Backend.DEMO, "http://127.0.0.1:9", "demo-key")


@dataclass
class FakeClients:
    """The engine's clients as the job service uses them: uploads and gallery links."""

    uploads: list[bytes] = field(default_factory=list)  # each upload's bytes, in order

    def upload(self, image: object, credentials: Credentials) -> str:
        self.uploads.append(image.data)  # type: ignore[attr-defined]
        return f"{UPLOADED}/{len(self.uploads)}.png"

    def input_url(self, item: GalleryItem, credentials: Credentials) -> str:
        return f"{UPLOADED}/gallery/{item.image.id}.png"


class FakeEngine:
    """What the job service calls on the engine. Every POST is kept in `sent`, billed or
    not; an accepted job ends at once: saved with its images drawn, or failed when `fail`."""

    def __init__(self, jobs: JobStore, work: WorkStore, archive: Archive) -> None:
        self.jobs, self.work, self.archive = jobs, work, archive
        self.clients = FakeClients()
        self.sent: list[GenerationRequest] = []
        self.balance: int | None = None  # images FoxAPI still bills; None: no end
        self.accepted_keys: set[str] | None = None  # the API keys FoxAPI knows; None: any
        self.fail = False  # each accepted task fails
        self._keys: dict[str, Credentials] = {}
        self._lock = threading.Lock()
        self._drawn = 0

    def add_credentials(self, credentials: Credentials) -> None:
        self._keys[credentials.key_id] = credentials

    def has_credentials(self, key_id: str) -> bool:
        return key_id in self._keys

    def submit(
        self,
        request: GenerationRequest,
        credentials: Credentials,
        *,
        retry_of: str | None = None,
        origin: JobOrigin = JobOrigin(),  # noqa: B008 (frozen)
        owner: Person = LOCAL,
        quota: Quota | None = None,
    ) -> JobRecord:
        """As the engine: the job is recorded (and its quota checked) before the POST."""
        self.add_credentials(credentials)
        job = self.jobs.create_job(
            request,
            backend=credentials.backend,
            key_id=credentials.key_id,
            lease_owner=FAKE_OWNER,
            lease_seconds=3600,
            retry_of=retry_of,
            origin=origin,
            owner_sub=owner.sub,
            owner_email=owner.email,
            quota=quota,
        )
        with self._lock:
            self.sent.append(request)
            refusal = self._refusal(credentials, request.num_outputs)
        if refusal is not None:
            self.jobs.delete_unsent_job(job.id)
            raise refusal
        task = Task(id=f"task-fake-{job.id[:8]}", status=TaskStatus.PROCESSING, progress=0)
        self.jobs.mark_submitted(
            job.id, JobEvent.TASK_PROCESSING, task, owner=FAKE_OWNER, lease_seconds=3600
        )
        if self.fail:
            self.jobs.finish_job(
                job.id, JobEvent.TASK_FAILED, owner=FAKE_OWNER, error_message="It failed."
            )
        else:
            self._save_results(job.id, task, request.num_outputs)
        return self.jobs.job(job.id)

    def _refusal(self, credentials: Credentials, images: int) -> Exception | None:
        if self.accepted_keys is not None and credentials.api_key not in self.accepted_keys:
            return Unauthorized("FoxAPI refused the key.", status=401)
        if self.balance is not None:
            if images > self.balance:
                return InsufficientBalance("Insufficient balance: top up.", status=402)
            self.balance -= images
        return None

    def _save_results(self, job_id: str, task: Task, count: int) -> None:
        urls = tuple(f"https://cdn.example.invalid/{job_id}/{index}.png" for index in range(count))
        done = Task(id=task.id, status=TaskStatus.COMPLETED, progress=100, result_urls=urls)
        self.jobs.record_results(job_id, done, owner=FAKE_OWNER)
        for image in self.work.pending_images(job_id):
            self.work.archive_image(image.id, self.archive.save(self._picture()))
        self.jobs.finish_job(job_id, JobEvent.SAVED, owner=FAKE_OWNER)

    def _picture(self) -> bytes:
        """A PNG no other result shares, so each is its own file."""
        with self._lock:
            self._drawn += 1
            shade = self._drawn
        buffer = BytesIO()
        Image.new("RGB", (64, 48), (shade % 256, shade // 256 % 256, 120)).save(buffer, "PNG")
        return buffer.getvalue()


def png(colour: str = "orange", size: tuple[int, int] = (80, 60)) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def generate(service: Studio, prompt: str = "a fox", count: int = 1) -> JobRecord:
    """Send a generation with this person's key; the fake engine has saved it on return."""
    submission = service.jobs.generation(
        prompt=prompt, num_outputs=count, aspect_ratio=None, output_format="png"
    )
    return service.jobs.send(submission, service.jobs.credentials())


def wait_for(service: Studio, job_id: str, timeout: float = 15.0) -> JobRecord:
    """The job once it is no longer in flight, for a door over a real engine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = service.jobs.job(job_id)
        if job is not None and not job.in_flight:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still in flight after {timeout} s")


@dataclass
class Opened:
    """A studio's parts as the domain tests reach them, with the door over them."""

    settings: Settings
    store: Store
    archive: Archive
    engine: FakeEngine
    service: Studio

    def close(self) -> None:
        self.store.close()


def open_door(data_dir: Path, database_url: str | None = None, **settings: object) -> Opened:
    """The door over a store at `database_url` (else SQLite in `data_dir`) and a fake engine.

    The server's key is FOXAPI_API_KEY's when given in `settings`, else the demo backend's.
    """
    if database_url is not None:
        settings["studio_database_url"] = database_url
    configured = Settings(studio_data_dir=data_dir, **settings)  # type: ignore[arg-type]
    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(configured.database_url)
    archive = Archive(open_storage(configured), thumbnail_px=configured.studio_thumbnail_px)
    engine = FakeEngine(store.jobs, store.work, archive)
    api_key = configured.api_key
    server = (
        Credentials(Backend.FOXAPI, configured.foxapi_base_url, api_key)
        if api_key
        else DEMO_CREDENTIALS
    )
    engine.add_credentials(server)
    secret = configured.studio_url_secret
    parts = Parts(
        configured,
        store,
        archive,
        engine,  # type: ignore[arg-type]
        TypedKeys(server),
        UrlSigner(secret.get_secret_value().encode() if secret else b"a-test-secret"),
    )
    return Opened(configured, store, archive, engine, Studio(parts))
