"""components.media: archived thumbnails, sent to the browser as they are stored."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.runtime import Runtime
from tests.app_support import GALLERY, gallery_tiles, open_app, open_app_studio, seed_images


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    yield from open_app_studio(tmp_path, monkeypatch)


def test_a_thumbnail_reaches_the_browser_as_the_archived_webp_itself(studio: Runtime) -> None:
    [item] = seed_images(studio.store, studio.archive, "a lighthouse at dusk")

    app = open_app(GALLERY)

    [tile] = gallery_tiles(app)
    header, _, payload = tile["url"].partition(",")
    assert header == "data:image/webp;base64"
    assert item.image.thumb_path is not None
    # Not decoded and re-encoded as JPEG on every rerun: the very bytes the archive keeps.
    assert base64.b64decode(payload) == studio.archive.read(item.image.thumb_path)


def test_a_thumbnail_missing_from_the_archive_is_named_and_its_tile_still_shows(
    studio: Runtime,
) -> None:
    [item] = seed_images(studio.store, studio.archive, "a lighthouse at dusk")
    assert item.image.thumb_path is not None
    studio.archive.path(item.image.thumb_path).unlink()

    app = open_app(GALLERY)

    # The browser says the thumbnail is missing, in the tile that still opens the image.
    [tile] = gallery_tiles(app)
    assert tile["url"] is None
    assert (tile["id"], tile["prompt"]) == (item.image.id, "a lighthouse at dusk")
