"""A board shared for review, seeded before its server starts; a reviewer's verdict; and
where the review's screenshots are kept."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator

from studio.archive import Archive
from studio.boards.review import new_token
from studio.links import review_url_path
from studio.store import Store
from tests.app_support import image_bytes, seed_images

# FoxAPI's 9:16 and 16:9 sizes, and a small square one never drawn larger than itself.
TALL, WIDE, SMALL = (768, 1408), (1408, 768), (320, 320)
SCREENSHOTS = Path("test-artifacts") / "review-screens"


def shared_board_in(data_dir: Path, *, link: bool = True) -> tuple[int, str]:
    """A board of a tall, a wide and a small image, and (unless not `link`) a review link
    to it: (board id, the link's path or "")."""
    store = Store(f"sqlite:///{data_dir / 'studio.db'}")
    try:
        archive = Archive(data_dir / "images")
        ids = []
        for prompt, size in (
            ("a tall lighthouse", TALL),
            ("a wide harbour", WIDE),
            ("a small buoy", SMALL),
        ):
            picture = image_bytes((40, 90, 160), size=size)
            [item] = seed_images(store, archive, prompt, pictures=(picture,))
            ids.append(item.image.id)
        board_id = store.boards.create_board(None, None, "Harbour picks")
        store.boards.add_board_images(board_id, ids)
        if not link:
            return board_id, ""
        token, digest = new_token()
        store.reviews.create_review_link(
            board_id, digest, label="Acme", expires_at=None, allow_downloads=False
        )
    finally:
        store.close()
    return board_id, review_url_path(token)


def verdict(bar: Locator, option: str) -> None:
    bar.get_by_role("radio", name=option, exact=True).click()
