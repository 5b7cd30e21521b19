"""The studio's door (studio.service) against a real emulator: a request checked once,
sent once, read back in full, and each person seeing only what they may."""

from __future__ import annotations

import io
import threading
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from studio.credentials import Backend, Credentials
from studio.db.schema import input_assets
from studio.emulator import RunningEmulator
from studio.errors import FoxAPIError, InvalidImage, Unauthorized
from studio.people import NotAllowed, Person, SpendLimitReached
from studio.records import GalleryFilter, GalleryItem, InputAsset, JobRecord
from studio.request import InvalidRequest
from studio.runtime import Studio, open_studio
from studio.service import EditInput, Lineage
from studio.service import Studio as StudioDoor
from studio.settings import Settings
from studio.states import JobEvent, JobStatus
from tests.conftest import EMULATOR_KEY, posts

UPLOADS = "/v1/files/upload/stream"


@pytest.fixture
def studio(tmp_path: Path, emulator: RunningEmulator) -> Iterator[Studio]:
    settings = Settings(
        foxapi_api_key=EMULATOR_KEY,
        foxapi_base_url=emulator.base_url,
        studio_data_dir=tmp_path / "data",
        studio_max_prompt_chars=40,
    )
    opened = open_studio(settings)
    yield opened
    opened.close()


@pytest.fixture
def service(studio: Studio) -> StudioDoor:
    return studio.service


def png(colour: str = "orange", size: tuple[int, int] = (80, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def wait_for(service: StudioDoor, job_id: str, timeout: float = 15.0) -> JobRecord:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = service.jobs.job(job_id)
        if job is not None and not job.in_flight:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still in flight after {timeout} s")


def test_a_generation_is_sent_once_and_its_images_join_the_gallery(
    service: StudioDoor, emulator: RunningEmulator
) -> None:
    submission = service.jobs.generation(
        prompt="a red fox", num_outputs=2, aspect_ratio="16:9", output_format="png"
    )
    job = service.jobs.send(submission, service.jobs.server_credentials)

    assert wait_for(service, job.id).status is JobStatus.DONE
    assert len(posts(emulator)) == 1
    assert [image.position for image in service.gallery.saved_images(job.id)] == [0, 1]
    gallery = service.gallery.gallery(GalleryFilter(search="fox"), limit=10, offset=0)
    assert [item.job.id for item in gallery] == [job.id, job.id]
    assert service.gallery.gallery_count(GalleryFilter()) == 2


def test_the_prompt_limit_is_the_setting(service: StudioDoor) -> None:
    with pytest.raises(InvalidRequest) as refused:
        service.jobs.generation(
            prompt="x" * 41, num_outputs=1, aspect_ratio=None, output_format=None
        )
    assert refused.value.field == "prompt"
    assert "limit is 40" in refused.value.message


def test_an_edit_is_checked_before_anything_is_uploaded(
    service: StudioDoor, emulator: RunningEmulator
) -> None:
    upload = service.gallery.upload_input(png(), "photo.png")
    with pytest.raises(InvalidRequest) as no_inputs:
        service.jobs.edit(prompt="make it night", num_outputs=1, output_format=None, inputs=[])
    assert no_inputs.value.field == "image_urls"
    with pytest.raises(InvalidRequest) as too_long:
        service.jobs.edit(prompt="y" * 41, num_outputs=1, output_format=None, inputs=[upload])
    assert too_long.value.field == "prompt"
    with pytest.raises(InvalidRequest) as too_many:
        service.jobs.edit(
            prompt="make it night", num_outputs=1, output_format=None, inputs=[upload] * 4
        )
    assert too_many.value.field == "image_urls"
    assert emulator.log == []


def test_an_edit_uploads_each_picture_once_per_key(
    service: StudioDoor, emulator: RunningEmulator
) -> None:
    upload = service.gallery.upload_input(png(), "photo.png")
    link = EditInput.from_url(f"{emulator.base_url}/cdn/uploads/none/elsewhere.png")
    submission = service.jobs.edit(
        prompt="make it night", num_outputs=1, output_format="jpg", inputs=[upload, link]
    )
    sent_links: dict[str, str] = {}

    first = service.jobs.send(submission, service.jobs.server_credentials, sent_links=sent_links)
    second = service.jobs.send(submission, service.jobs.server_credentials, sent_links=sent_links)

    assert len(posts(emulator, UPLOADS)) == 1
    bodies = posts(emulator)
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    uploaded = bodies[0]["image_urls"][0]  # type: ignore[index]
    assert bodies[0]["image_urls"] == [uploaded, link.url]  # type: ignore[index]
    assert first.request.image_urls == second.request.image_urls == (uploaded, link.url)
    assert first.mode.value == "edit"


def test_a_gallery_image_that_is_gone_stops_the_edit_before_any_post(
    service: StudioDoor, emulator: RunningEmulator
) -> None:
    gone = EditInput("gallery", "a fox", image_id=999)
    submission = service.jobs.edit(prompt="night", num_outputs=1, output_format=None, inputs=[gone])
    with pytest.raises(InvalidImage):
        service.jobs.send(submission, service.jobs.server_credentials)
    assert posts(emulator) == []
    assert service.gallery.gallery_input(999) is None


def test_a_double_click_is_known_by_its_fingerprint(service: StudioDoor) -> None:
    key = service.jobs.server_credentials
    other_key = Credentials(Backend.FOXAPI, key.base_url, "sk-someone-else")
    upload = service.gallery.upload_input(png(), "photo.png")

    def edit(*inputs: EditInput) -> str:
        return service.jobs.edit(
            prompt="night", num_outputs=1, output_format=None, inputs=list(inputs)
        ).fingerprint(key)

    fox = service.jobs.generation(
        prompt="fox", num_outputs=1, aspect_ratio="1:1", output_format=None
    )
    again = service.jobs.generation(
        prompt=" fox ", num_outputs=1, aspect_ratio="1:1", output_format=None
    )
    assert fox.fingerprint(key) == again.fingerprint(key)
    assert fox.fingerprint(key) != fox.fingerprint(other_key)
    assert edit(upload) == edit(service.gallery.upload_input(png(), "same-pixels.png"))
    assert edit(upload) != edit(service.gallery.upload_input(png("blue"), "photo.png"))


def test_a_failed_job_needs_attention_until_retried_or_hidden(
    service: StudioDoor, studio: Studio, emulator: RunningEmulator
) -> None:
    emulator.config.failure_rate = 1.0
    failed = service.jobs.send(
        service.jobs.generation(
            prompt="a fox", num_outputs=1, aspect_ratio=None, output_format=None
        ),
        service.jobs.server_credentials,
    )
    assert wait_for(service, failed.id).status is JobStatus.FAILED
    assert [job.id for job in service.jobs.needing_attention(limit=5)] == [failed.id]
    assert service.jobs.needing_attention(hidden={failed.id}, limit=5) == []

    emulator.config.failure_rate = 0.0
    retried = service.jobs.retry(failed.id, service.jobs.server_credentials)

    assert retried.retry_of == failed.id
    assert service.jobs.needing_attention(limit=5) == []
    assert wait_for(service, retried.id).status is JobStatus.DONE


def test_old_failures_no_longer_ask_for_attention(service: StudioDoor, studio: Studio) -> None:
    job = studio.store.jobs.create_job(
        service.jobs.generation(
            prompt="an old fox", num_outputs=1, aspect_ratio=None, output_format=None
        ).request,
        backend="foxapi",
        key_id="key-x",
        lease_owner="gone",
        lease_seconds=3600,
    )
    studio.store.jobs.mark_outcome_unknown(job.id, "timed out")
    assert [item.id for item in service.jobs.needing_attention(limit=5)] == [job.id]
    with studio.store.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE jobs SET finished_at = ?, updated_at = ?", (time.time() - 25 * 3600,) * 2
        )
    assert service.jobs.needing_attention(limit=5) == []


def test_downloads_carry_the_prompt_and_a_zip_lists_every_image(
    service: StudioDoor, emulator: RunningEmulator
) -> None:
    job = service.jobs.send(
        service.jobs.generation(
            prompt="a fox", num_outputs=2, aspect_ratio=None, output_format="png"
        ),
        service.jobs.server_credentials,
    )
    wait_for(service, job.id)
    items = service.gallery.gallery(GalleryFilter(), limit=10, offset=0)

    copy = service.gallery.download(items[0])
    with Image.open(io.BytesIO(copy.data)) as picture:
        assert "a fox" in picture.info["parameters"]
    assert copy.filename == service.gallery.download_filename(items[0])
    with zipfile.ZipFile(
        io.BytesIO(service.gallery.zip([item.image.id for item in items]))
    ) as bundle:
        assert len(bundle.namelist()) == 3 and "manifest.json" in bundle.namelist()
    assert service.gallery.original(items[0].image) != copy.data
    assert service.gallery.thumbnail(items[0].image)


def test_a_typed_key_serves_its_own_jobs(service: StudioDoor, emulator: RunningEmulator) -> None:
    emulator.config.api_key = None  # any key
    typed = service.jobs.typed_key("  sk-typed  ")
    job = service.jobs.send(
        service.jobs.generation(
            prompt="a fox", num_outputs=1, aspect_ratio=None, output_format=None
        ),
        typed,
    )
    assert typed.api_key == "sk-typed"
    assert job.key_id == typed.key_id != service.jobs.server_credentials.key_id
    assert service.jobs.has_key_for(job)


def test_billed_today_and_in_flight_counts(service: StudioDoor, studio: Studio) -> None:
    job = service.jobs.send(
        service.jobs.generation(
            prompt="a fox", num_outputs=3, aspect_ratio=None, output_format=None
        ),
        service.jobs.server_credentials,
    )
    assert service.people.images_billed_today() == 3
    assert service.jobs.count_in_flight() in (0, 1)
    wait_for(service, job.id)
    assert service.jobs.count_in_flight() == 0
    assert service.jobs.in_flight() == []
    assert [record.id for record in service.jobs.jobs([job.id, "missing"])] == [job.id]
    assert studio.store.jobs._transition(job.id, JobEvent.SAVED, None, {}) is False


def test_a_sweep_sends_every_variant_in_every_ratio_as_one_batch(
    service: StudioDoor, emulator: RunningEmulator
) -> None:
    sweep = service.jobs.sweep(
        prompt="a {red|blue} fox",
        aspect_ratios=["16:9", "1:1", "9:16"],
        num_outputs=1,
        output_format=None,
    )
    assert sweep.plan.price_line() == "6 images: 3 ratios x 2 variants x 1 image"

    result = service.jobs.send_sweep(sweep, service.jobs.server_credentials)

    assert result.stopped_by is None
    bodies = [(body["prompt"], body["aspect_ratio"]) for body in posts(emulator)]  # type: ignore[index]
    assert bodies == [
        (colour, ratio)
        for colour in ("a red fox", "a blue fox")
        for ratio in ("16:9", "1:1", "9:16")
    ]
    batch_id = result.jobs[0].origin.batch_id
    assert batch_id is not None
    assert [job.id for job in service.jobs.batch(batch_id)] == [job.id for job in result.jobs]


def test_a_sweep_stopped_by_a_refusal_keeps_what_was_sent(
    service: StudioDoor, emulator: RunningEmulator
) -> None:
    emulator.config.balance = 2  # two images, then 402
    sweep = service.jobs.sweep(
        prompt="a fox", aspect_ratios=["16:9", "1:1", "9:16"], num_outputs=1, output_format=None
    )

    result = service.jobs.send_sweep(sweep, service.jobs.server_credentials)

    assert len(result.jobs) == 2
    assert result.stopped_by is not None and "balance" in result.stopped_by.message.lower()


def test_an_edit_of_an_edit_knows_its_ancestors(
    service: StudioDoor, emulator: RunningEmulator
) -> None:
    first = service.jobs.send(
        service.jobs.generation(
            prompt="a fox", num_outputs=1, aspect_ratio=None, output_format=None
        ),
        service.jobs.server_credentials,
    )
    wait_for(service, first.id)
    [original] = service.gallery.saved_images(first.id)

    def edit_of(image_id: int) -> int:
        source = service.gallery.gallery_input(image_id)
        assert source is not None
        job = service.jobs.send(
            service.jobs.edit(
                prompt="at night", num_outputs=1, output_format=None, inputs=[source]
            ),
            service.jobs.server_credentials,
        )
        wait_for(service, job.id)
        return service.gallery.saved_images(job.id)[0].id

    child = edit_of(original.id)
    grandchild = edit_of(child)

    assert _parent_ids(service.gallery.lineage(grandchild)) == [child]
    assert _parent_ids(service.gallery.lineage(child)) == [original.id]
    assert [item.image.id for item in service.gallery.lineage(original.id).children] == [child]
    assert [item.image.id for item in service.gallery.lineage(child).children] == [grandchild]


def _parent_ids(lineage: Lineage) -> list[int]:
    return [item.image.id for item in lineage.made_from if isinstance(item, GalleryItem)]


def edit_from(service: StudioDoor, *inputs: EditInput, prompt: str = "at night") -> int:
    """Send an edit of `inputs`, wait for it, and return its image's id."""
    job = service.jobs.send(
        service.jobs.edit(prompt=prompt, num_outputs=1, output_format=None, inputs=inputs),
        service.jobs.server_credentials,
    )
    wait_for(service, job.id)
    return service.gallery.saved_images(job.id)[0].id


def test_an_edit_of_an_upload_keeps_it_as_an_input_beside_its_gallery_parents(
    service: StudioDoor, studio: Studio
) -> None:
    generated = wait_for(service, generate(service, "a fox").id)
    [gallery_image] = service.gallery.saved_images(generated.id)
    upload = service.gallery.upload_input(png("teal", (90, 60)), "holiday.png")
    gallery = service.gallery.gallery_input(gallery_image.id)
    assert gallery is not None

    edited = edit_from(service, upload, gallery)

    lineage = service.gallery.lineage(edited)
    kept, parent = lineage.made_from
    assert isinstance(kept, InputAsset) and isinstance(parent, GalleryItem)
    assert parent.image.id == gallery_image.id
    assert (kept.width, kept.height) == (90, 60)
    # What was edited is what is kept: the cleaned upload, byte for byte.
    assert upload.image is not None
    assert service.gallery.input_original(kept) == upload.image.data
    assert Image.open(io.BytesIO(service.gallery.input_thumbnail(kept) or b"")).format == "WEBP"
    assert lineage.before == kept  # the upload came first: the comparison is against it
    assert lineage.links == [] and lineage.missing == 0
    assert studio.archive.path(kept.file_path).is_file()
    # An input is no gallery image: the gallery holds the fox and its edit alone.
    assert service.gallery.gallery_count(GalleryFilter()) == 2
    assert {
        item.image.id for item in service.gallery.gallery(GalleryFilter(), limit=9, offset=0)
    } == {
        gallery_image.id,
        edited,
    }
    # The gallery parent knows its child; the same upload again is the same asset.
    assert [item.image.id for item in service.gallery.lineage(gallery_image.id).children] == [
        edited
    ]
    again = edit_from(service, service.gallery.upload_input(png("teal", (90, 60)), "copy.png"))
    assert service.gallery.lineage(again).made_from == [kept]


def test_an_upload_goes_when_no_job_uses_it_and_others_lineage_holds(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    studio = team_studio(tmp_path / "data", emulator)
    try:
        alice = studio.service.for_person(ALICE)
        upload = alice.gallery.upload_input(png("navy"), "sketch.png")
        first = edit_from(alice, upload, prompt="in ink")
        second = edit_from(alice, upload, prompt="in chalk")
        [kept] = alice.gallery.lineage(first).made_from
        assert isinstance(kept, InputAsset)
        stored = studio.archive.path(kept.file_path)

        first_item = alice.gallery.image(first)
        assert first_item is not None
        alice.jobs.delete_job(first_item.job.id)
        assert alice.gallery.lineage(second).made_from == [kept]  # still used: still kept
        assert stored.is_file()

        second_item = alice.gallery.image(second)
        assert second_item is not None
        alice.jobs.delete_job(second_item.job.id)
        assert not stored.exists()
        assert studio.store.gallery.input_assets([kept.id]) == {}
    finally:
        studio.close()


def test_an_upload_is_seen_by_whoever_sees_its_edit(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    studio = team_studio(tmp_path / "data", emulator, studio_private_galleries=True)
    try:
        alice, bob = studio.service.for_person(ALICE), studio.service.for_person(BOB)
        edited = edit_from(alice, alice.gallery.upload_input(png("plum"), "private.png"))
        assert len(alice.gallery.lineage(edited).made_from) == 1
        assert bob.gallery.lineage(edited) == Lineage([], [])
        boss = studio.service.for_person(BOSS)
        assert len(boss.gallery.lineage(edited).made_from) == 1
    finally:
        studio.close()


def test_an_edit_refused_before_billing_keeps_no_upload(
    service: StudioDoor, studio: Studio, emulator: RunningEmulator
) -> None:
    emulator.config.balance = 0
    upload = service.gallery.upload_input(png("olive"), "refused.png")
    with pytest.raises(FoxAPIError):
        service.jobs.send(
            service.jobs.edit(
                prompt="at night", num_outputs=1, output_format=None, inputs=[upload]
            ),
            service.jobs.server_credentials,
        )
    with studio.store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(input_assets)).scalar() == 0
    assert not any(path.is_file() for path in studio.archive.path("inputs").rglob("*"))


# Teams: owners, visibility, deletion, keys per person and spend limits ------------------

ALICE = Person("sub-alice", "alice@example.com", "Alice")
BOB = Person("sub-bob", "bob@example.com", "Bob")
BOSS = Person("sub-boss", "boss@example.com", "Boss", admin=True)


def team_studio(
    data_dir: Path, emulator: RunningEmulator, *, api_key: str | None = EMULATOR_KEY, **settings
) -> Studio:
    return open_studio(
        Settings(
            foxapi_api_key=api_key,
            foxapi_base_url=emulator.base_url,
            studio_data_dir=data_dir,
            **settings,
        )
    )


def generate(service: StudioDoor, prompt: str = "a fox", count: int = 1) -> JobRecord:
    submission = service.jobs.generation(
        prompt=prompt, num_outputs=count, aspect_ratio=None, output_format="png"
    )
    return service.jobs.send(submission, service.jobs.credentials())


def test_mine_everyone_and_private_galleries(tmp_path: Path, emulator: RunningEmulator) -> None:
    studio = team_studio(tmp_path / "data", emulator)
    try:
        alice, bob = studio.service.for_person(ALICE), studio.service.for_person(BOB)
        job = wait_for(alice, generate(alice, "alice's fox").id)
        assert job.owner_email == "alice@example.com"
        image_id = alice.gallery.saved_images(job.id)[0].id

        assert bob.gallery.gallery_count(GalleryFilter(mine=True)) == 0
        assert [
            item.job.prompt for item in bob.gallery.gallery(GalleryFilter(), limit=5, offset=0)
        ] == ["alice's fox"]
        assert bob.gallery.image(image_id) is not None
        assert bob.jobs.in_flight() == [] and bob.jobs.recent_jobs(5) == []  # lists show one's own
        assert bob.jobs.recent_prompts() == []  # the prompt box offers one's own history
        assert alice.jobs.recent_prompts() == ["alice's fox"]
    finally:
        studio.close()

    private = team_studio(tmp_path / "data", emulator, studio_private_galleries=True)
    try:
        bob = private.service.for_person(BOB)
        assert not bob.gallery.sees_everyone
        assert bob.gallery.gallery_count(GalleryFilter()) == 0  # Everyone is Mine for him
        assert bob.gallery.image(image_id) is None and bob.jobs.job(job.id) is None
        assert bob.gallery.may_see_image(image_id) is False
        boss = private.service.for_person(BOSS)
        assert boss.gallery.sees_everyone and boss.gallery.image(image_id) is not None
    finally:
        private.close()


def test_favourites_are_each_persons_own_and_only_for_images_they_see(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    studio = team_studio(tmp_path / "data", emulator)
    try:
        alice, bob = studio.service.for_person(ALICE), studio.service.for_person(BOB)
        job = wait_for(alice, generate(alice, "alice's heron").id)
        [image] = alice.gallery.saved_images(job.id)
        favourites = GalleryFilter(favourites_only=True)

        bob.gallery.set_favourite(image.id, True)  # everyone's work is visible here: his own mark

        assert bob.gallery.image(image.id).image.favourite  # type: ignore[union-attr]
        assert not alice.gallery.image(image.id).image.favourite  # type: ignore[union-attr]
        assert not alice.gallery.saved_images(job.id)[0].favourite
        assert (
            bob.gallery.gallery_count(favourites) == 1
            and alice.gallery.gallery_count(favourites) == 0
        )
    finally:
        studio.close()

    private = team_studio(tmp_path / "data", emulator, studio_private_galleries=True)
    try:
        eve = private.service.for_person(Person("sub-eve", "eve@example.com", "Eve"))
        eve.gallery.set_favourite(image.id, True)  # not hers to see: nothing is marked
        assert private.store.gallery.image(image.id, viewer_sub="sub-eve").image.favourite is False  # type: ignore[union-attr]
        alice = private.service.for_person(ALICE)
        alice.gallery.set_favourite(image.id, True)
        assert [item.image.id for item in alice.gallery.gallery(favourites, limit=5, offset=0)] == [
            image.id
        ]
    finally:
        private.close()


def test_only_the_owner_or_an_admin_deletes_and_the_files_go_with_it(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    studio = team_studio(tmp_path / "data", emulator)
    try:
        alice, bob = studio.service.for_person(ALICE), studio.service.for_person(BOB)
        first = wait_for(alice, generate(alice, "a fox", count=2).id)
        second = wait_for(alice, generate(alice, "an owl").id)
        shown, kept = alice.gallery.saved_images(first.id)
        original = studio.archive.path(shown.file_path or "")
        thumbnail = studio.archive.path(shown.thumb_path or "")

        with pytest.raises(NotAllowed):
            bob.gallery.delete_image(shown.id)
        with pytest.raises(NotAllowed):
            bob.jobs.delete_job(second.id)
        alice.gallery.delete_image(shown.id)
        assert alice.gallery.image(shown.id) is None
        assert not original.exists() and not thumbnail.exists()
        assert alice.gallery.image(kept.id) is not None  # nothing else is touched

        studio.service.for_person(BOSS).jobs.delete_job(second.id)
        assert alice.jobs.job(second.id) is None
        assert alice.gallery.gallery_count(GalleryFilter()) == 1
    finally:
        studio.close()


def test_over_the_daily_limit_a_request_is_refused_and_nothing_is_sent(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    studio = team_studio(tmp_path / "data", emulator, studio_daily_image_limit=2)
    try:
        alice = studio.service.for_person(ALICE)
        assert alice.people.allowance().words() == "2 of 2 images left today"
        with pytest.raises(SpendLimitReached) as refused:
            generate(alice, count=3)
        assert refused.value.message == "2 of 2 images left today; this request is for 3."
        assert posts(emulator) == []
        assert alice.jobs.recent_jobs(5) == []

        generate(alice, count=1)
        assert alice.people.allowance().words() == "1 of 2 images left today"
        assert studio.service.for_person(BOB).people.allowance().left_today == 2  # per person
    finally:
        studio.close()


def test_the_monthly_limit_is_the_whole_studio(tmp_path: Path, emulator: RunningEmulator) -> None:
    studio = team_studio(tmp_path / "data", emulator, studio_monthly_image_limit=3)
    try:
        generate(studio.service.for_person(ALICE), count=2)
        with pytest.raises(SpendLimitReached, match="1 of 3 images left this month"):
            generate(studio.service.for_person(BOB), count=2)
        assert len(posts(emulator)) == 1
    finally:
        studio.close()


def test_two_sends_racing_for_the_last_image_bill_at_most_one(
    database_url: str, tmp_path: Path, emulator: RunningEmulator
) -> None:
    racers = 4
    studio = team_studio(
        tmp_path / "data",
        emulator,
        studio_database_url=database_url,
        studio_daily_image_limit=racers - 1,
    )
    try:
        alice = studio.service.for_person(ALICE)
        generate(alice, count=racers - 2)  # one image left
        start = threading.Barrier(racers)

        def send(_index: int) -> str:
            service = studio.service.for_person(ALICE)  # each its own session
            start.wait()
            try:
                generate(service)
            except SpendLimitReached:
                return "refused"
            return "sent"

        with ThreadPoolExecutor(max_workers=racers) as pool:
            outcomes = list(pool.map(send, range(racers)))

        assert sorted(outcomes) == ["refused"] * (racers - 1) + ["sent"]
        assert len(posts(emulator)) == 2
        assert alice.people.allowance().left_today == 0
    finally:
        studio.close()


def test_a_typed_key_serves_only_the_person_who_typed_it(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    # No server key: people type their own. Only Alice's is one the emulator accepts.
    studio = team_studio(tmp_path / "data", emulator, api_key=None)
    try:
        alice = studio.service.for_person(ALICE)
        alice.jobs.typed_key(EMULATOR_KEY)
        assert (
            studio.service.for_person(ALICE).jobs.credentials().owner_sub == ALICE.sub
        )  # any session
        bob = studio.service.for_person(BOB)
        assert bob.jobs.credentials().backend is Backend.DEMO  # not Alice's key

        with pytest.raises(NotAllowed):
            bob.jobs.send(
                bob.jobs.generation(
                    prompt="x", num_outputs=1, aspect_ratio=None, output_format=None
                ),
                alice.jobs.credentials(),
            )
        bob.jobs.typed_key("sk-bobs-own-key")
        with pytest.raises(Unauthorized):
            generate(bob, "bob's fox")
        generate(alice, "alice's fox")
        accepted = [body["prompt"] for body in posts(emulator)]  # type: ignore[index]
        # Both POSTs arrived; FoxAPI billed only Alice's, sent with her key.
        assert accepted == ["bob's fox", "alice's fox"]
        assert [job.prompt for job in bob.jobs.recent_jobs(5)] == []
        assert [job.prompt for job in alice.jobs.recent_jobs(5)] == ["alice's fox"]

        # After a restart Bob's waiting jobs need his key: the same key typed by Alice
        # has another fingerprint, so it never resumes them.
        same_key_alice = Credentials(Backend.FOXAPI, emulator.base_url, "k", owner_sub="a")
        same_key_bob = Credentials(Backend.FOXAPI, emulator.base_url, "k", owner_sub="b")
        assert same_key_alice.key_id != same_key_bob.key_id
    finally:
        studio.close()


def test_usage_is_for_admins_per_person_per_day(tmp_path: Path, emulator: RunningEmulator) -> None:
    studio = team_studio(tmp_path / "data", emulator)
    try:
        generate(studio.service.for_person(ALICE), count=2)
        generate(studio.service.for_person(BOB), count=1)
        with pytest.raises(NotAllowed):
            studio.service.for_person(BOB).people.usage()
        usage = studio.service.for_person(BOSS).people.usage()
        today = datetime.now().astimezone().date().isoformat()
        assert sorted((row.day, row.person, row.images) for row in usage) == [
            (today, "alice@example.com", 2),
            (today, "bob@example.com", 1),
        ]
        assert studio.service.for_person(BOSS).people.images_billed_this_month() == 3
    finally:
        studio.close()
