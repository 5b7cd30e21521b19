"""What the store tests share: a request, a job held by an engine, a picture, a task
that finished, a job whose one image is archived, and images deleted for good."""

from __future__ import annotations

import io
import time

from PIL import Image

from studio.archive import Archive
from studio.gallery.trash_store import TrashScope
from studio.request import GenerationRequest
from studio.states import JobEvent
from studio.store import Store
from studio.task import Task, TaskStatus


def request(prompt: str = "a red fox", **fields: object) -> GenerationRequest:
    return GenerationRequest.build(prompt=prompt, **fields)


def new_job(store: Store, prompt: str = "a red fox", owner: str = "engine-a", **fields: object):
    return store.jobs.create_job(
        request(prompt, **fields),
        backend="foxapi",
        key_id="key-test",
        lease_owner=owner,
        lease_seconds=30,
    )


def png_bytes(colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 32), colour).save(buffer, "PNG")
    return buffer.getvalue()


def completed(task_id: str, count: int) -> Task:
    urls = tuple(f"http://cdn.test/{task_id}/{i}.png" for i in range(count))
    return Task(id=task_id, status=TaskStatus.COMPLETED, progress=100, result_urls=urls)


def archived_job(store: Store, archive: Archive, prompt: str, **fields: object) -> int:
    job = new_job(store, prompt, **fields)
    store.jobs.record_results(job.id, completed(job.id, 1))
    image = store.work.pending_images(job.id)[0]
    store.work.archive_image(image.id, archive.save(png_bytes()))
    store.jobs.finish_job(job.id, JobEvent.SAVED)
    return image.id


def board_of(store: Store, archive: Archive, count: int, owner: str = "alice") -> list[int]:
    """A board of `owner`'s holding `count` new archived images: [board id, *image ids]."""
    ids = [archived_job(store, archive, f"fox number {n}") for n in range(count)]
    board_id = store.boards.create_board(owner, f"{owner}@example.org", "Foxes")
    store.boards.add_board_images(board_id, ids)
    return [board_id, *ids]


def delete_for_good(store: Store, *image_ids: int) -> list[str]:
    """Delete images the way the studio does: into the Trash, then out of it for good (as
    an admin, whoever made them). Return their files no remaining image uses."""
    assert store.gallery.trash.move_to_trash(image_ids, time.time()) == sorted(image_ids)
    count, unused = store.gallery.trash.delete_for_good(TrashScope(everyone=True), image_ids)
    assert count == len(image_ids)
    return unused
