"""Boards and review links through the jobs service, against a real emulator and database:
a board keeps its order, a review link shows that board and nothing else, and a review
can never spend."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.emulator import RunningEmulator
from studio.errors import BoardInputError, ReviewGone
from studio.jobs import JobService, Review
from studio.records import GalleryFilter, ReviewClosed
from studio.runtime import Studio, open_studio
from studio.settings import Settings
from tests.conftest import EMULATOR_KEY


@pytest.fixture
def studio(tmp_path: Path, emulator: RunningEmulator) -> Iterator[Studio]:
    settings = Settings(
        foxapi_api_key=EMULATOR_KEY,
        foxapi_base_url=emulator.base_url,
        studio_data_dir=tmp_path / "data",
        studio_review_changes_per_minute=5,
    )
    opened = open_studio(settings)
    yield opened
    opened.close()


@pytest.fixture
def service(studio: Studio) -> JobService:
    return studio.jobs


def make_images(service: JobService, count: int, prompt: str = "a red fox") -> list[int]:
    submission = service.generation(
        prompt=prompt, num_outputs=count, aspect_ratio="1:1", output_format="png"
    )
    job = service.send(submission, service.server_credentials)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        current = service.job(job.id)
        if current is not None and not current.in_flight:
            return [image.id for image in service.saved_images(job.id)]
        time.sleep(0.05)
    raise AssertionError("the job did not finish")


def test_a_board_keeps_its_images_in_the_order_given(service: JobService) -> None:
    ids = make_images(service, 3)
    board = service.create_board("  Spring   campaign ", ids[:2])
    assert board.name == "Spring campaign"
    assert board.image_count == 2
    assert board.cover_image_id == ids[0]
    assert service.add_to_board(board.id, [ids[1], ids[2]]) == 1
    assert [item.image.id for item in service.board_images(board.id)] == ids

    service.move_in_board(board.id, ids[2], -1)
    assert [item.image.id for item in service.board_images(board.id)] == [ids[0], ids[2], ids[1]]
    service.reorder_board(board.id, [ids[1], ids[0], ids[2]])
    assert [item.image.id for item in service.board_images(board.id)] == [ids[1], ids[0], ids[2]]
    service.remove_from_board(board.id, ids[0])
    assert service.board(board.id).cover_image_id == ids[1]  # type: ignore[union-attr]
    assert service.gallery_count(GalleryFilter(board_id=board.id)) == 2


def test_a_review_link_shows_its_board_and_takes_votes(service: JobService) -> None:
    ids = make_images(service, 3)
    board = service.create_board("Client picks", ids[:2])
    link, token = service.share_board(board.id, label="Acme (Jane)")
    review = service.open_review(token)
    assert isinstance(review, Review)
    assert [image.image_id for image in review.images()] == ids[:2]
    review.vote("Jane", ids[0], "approve")
    review.vote("Jane", ids[1], "changes")
    review.comment("Jane", ids[1], "  Warmer light, please  ")
    verdicts = service.verdicts(ids)
    assert verdicts[ids[0]].approvals == 1
    assert verdicts[ids[1]].changes == 1
    assert verdicts[ids[1]].notes[0].comment == "Warmer light, please"
    with pytest.raises(BoardInputError):
        review.vote("Jane", ids[2], "approve")  # not on this board
    service.revoke_link(link.id)
    with pytest.raises(ReviewGone):
        review.images()
    closed = service.open_review(token)
    assert isinstance(closed, ReviewClosed)
    assert closed.reason == "revoked"
