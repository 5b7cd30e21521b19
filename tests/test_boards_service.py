"""Boards and review links (studio.boards.service, .review): a board keeps its order and its
owner, a review link shows that board and nothing else, a closed link says why, votes
are limited per link, and a review never reaches a key, the engine or FoxAPI."""

from __future__ import annotations

import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image, ImageChops, ImageDraw

from studio import contact_sheet
from studio.archive import Archive
from studio.boards.review_store import ReviewStore
from studio.credentials import Credentials
from studio.db.schema import review_links
from studio.errors import BoardInputError, ReviewGone, ReviewRateLimited
from studio.jobs.engine import Engine
from studio.lettering import lettering
from studio.links import UrlSigner
from studio.people import Person
from studio.records import GalleryFilter, ReviewClosed
from studio.service import COMMENT_CHARS, Review, Studio, review_url_path
from studio.states import JobEvent
from studio.task import Task, TaskStatus
from tests.app_support import ALICE, BOB, SEED_OWNER, image_bytes, seed_images, seed_job
from tests.pdf_support import pdf_info, pdf_page_size, pdf_pictures, pdf_text
from tests.service_support import FakeEngine, Opened, open_door

CHANGES_PER_MINUTE = 8


@pytest.fixture
def studio(tmp_path: Path, database_at_head: str) -> Iterator[Opened]:
    opened = open_door(
        tmp_path / "data",
        database_at_head,
        foxapi_api_key="sk-unused",
        studio_review_changes_per_minute=CHANGES_PER_MINUTE,
        studio_url_secret="a-test-secret-that-signs-links",
    )
    yield opened
    opened.close()


def person(who: dict[str, object]) -> Person:
    return Person(sub=str(who["sub"]), email=str(who["email"]), name=str(who["name"]))


@pytest.fixture
def alice(studio: Opened) -> Studio:
    return studio.service.for_person(person(ALICE))


@pytest.fixture
def bob(studio: Opened) -> Studio:
    return studio.service.for_person(person(BOB))


def images_of(
    studio: Opened, who: dict[str, object], count: int, prompt: str = "a fox"
) -> list[int]:
    items = seed_images(studio.store, studio.archive, prompt, count=count, owner=who)
    return [item.image.id for item in items]


def shared(service: Studio, image_ids: list[int], **options: object) -> tuple[int, Review]:
    board = service.boards.create_board("Client picks", image_ids)
    link, token = service.boards.share_board(board.id, **options)  # type: ignore[arg-type]
    review = service.boards.open_review(token)
    assert isinstance(review, Review)
    return link.id, review


# The owner's side ------------------------------------------------------------------


def test_a_board_keeps_its_images_in_the_order_given(studio: Opened, alice: Studio) -> None:
    ids = images_of(studio, ALICE, 4)
    board = alice.boards.create_board("  Spring   campaign ", ids[:2])
    assert (board.name, board.image_count, board.cover_image_id) == ("Spring campaign", 2, ids[0])
    assert alice.boards.add_to_board(board.id, [ids[1], ids[2], ids[3]]) == 2

    def order() -> list[int]:
        return [item.image.id for item in alice.boards.board_images(board.id)]

    assert order() == ids
    alice.boards.move_in_board(board.id, ids[2], -1)
    assert order() == [ids[0], ids[2], ids[1], ids[3]]
    alice.boards.move_in_board(board.id, ids[0], -1)  # already first: stays
    alice.boards.move_in_board(board.id, ids[1], +5)  # clamps at the end
    assert order() == [ids[0], ids[2], ids[3], ids[1]]
    alice.boards.reorder_board(board.id, [ids[3], ids[2], ids[1], ids[0]])
    assert order() == ids[::-1]
    alice.boards.remove_from_board(board.id, ids[3])
    assert alice.boards.board(board.id).cover_image_id == ids[2]  # type: ignore[union-attr]
    assert alice.gallery.gallery_count(GalleryFilter(board_id=board.id)) == 3
    assert [b.id for b in alice.boards.boards_of_image(ids[0])] == [board.id]

    renamed = alice.boards.rename_board(board.id, "Summer")
    assert renamed.name == "Summer"
    alice.boards.archive_board(board.id)
    assert alice.boards.boards() == []
    assert [b.name for b in alice.boards.boards(archived=True)] == ["Summer"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
def test_a_board_needs_a_name(alice: Studio, name: str) -> None:
    with pytest.raises(BoardInputError, match="name of 1 to 120 characters"):
        alice.boards.create_board(name)


def test_someone_elses_board_is_not_there_for_them(
    studio: Opened, alice: Studio, bob: Studio
) -> None:
    ids = images_of(studio, ALICE, 2)
    board = alice.boards.create_board("Alice's", ids)
    assert bob.boards.board(board.id) is None
    assert bob.boards.boards() == []
    assert bob.boards.board_images(board.id) == []
    assert bob.boards.review_links(board.id) == []
    assert bob.gallery.gallery_count(GalleryFilter(board_id=board.id)) == 0
    assert bob.gallery.gallery(GalleryFilter(board_id=board.id), limit=10, offset=0) == []
    for attempt in (
        lambda: bob.boards.add_to_board(board.id, ids),
        lambda: bob.boards.rename_board(board.id, "Mine now"),
        lambda: bob.boards.share_board(board.id),
        lambda: bob.boards.archive_board(board.id),
        lambda: bob.boards.board_contact_sheet(board.id),
    ):
        with pytest.raises(BoardInputError, match="not yours"):
            attempt()
    link, _token = alice.boards.share_board(board.id)
    with pytest.raises(BoardInputError):
        bob.boards.revoke_link(link.id)
    assert alice.boards.review_links(board.id)[0].revoked is False


def test_sharing_gives_a_long_token_kept_only_as_its_hash(studio: Opened, alice: Studio) -> None:
    board = alice.boards.create_board("Picks", images_of(studio, ALICE, 1))
    link, token = alice.boards.share_board(board.id, label=" Acme  (Jane) ", allow_downloads=True)
    assert len(token) >= 32  # 192 random bits
    assert review_url_path(token) == f"/review?token={token}"
    assert (link.label, link.allow_downloads, link.revoked) == ("Acme (Jane)", True, False)
    assert link.expires_at == pytest.approx(time.time() + 7 * 86400, abs=60)
    forever, _ = alice.boards.share_board(board.id, expires_in_days=None)
    assert forever.expires_at is None
    with studio.store.engine.connect() as conn:
        stored = conn.execute(sa.select(review_links)).all()
    assert all(token not in str(tuple(row)) for row in stored)
    with pytest.raises(BoardInputError):
        alice.boards.share_board(board.id, expires_in_days=0)


def test_a_links_lifetime_is_the_setting_unless_the_owner_chooses(tmp_path: Path) -> None:
    opened = open_door(tmp_path / "data", studio_review_link_days=14)
    try:
        service = opened.service
        assert service.boards.review_link_days == 14
        board = service.boards.create_board("Picks")
        link, _token = service.boards.share_board(board.id)
        assert link.expires_at == pytest.approx(time.time() + 14 * 86400, abs=60)
        chosen, _token = service.boards.share_board(board.id, expires_in_days=2)
        assert chosen.expires_at == pytest.approx(time.time() + 2 * 86400, abs=60)
    finally:
        opened.close()


# The review side -------------------------------------------------------------------


def test_a_reviewer_sees_the_board_and_the_owner_sees_their_votes(
    studio: Opened, alice: Studio
) -> None:
    ids = images_of(studio, ALICE, 3, prompt="a lighthouse at dusk")
    _link_id, review = shared(alice, ids, label="Acme")
    assert review.board_name == "Client picks"
    assert [(image.image_id, image.position) for image in review.images()] == [
        (ids[0], 0),
        (ids[1], 1),
        (ids[2], 2),
    ]
    assert review.images()[0].prompt == "a lighthouse at dusk"
    marker = alice.boards.review_activity_marker(alice.boards.boards()[0].id)

    review.vote("Jane", ids[0], "approve")
    review.vote("  Jane ", ids[1], "approve")
    review.vote("Jane", ids[1], "changes")  # changed her mind
    review.comment("Jane", ids[1], "  Warmer light, please  ")
    review.vote("<b>Sam</b>", ids[0], "approve")  # kept as the text it is

    board_id = alice.boards.boards()[0].id
    assert alice.boards.review_activity_marker(board_id) != marker
    verdicts = alice.boards.verdicts(ids)
    assert (verdicts[ids[0]].approvals, verdicts[ids[0]].changes) == (2, 0)
    assert (verdicts[ids[1]].approvals, verdicts[ids[1]].changes) == (0, 1)
    assert [(n.reviewer, n.comment, n.link_label) for n in verdicts[ids[1]].notes] == [
        ("Jane", "Warmer light, please", "Acme")
    ]
    assert {n.reviewer for n in verdicts[ids[0]].notes} == {"Jane", "<b>Sam</b>"}
    assert verdicts[ids[2]].notes == ()
    assert set(review.my_notes("Jane")) == {ids[0], ids[1]}
    sorted_ids = [item.image.id for item in alice.boards.board_images(board_id, sort="approvals")]
    assert sorted_ids == [ids[0], ids[2], ids[1]]
    assert alice.boards.review_links(board_id)[0].reviewer_count == 2


def test_a_review_reaches_no_other_boards_images(
    studio: Opened, alice: Studio, bob: Studio
) -> None:
    ids = images_of(studio, ALICE, 2)
    others = images_of(studio, BOB, 1) + images_of(studio, ALICE, 1)  # on no board of this link
    bob.boards.create_board("Bob's", others[:1])
    _link_id, review = shared(alice, ids)
    for image_id in [*others, 999_999]:
        assert review.image_bytes(image_id, "original") is None
        assert review.image_bytes(image_id, "thumb") is None
        assert review.image_link(image_id, "thumb") is None
        with pytest.raises(BoardInputError, match="not part of this review"):
            review.vote("Jane", image_id, "approve")
        with pytest.raises(BoardInputError, match="not part of this review"):
            review.comment("Jane", image_id, "sneaky")
    assert bob.boards.verdicts(others[:1])[others[0]].notes == ()
    assert review.image_bytes(ids[0], "original") == alice.gallery.original(
        alice.gallery.image(ids[0]).image  # type: ignore[union-attr]
    )


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda token: token[:-1], "unknown"),
        (lambda token: token[:16], "unknown"),
        (lambda token: token + "A", "unknown"),
        (lambda token: "", "unknown"),
        (lambda token: token.swapcase(), "unknown"),
        (lambda token: "../" + token, "unknown"),
    ],
)
def test_a_changed_token_opens_nothing(
    studio: Opened, alice: Studio, mangle: object, reason: str
) -> None:
    board = alice.boards.create_board("Picks", images_of(studio, ALICE, 1))
    _link, token = alice.boards.share_board(board.id)
    closed = alice.boards.open_review(mangle(token))  # type: ignore[operator]
    assert closed == ReviewClosed(
        "unknown", "This review link is not valid. Check that you copied all of it."
    )


def test_a_revoked_link_closes_at_once_even_for_an_open_review(
    studio: Opened, alice: Studio
) -> None:
    ids = images_of(studio, ALICE, 1)
    link_id, review = shared(alice, ids)
    alice.boards.revoke_link(link_id)
    for call in (
        review.images,
        lambda: review.image_bytes(ids[0], "thumb"),
        lambda: review.image_link(ids[0], "thumb"),
        lambda: review.my_notes("Jane"),
        lambda: review.vote("Jane", ids[0], "approve"),
        lambda: review.comment("Jane", ids[0], "hello"),
    ):
        with pytest.raises(ReviewGone) as gone:
            call()
        assert gone.value.closed.reason == "revoked"
        assert gone.value.closed.message == "This review link was revoked by its owner."
    assert alice.boards.verdicts(ids)[ids[0]].notes == ()


def test_an_expired_link_says_on_which_day(studio: Opened, alice: Studio) -> None:
    board = alice.boards.create_board("Picks", images_of(studio, ALICE, 1))
    link, token = alice.boards.share_board(board.id, expires_in_days=3)
    expired_at = time.mktime((2025, 12, 9, 12, 0, 0, 0, 0, -1))
    with studio.store.engine.begin() as conn:
        conn.execute(
            review_links.update().where(review_links.c.id == link.id).values(expires_at=expired_at)
        )
    closed = alice.boards.open_review(token)
    assert closed == ReviewClosed("expired", "This review link expired on 9 December 2025.")


def test_votes_are_limited_per_link_and_said_plainly(studio: Opened, alice: Studio) -> None:
    ids = images_of(studio, ALICE, 1)
    _link_id, review = shared(alice, ids)
    _other_id, other = shared(alice, ids)
    for turn in range(CHANGES_PER_MINUTE):
        review.vote(f"reviewer {turn}", ids[0], "approve")
    with pytest.raises(ReviewRateLimited, match="Wait a minute"):
        review.vote("one more", ids[0], "approve")
    with pytest.raises(ReviewRateLimited):
        review.comment("reviewer 0", ids[0], "and another thing")
    other.vote("elsewhere", ids[0], "changes")  # another link keeps its own count
    assert alice.boards.verdicts(ids)[ids[0]].approvals == CHANGES_PER_MINUTE


@pytest.mark.parametrize("name", ["", "   ", "\n\t", "x" * 61])
def test_a_reviewer_gives_a_name(studio: Opened, alice: Studio, name: str) -> None:
    ids = images_of(studio, ALICE, 1)
    _link_id, review = shared(alice, ids)
    with pytest.raises(BoardInputError, match="Give your name"):
        review.vote(name, ids[0], "approve")


def test_a_comment_has_a_length_limit_and_a_vote_its_two_kinds(
    studio: Opened, alice: Studio
) -> None:
    ids = images_of(studio, ALICE, 1)
    _link_id, review = shared(alice, ids)
    with pytest.raises(BoardInputError, match=f"at most {COMMENT_CHARS} characters"):
        review.comment("Jane", ids[0], "x" * (COMMENT_CHARS + 1))
    with pytest.raises(BoardInputError, match="Approve or Needs changes"):
        review.vote("Jane", ids[0], "maybe")  # type: ignore[arg-type]
    review.comment("Ja\u202ene\x00", ids[0], " First line\r\nsecond\x07 line\u202e ")
    note = review.my_notes("Jane")[ids[0]]
    assert (note.reviewer, note.comment) == ("Jane", "First line\nsecond line")
    review.comment("Jane", ids[0], "x" * COMMENT_CHARS)
    review.vote("Jane", ids[0], "approve")
    review.vote("Jane", ids[0], None)  # taken back: the comment stays
    note = review.my_notes("Jane")[ids[0]]
    assert (note.vote, len(note.comment)) == (None, COMMENT_CHARS)


class Untouchable:
    """Stands in for the engine and the keys: any use of it fails the test."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"a review touched {name}")


def test_a_review_can_never_spend(
    studio: Opened, alice: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = images_of(studio, ALICE, 2)
    board = alice.boards.create_board("Picks", ids)
    _link, token = alice.boards.share_board(board.id, allow_downloads=True)
    signed_out = studio.service.for_person(Person(sub=None, email=None, name=None))
    monkeypatch.setattr(signed_out.jobs, "_engine", Untouchable())
    monkeypatch.setattr(signed_out.jobs, "server_credentials", Untouchable())
    monkeypatch.setattr(signed_out.jobs, "_keys", Untouchable())

    review = signed_out.boards.open_review(token)
    assert isinstance(review, Review)
    # It holds the store, the archive and the signer: nothing that could send or spend.
    kinds = {type(value) for value in vars(review).values()}
    allowed = {ReviewStore, Archive, UrlSigner, str, int, bool, float, type(None), type(time.time)}
    assert kinds <= allowed
    assert not kinds & {Engine, FakeEngine, Credentials, Studio}
    review.images()
    review.image_bytes(ids[0], "original")
    assert review.image_link(ids[0], "download") is not None
    review.vote("Jane", ids[0], "approve")
    review.comment("Jane", ids[1], "lovely")
    review.my_notes("Jane")


# Contact sheets -----------------------------------------------------------

SHEET_PROMPTS = [
    ("a red fox at dawn", "16:9"),
    ("a lighthouse in fog", "1:1"),
    ("雪の中の赤い狐", "9:16"),
    ("a copper kettle", "4:3"),
    ("an owl reading a map", "3:4"),
    ("a paper boat", "2:1"),
]


def seed_at_ratio(studio: Opened, prompt: str, ratio: str) -> int:
    """An archived image of Alice's whose picture has the shape `ratio` says."""
    job = seed_job(studio.store, prompt, owner=ALICE, aspect_ratio=ratio)
    task = Task(job.task_id or "", TaskStatus.COMPLETED, 100, result_urls=("https://x.invalid/1",))
    studio.store.jobs.record_results(job.id, task, owner=SEED_OWNER)
    [image] = studio.store.work.pending_images(job.id)
    wide, high = (float(part) for part in ratio.split(":"))
    size = (round(480 * min(1, wide / high)), round(480 * min(1, high / wide)))
    studio.store.work.archive_image(image.id, studio.archive.save(image_bytes((40, 90, 160), size)))
    studio.store.jobs.finish_job(job.id, JobEvent.SAVED, owner=SEED_OWNER)
    return image.id


def sheet_board(studio: Opened, alice: Studio) -> tuple[int, list[int]]:
    """A reviewed board of six images at six ratios, one prompt in Japanese."""
    ids = [seed_at_ratio(studio, prompt, ratio) for prompt, ratio in SHEET_PROMPTS]
    board = alice.boards.create_board("Spring campaign", ids)
    _link, token = alice.boards.share_board(board.id)
    review = alice.boards.open_review(token)
    assert isinstance(review, Review)
    review.vote("Jane", ids[1], "approve")
    review.vote("Sam", ids[1], "approve")
    review.vote("Lee", ids[1], "changes")
    review.comment("Lee", ids[1], "Warmer light, please")
    return board.id, ids


def written(
    text: str, size: int, fill: tuple[int, int, int], width: int, height: int
) -> Image.Image:
    """`text` drawn alone as the sheet draws it, to compare with the sheet's pixels."""
    canvas = Image.new("RGB", (width, height), contact_sheet.BACKGROUND)
    lettering(size).draw(ImageDraw.Draw(canvas), (0, 0), text, fill)
    return canvas


def test_a_boards_contact_sheet_shows_every_caption_and_the_votes(
    studio: Opened, alice: Studio
) -> None:
    board_id, _ids = sheet_board(studio, alice)
    sheet = Image.open(BytesIO(alice.boards.board_contact_sheet(board_id, "png"))).convert("RGB")
    columns = 3
    for index, (prompt, ratio) in enumerate(SHEET_PROMPTS):
        x, y = contact_sheet.cell_origin(index, columns, contact_sheet.COMMENT_LINES)
        top = y + contact_sheet.CELL + 8
        caption = sheet.crop((x, top, x + contact_sheet.CELL, top + contact_sheet.LINE))
        expected = written(
            f"{index + 1}. {prompt}",
            contact_sheet.TEXT_SIZE,
            contact_sheet.INK,
            contact_sheet.CELL,
            contact_sheet.LINE,
        )
        assert ImageChops.difference(caption, expected).getbbox() is None, prompt
        cell = sheet.crop((x, y, x + contact_sheet.CELL, y + contact_sheet.CELL))
        box = ImageChops.difference(cell, Image.new("RGB", cell.size, contact_sheet.BACKGROUND))
        left, upper, right, lower = box.getbbox() or (0, 0, 0, 0)
        wide, high = (float(part) for part in ratio.split(":"))
        assert (right - left) / (lower - upper) == pytest.approx(wide / high, rel=0.03), ratio
        detail = f"{ratio} · PNG" + (" · 2 approvals, 1 needs changes" if index == 1 else "")
        detail_top = top + contact_sheet.CAPTION_LINES * contact_sheet.LINE
        shown = sheet.crop(
            (x, detail_top, x + contact_sheet.CELL, detail_top + contact_sheet.DETAIL_SIZE + 6)
        )
        expected_detail = written(
            detail,
            contact_sheet.DETAIL_SIZE,
            contact_sheet.QUIET,
            contact_sheet.CELL,
            contact_sheet.DETAIL_SIZE + 6,
        )
        assert ImageChops.difference(shown, expected_detail).getbbox() is None, detail
        comment_top = detail_top + contact_sheet.DETAIL_LINE
        said = sheet.crop(
            (x, comment_top, x + contact_sheet.CELL, comment_top + contact_sheet.DETAIL_LINE)
        )
        expected_comment = written(
            "Lee: “Warmer light, please”" if index == 1 else "",
            contact_sheet.DETAIL_SIZE,
            contact_sheet.QUIET,
            contact_sheet.CELL,
            contact_sheet.DETAIL_LINE,
        )
        assert ImageChops.difference(said, expected_comment).getbbox() is None, index
    title = sheet.crop((0, 0, sheet.width, contact_sheet.MARGIN * 2 + contact_sheet.TITLE_SIZE))
    assert ImageChops.difference(
        title, Image.new("RGB", title.size, contact_sheet.BACKGROUND)
    ).getbbox()


@pytest.mark.parametrize(("paper", "size"), [("A4", (595.28, 841.89)), ("Letter", (612, 792))])
def test_a_boards_contact_sheet_pdf_is_a_document_with_its_text_and_pictures(
    studio: Opened, alice: Studio, tmp_path: Path, paper: str, size: tuple[float, float]
) -> None:
    board_id, _ids = sheet_board(studio, alice)
    alice.boards.settings = alice.boards.settings.model_copy(update={"studio_paper": paper})
    path = tmp_path / "sheet.pdf"

    path.write_bytes(alice.boards.board_contact_sheet(board_id, "pdf"))

    info = pdf_info(path)
    assert info["Title"] == "Spring campaign"
    assert sorted(pdf_page_size(info)) == pytest.approx(sorted(size), abs=0.01)
    text = pdf_text(path)
    for index, (prompt, ratio) in enumerate(SHEET_PROMPTS, 1):
        assert f"{index}. {prompt}" in text, prompt
        assert f"{ratio} · PNG" in text
    assert "2 approvals, 1 needs changes" in text
    assert "Lee: “Warmer light, please”" in text
    pictures = pdf_pictures(path)
    assert len(pictures) == len(SHEET_PROMPTS)
    # Printed from the originals (480 px), not the 512 px thumbnails' grid of the PNG:
    # every picture keeps at least 150 pixels per printed inch, and none exceeds 300.
    assert all(150 <= ppi <= 301 for ppi in pictures), pictures


def test_a_gallery_selection_and_an_empty_board_make_sheets_too(
    studio: Opened, alice: Studio
) -> None:
    first, second = images_of(studio, ALICE, 2, prompt="a kite")
    sheet = Image.open(BytesIO(alice.boards.selection_contact_sheet([second, first])))
    expected = contact_sheet.build(
        "2 images from the gallery",
        [
            contact_sheet.SheetItem(alice.gallery.thumbnail(item.image), "a kite", "1:1 · PNG")
            for item in alice.gallery.images([second, first])
        ],
        columns=2,
    )
    assert ImageChops.difference(sheet, Image.open(BytesIO(expected))).getbbox() is None
    empty = alice.boards.create_board("Nothing yet")
    assert alice.boards.board_contact_sheet(empty.id, "pdf").startswith(b"%PDF-")
