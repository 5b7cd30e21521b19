"""Boards and reviews on a busy studio: what a live board, a review page and a vote cost.

Run from the project root (PostgreSQL is a throwaway cluster, as in the tests):

    python -m bench.boards [--images 20000] [--repeat 30] [--only sqlite|postgresql]

Each database gets `--images` archived images (bench.store's fill), a board of 200 of
them shared by 5 review links, and 40 reviewers per link who each voted on every image
of the board (40,000 notes; one in four with a comment), and 20 other boards of 50.

Timed, as the pages ask the store, median of `--repeat` runs after a warm-up:
- live marker: what a board's refresh tick reads to learn whether votes changed;
- verdicts 24: the votes and comments of a gallery page of 24 of the board's images;
- board 200: the board's images with their jobs, in order;
- review page: the images a review link shows, read through its token;
- vote: one reviewer's vote through the link (limit and note, one transaction);
- gallery by board: page 1 of the gallery filtered by the board, and its count.
"""

from __future__ import annotations

import argparse
import sys
import time

import sqlalchemy as sa

from bench.store import PAGE, database, fill, timed
from studio.db.schema import images, review_notes
from studio.records import GalleryFilter
from studio.store import Store
from tests.pg_support import PostgresCluster, start_cluster

BOARD, LINKS, REVIEWERS, OTHER_BOARDS, OTHER_SIZE = 200, 5, 40, 20, 50


def boards(store: Store) -> tuple[int, str, list[int]]:
    """The busy board, one of its link's token hashes, and its image ids."""
    with store.engine.connect() as conn:
        every = list(conn.execute(sa.select(images.c.id).order_by(images.c.id)).scalars())
    # Spread over the whole gallery, newest to oldest, as a board gathered over months is.
    ids = every[:: len(every) // BOARD][:BOARD]
    spare = every[1 : 1 + OTHER_BOARDS * OTHER_SIZE]
    board_id = store.boards.create_board("bench", "bench@example.org", "Busy board")
    store.boards.add_board_images(board_id, ids)
    for number in range(OTHER_BOARDS):
        other = store.boards.create_board("bench", None, f"Board {number}")
        store.boards.add_board_images(other, spare[number * OTHER_SIZE : (number + 1) * OTHER_SIZE])
    now = time.time()
    for link in range(LINKS):
        link_id = store.reviews.create_review_link(
            board_id, f"{link:064x}", label=f"Client {link}", expires_at=None, allow_downloads=False
        )
        rows = [
            {
                "link_id": link_id,
                "reviewer": f"Reviewer {reviewer}",
                "image_id": image_id,
                "vote": "approve" if (reviewer + image_id) % 3 else "changes",
                "comment": "Warmer, please" if reviewer % 4 == 0 else "",
                "updated_at": now - reviewer,
            }
            for reviewer in range(REVIEWERS)
            for image_id in ids
        ]
        with store.engine.begin() as conn:
            conn.execute(review_notes.insert(), rows)
    return board_id, f"{0:064x}", ids


def run(kind: str, size: int, repeat: int, cluster: PostgresCluster | None) -> None:
    with database(kind, cluster) as store:
        began = time.perf_counter()
        fill(store, size)
        board_id, token_sha256, ids = boards(store)
        print(
            f"{kind}: {size:,} images and the boards written in {time.perf_counter() - began:.1f} s"
        )
        on_board = GalleryFilter(board_id=board_id)
        votes = iter(range(10**9))
        operations = {
            "live marker": lambda: store.reviews.review_activity(board_id),
            "verdicts 24": lambda: store.reviews.notes_on(ids[:PAGE], "bench"),
            f"board {BOARD}": lambda: store.boards.board_items(board_id),
            "review page": lambda: store.reviews.review_images(token_sha256, time.time()),
            "vote": lambda: store.reviews.review_change(
                token_sha256,
                time.time(),
                reviewer=f"Voter {next(votes)}",
                image_id=ids[0],
                changes={"vote": "approve"},
                per_minute=10**9,
            ),
            "gallery by board": lambda: store.gallery.gallery(on_board, limit=PAGE, offset=0),
            "gallery by board count": lambda: (
                store.gallery._counts.clear() or store.gallery.gallery_count(on_board)
            ),
        }
        results = timed(list(operations.values()), repeat)
    print(f"\n{kind + ': median ms':<34}")
    for name, milliseconds in zip(operations, results, strict=True):
        print(f"  {name:<32} {milliseconds:>9.2f}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    kinds = [args.only] if args.only else ["sqlite", "postgresql"]
    cluster = start_cluster() if "postgresql" in kinds else None
    try:
        for kind in kinds:
            run(kind, args.images, args.repeat, cluster)
    finally:
        if cluster is not None:
            cluster.destroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
