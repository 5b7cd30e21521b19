"""Gallery page 1 and a prompt search at 1,000 and at 100,000 images, on SQLite and PostgreSQL.

Run from the project root (PostgreSQL is a throwaway cluster, as in the tests):

    python -m bench.store [--sizes 1000 100000] [--repeat 30] [--only sqlite|postgresql]

Each database is filled in bulk with jobs of two archived images each (prompts drawn from
a vocabulary, seeded). Ten of the jobs, whatever the size, are about "a lighthouse keeper":
the rare search, which finds 20 images at every size. "fox" is in one prompt in twenty:
the common search, whose matches grow with the gallery.

Timed, as the gallery asks the store, median of `--repeat` runs after a warm-up:
- page 1: the first 24 tiles, newest first; then the count the page shows above them;
- search: page 1 of a search, and its count.

Targets: at 100,000 images, page 1 within 1.2x and the rare search within 1.5x of the
times at 1,000. Counts read every match, so they grow with the gallery (and are said so).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from studio.db.schema import images, jobs
from studio.records import GalleryFilter
from studio.request import GenerationRequest
from studio.states import ImageStatus, JobStatus
from studio.store import Store
from tests.pg_support import PostgresCluster, start_cluster

PAGE = 24
RARE = "lighthouse keeper"
COMMON = "fox"
NEEDLES = 10  # jobs about the rare subject, at every size
TARGETS = {"page 1": 1.2, f"search '{RARE}'": 1.5}
SUBJECTS = ("owl", "cat", "whale", "robot", "teapot", "castle", "bicycle", "dragon", "garden")
STYLES = ("watercolor", "oil paint", "pencil sketch", "photograph", "pixel art", "ink")
PLACES = ("in the snow", "at dawn", "under the sea", "on the moon", "in a forest", "in Paris")
BATCH = 5_000


def fill(store: Store, count: int, seed: int = 7) -> None:
    """`count` archived images (two per job), newest job first in the gallery."""
    rng = random.Random(seed)
    now = time.time()
    job_count = count // 2
    needles = set(rng.sample(range(job_count), NEEDLES))
    template = GenerationRequest.build(prompt="x", num_outputs=2).to_json()
    for start in range(0, job_count, BATCH):
        job_rows, image_rows = [], []
        for number in range(start, min(start + BATCH, job_count)):
            if number in needles:
                prompt = f"A {RARE} reading by a {rng.choice(STYLES)} lamp"
            else:
                subject = COMMON if rng.random() < 0.05 else rng.choice(SUBJECTS)
                prompt = f"A {subject} {rng.choice(PLACES)}, {rng.choice(STYLES)}"
            job_id = f"{number:032x}"
            created = now - number
            job_rows.append(
                {
                    "id": job_id,
                    "created_at": created,
                    "updated_at": created,
                    "mode": "generate",
                    "prompt": prompt,
                    "request_json": template,
                    "num_outputs": 2,
                    "backend": "foxapi",
                    "key_id": "bench",
                    "status": JobStatus.DONE.value,
                    "progress": 100,
                }
            )
            for position in range(2):
                digest = f"{number:062x}{position:02x}"
                image_rows.append(
                    {
                        "job_id": job_id,
                        "position": position,
                        "status": ImageStatus.ARCHIVED.value,
                        "source_url": f"https://cdn.test/{job_id}/{position}.png",
                        "created_at": created,
                        "archived_at": created,
                        "file_path": f"originals/{digest}.png",
                        "thumb_path": f"thumbs/{digest}.webp",
                        "sha256": digest,
                        "width": 1024,
                        "height": 1024,
                        "format": "png",
                        "size_bytes": 1_000_000,
                        # The release before 0010 kept a favourite flag on each image.
                        **({"favourite": False} if "favourite" in images.c else {}),
                        "job_created_at": created,
                    }
                )
        with store.engine.begin() as conn:
            conn.execute(jobs.insert(), job_rows)
            conn.execute(images.insert(), image_rows)
    with store.engine.connect() as conn:
        # What autovacuum does on a live server: statistics, and the visibility map that
        # lets a count read the index alone.
        if store.engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")


def operations(store: Store) -> dict[str, Callable[[], object]]:
    everything, rare, common = GalleryFilter(), GalleryFilter(RARE), GalleryFilter(COMMON)
    assert len(store.gallery.gallery(rare, limit=PAGE, offset=0)) == 2 * NEEDLES
    return {
        "page 1": lambda: store.gallery.gallery(everything, limit=PAGE, offset=0),
        "page 1 count": lambda: store.gallery.gallery_count(everything),
        f"search '{RARE}'": lambda: store.gallery.gallery(rare, limit=PAGE, offset=0),
        f"search '{RARE}' count": lambda: store.gallery.gallery_count(rare),
        f"search '{COMMON}'": lambda: store.gallery.gallery(common, limit=PAGE, offset=0),
        f"search '{COMMON}' count": lambda: store.gallery.gallery_count(common),
    }


def timed(actions: list[Callable[[], object]], repeat: int) -> list[float]:
    """Median milliseconds of each action over `repeat` runs, after two warm-up runs.

    The actions take turns run by run, so a neighbour loading the machine for a moment
    slows each of them alike instead of one size's figures.
    """
    for action in actions * 2:
        action()
    samples: list[list[float]] = [[] for _ in actions]
    for _ in range(repeat):
        for action, kept in zip(actions, samples, strict=True):
            began = time.perf_counter()
            action()
            kept.append((time.perf_counter() - began) * 1000)
    return [statistics.median(kept) for kept in samples]


@contextmanager
def database(kind: str, cluster: PostgresCluster | None) -> Iterator[Store]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-store-") as folder:
            store = Store(f"sqlite:///{Path(folder) / 'studio.db'}")
            yield store
            store.close()
        return
    assert cluster is not None
    url = cluster.create_database()
    store = Store(url)
    try:
        yield store
    finally:
        store.close()
        cluster.drop_database(url)


def run(kind: str, sizes: list[int], repeat: int, cluster: PostgresCluster | None) -> bool:
    small, large = sizes
    with database(kind, cluster) as small_store, database(kind, cluster) as large_store:
        for size, store in ((small, small_store), (large, large_store)):
            began = time.perf_counter()
            fill(store, size)
            print(f"{kind}: {size:,} images written in {time.perf_counter() - began:.1f} s")
        small_operations, large_operations = operations(small_store), operations(large_store)
        results = {
            name: timed([small_operations[name], large_operations[name]], repeat)
            for name in small_operations
        }
    print(f"\n{kind + ': median ms':<34} {small:>9,}  {large:>10,}   ratio  target")
    met = True
    for name, (small_ms, large_ms) in results.items():
        ratio = large_ms / small_ms
        target = TARGETS.get(name)
        verdict = "" if target is None else ("  met" if ratio <= target else "  MISSED")
        met = met and (target is None or ratio <= target)
        limit = f"{target:.1f}x" if target else "-"
        figures = f"{small_ms:>9.2f}  {large_ms:>10.2f}  {ratio:>6.2f}x  {limit:>5}{verdict}"
        print(f"  {name:<32} {figures}")
    print()
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[1_000, 100_000])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    kinds = [args.only] if args.only else ["sqlite", "postgresql"]
    met = True
    cluster = start_cluster() if "postgresql" in kinds else None
    try:
        for kind in kinds:
            met = run(kind, args.sizes, args.repeat, cluster) and met
    finally:
        if cluster is not None:
            cluster.destroy()
    print("Every target met." if met else "Some targets were missed (see above).")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
