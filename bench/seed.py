"""Seed a data folder with archived images, by the code of the version it is run in.

    PYTHONPATH=<version's folder> python bench/seed.py DATA_DIR IMAGES jpeg|png [CLONES]

Run by bench/support.py `seed` with cwd and PYTHONPATH on a version's folder, so that
`studio` and `bench.gallery` are that version's: the store gets its own migrations and
the jobs its own `fill`. JPEG pictures are bench/gallery.py's (photographic grain, tens
of kB as thumbnails); PNG pictures are 1024 px drawings with faint grain, about 1.8 MB each
like the issue's 200-PNG export. With CLONES > 1 the jobs and images are copied, in bulk SQL, that
many times over, each copy older than the one before, so the newest page is unchanged;
every column is copied as the version's schema has it (its search triggers index them).
No ANALYZE: the studio never runs one on SQLite, and its statistics (every job "done")
would steer the in-flight queries off the status index, slower than any real store.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from PIL import Image

from bench.gallery import DISTINCT_PICTURES, SUBJECTS, fill, pictures
from studio.archive import Archive
from studio.emulator import drawing
from studio.store import Store

PNG_SIZE = (1024, 1024)
_TIME_COLUMNS = (
    "created_at",
    "updated_at",
    "submitted_at",
    "finished_at",
    "archived_at",
    "job_created_at",
)


def png_pictures(archive: Archive) -> list[Any]:
    saved = []
    for index in range(DISTINCT_PICTURES):
        drawn = drawing.draw_generated(SUBJECTS[index % len(SUBJECTS)], index, PNG_SIZE)
        # Faint colour grain: PNG cannot compress it (about 1.8 MB each, like real output),
        # while the thumbnail, smaller and lossy, smooths it away (a few kB).
        grain = Image.merge("RGB", [Image.effect_noise(drawn.size, 64) for _ in range(3)])
        photo = Image.blend(drawn.convert("RGB"), grain, 0.04)
        saved.append(archive.save(drawing.encode(photo, "png")))
    return saved


def clone(database: Path, copies: int, span: float) -> None:
    """Copy every job and image `copies - 1` times, each copy `span` seconds older."""
    engine = sa.create_engine(f"sqlite:///{database}")
    metadata = sa.MetaData()
    jobs = sa.Table("jobs", metadata, autoload_with=engine)
    images = sa.Table("images", metadata, autoload_with=engine)
    with engine.begin() as connection:
        job_rows = [dict(row._mapping) for row in connection.execute(sa.select(jobs))]
        image_rows = [dict(row._mapping) for row in connection.execute(sa.select(images))]
        for copy in range(1, copies):
            shift = span * copy
            new_ids: dict[str, str] = {}
            copied_jobs = []
            for job in job_rows:
                new_id = new_ids[job["id"]] = uuid.uuid4().hex
                copy_of_job = {**job, "id": new_id, "task_id": f"task-{new_id}"}  # both unique
                copied_jobs.append(_older(copy_of_job, shift))
            copied_images = [
                _older({**image, "job_id": new_ids[image["job_id"]]}, shift) for image in image_rows
            ]
            for image in copied_images:
                del image["id"]  # a new one, so the search trigger indexes the copy
            connection.execute(jobs.insert(), copied_jobs)
            connection.execute(images.insert(), copied_images)
    engine.dispose()


def _older(row: dict[str, Any], shift: float) -> dict[str, Any]:
    for name in _TIME_COLUMNS:
        if isinstance(row.get(name), int | float):
            row[name] -= shift
    return row


def main() -> None:
    data_dir, images, image_format = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    copies = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    store = Store(f"sqlite:///{data_dir / 'studio.db'}")
    archive = Archive(data_dir / "images")
    files = png_pictures(archive) if image_format == "png" else pictures(archive)
    fill(store, files, images)
    store.close()
    if copies > 1:
        clone(data_dir / "studio.db", copies, span=10 * images)
    print(f"seeded {data_dir}: {images * copies} {image_format} images", file=sys.stderr)


if __name__ == "__main__":
    main()
