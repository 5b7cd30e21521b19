"""A gallery seeded before its server starts: jobs of tall and wide pictures to click."""

from __future__ import annotations

from pathlib import Path

from studio.archive import Archive
from studio.store import Store
from tests.app_support import image_bytes, seed_images
from tests.browser.support import StudioServer, StudioServers

TALL, WIDE = (72, 128), (128, 72)  # 9:16 and 16:9 pictures, as FoxAPI makes them


def seeded_gallery(studio_servers: StudioServers, tmp_path: Path, jobs: int = 10) -> StudioServer:
    """A server whose gallery holds `jobs` jobs of three pictures each, tall and wide."""
    data_dir = tmp_path / "data"
    store = Store(f"sqlite:///{data_dir / 'studio.db'}")
    try:
        for number in range(jobs):
            size = TALL if number % 2 else WIDE
            pictures = tuple(
                image_bytes((40 + 20 * number, 90 + 10 * index, 120), size=size)
                for index in range(3)
            )
            seed_images(
                store, Archive(data_dir / "images"), f"lantern {number}", count=3, pictures=pictures
            )
    finally:
        store.close()
    return studio_servers.start(data_dir)
