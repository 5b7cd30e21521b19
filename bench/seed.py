"""Seed a data folder with archived images, by the code of the version it is run in.

    PYTHONPATH=<version's folder> python bench/seed.py DATA_DIR IMAGES jpeg|png [CLONES]

Run by bench/support.py `seed` with cwd and PYTHONPATH on a version's folder, so that
`studio` and `bench.gallery` are that version's: the store gets its own migrations and
the jobs its own `fill`. JPEG pictures are bench/gallery.py's (photographic grain, tens
of kB as thumbnails); PNG pictures are large noisy drawings, about 1.7 MB each like the
issue's 200-PNG export. With CLONES > 1 the jobs and images are copied, in bulk SQL, that
many times over, each copy older than the one before, so the newest page is unchanged;
every column is copied as the version's schema has it (its search triggers index them).
"""

from __future__ import annotations

import sqlite3
import sys
import uuid
from pathlib import Path

from PIL import Image

from bench.gallery import DISTINCT_PICTURES, RATIOS, SUBJECTS, fill, pictures
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


def png_pictures(archive: Archive) -> list:
    saved = []
    for index in range(DISTINCT_PICTURES):
        drawn = drawing.draw_generated(SUBJECTS[index % len(SUBJECTS)], index, PNG_SIZE)
        grain = Image.effect_noise(drawn.size, 60).convert("RGB")
        photo = Image.blend(drawn.convert("RGB"), grain, 0.35)
        saved.append(archive.save(drawing.encode(photo, "png")))
    return saved


def clone(database: Path, copies: int, span: float) -> None:
    """Copy every job and image `copies - 1` times, each copy `span` seconds older."""
    with sqlite3.connect(database) as connection:
        job_columns = [row[1] for row in connection.execute("PRAGMA table_info(jobs)")]
        image_columns = [
            row[1] for row in connection.execute("PRAGMA table_info(images)") if row[1] != "id"
        ]
        jobs = connection.execute(f"SELECT {', '.join(job_columns)} FROM jobs").fetchall()
        images = connection.execute(
            f"SELECT {', '.join(image_columns)} FROM images"
        ).fetchall()
        job_id_at, task_id_at = job_columns.index("id"), job_columns.index("task_id")
        image_job_at = image_columns.index("job_id")
        for copy in range(1, copies):
            shift = span * copy
            new_ids: dict[str, str] = {}
            job_rows = []
            for job in jobs:
                row = list(job)
                new_ids[row[job_id_at]] = row[job_id_at] = uuid.uuid4().hex
                row[task_id_at] = f"task-bench-{row[job_id_at]}"  # unique in both schemas
                job_rows.append(_older(row, job_columns, shift))
            image_rows = []
            for image in images:
                row = list(image)
                row[image_job_at] = new_ids[row[image_job_at]]
                image_rows.append(_older(row, image_columns, shift))
            connection.executemany(
                f"INSERT INTO jobs ({', '.join(job_columns)}) "
                f"VALUES ({', '.join('?' * len(job_columns))})",
                job_rows,
            )
            connection.executemany(
                f"INSERT INTO images ({', '.join(image_columns)}) "
                f"VALUES ({', '.join('?' * len(image_columns))})",
                image_rows,
            )
        connection.execute("ANALYZE")


def _older(row: list, columns: list[str], shift: float) -> list:
    for name in _TIME_COLUMNS:
        if name in columns and isinstance(row[columns.index(name)], int | float):
            row[columns.index(name)] -= shift
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
