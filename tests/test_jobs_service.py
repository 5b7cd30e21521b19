"""studio.jobs.service against its store on SQLite and PostgreSQL, with a fake engine: a
request checked once, sent once, refused before anything is billed, each person's keys
and limits their own."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from studio.credentials import Backend, Credentials
from studio.db.schema import input_assets
from studio.errors import FoxAPIError, InvalidImage, Unauthorized
from studio.people import NotAllowed, Person, SpendLimitReached
from studio.records import GalleryFilter
from studio.request import InvalidRequest
from studio.service import EditInput, Studio
from studio.states import JobEvent, JobStatus
from tests.service_support import UPLOADED, Opened, generate, open_door, png

SERVER_KEY = "sk-the-servers-key"
ALICE = Person("sub-alice", "alice@example.com", "Alice")
BOB = Person("sub-bob", "bob@example.com", "Bob")
BOSS = Person("sub-boss", "boss@example.com", "Boss", admin=True)


@pytest.fixture
def studio(tmp_path: Path, database_at_head: str) -> Iterator[Opened]:
    opened = open_door(
        tmp_path / "data", database_at_head, foxapi_api_key=SERVER_KEY, studio_max_prompt_chars=40
    )
    yield opened
    opened.close()


@pytest.fixture
def service(studio: Opened) -> Studio:
    return studio.service


def team_studio(
    data_dir: Path, database_at_head: str, *, api_key: str | None = SERVER_KEY, **settings: object
) -> Opened:
    return open_door(data_dir, database_at_head, foxapi_api_key=api_key, **settings)


def test_a_generation_is_sent_once_and_its_images_join_the_gallery(studio: Opened) -> None:
    service = studio.service
    submission = service.jobs.generation(
        prompt="a red fox", num_outputs=2, aspect_ratio="16:9", output_format="png"
    )
    job = service.jobs.send(submission, service.jobs.server_credentials)

    assert job.status is JobStatus.DONE
    assert len(studio.engine.sent) == 1
    assert [image.position for image in service.gallery.saved_images(job.id)] == [0, 1]
    gallery = service.gallery.gallery(GalleryFilter(search="fox"), limit=10, offset=0)
    assert [item.job.id for item in gallery] == [job.id, job.id]
    assert service.gallery.gallery_count(GalleryFilter()) == 2


def test_the_prompt_limit_is_the_setting(service: Studio) -> None:
    with pytest.raises(InvalidRequest) as refused:
        service.jobs.generation(
            prompt="x" * 41, num_outputs=1, aspect_ratio=None, output_format=None
        )
    assert refused.value.field == "prompt"
    assert "limit is 40" in refused.value.message


def test_an_edit_is_checked_before_anything_is_uploaded(studio: Opened) -> None:
    service = studio.service
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
    assert studio.engine.sent == [] and studio.engine.clients.uploads == []


def test_an_edit_uploads_each_picture_once_per_key(studio: Opened) -> None:
    service = studio.service
    upload = service.gallery.upload_input(png(), "photo.png")
    link = EditInput.from_url("https://elsewhere.example.invalid/cdn/elsewhere.png")
    submission = service.jobs.edit(
        prompt="make it night", num_outputs=1, output_format="jpg", inputs=[upload, link]
    )
    sent_links: dict[str, str] = {}

    first = service.jobs.send(submission, service.jobs.server_credentials, sent_links=sent_links)
    second = service.jobs.send(submission, service.jobs.server_credentials, sent_links=sent_links)

    assert len(studio.engine.clients.uploads) == 1
    bodies = studio.engine.sent
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    uploaded = bodies[0].image_urls[0]
    assert uploaded.startswith(UPLOADED)
    assert bodies[0].image_urls == (uploaded, link.url)
    assert first.request.image_urls == second.request.image_urls == (uploaded, link.url)
    assert first.mode.value == "edit"


def test_a_gallery_image_that_is_gone_stops_the_edit_before_any_post(studio: Opened) -> None:
    service = studio.service
    gone = EditInput("gallery", "a fox", image_id=999)
    submission = service.jobs.edit(prompt="night", num_outputs=1, output_format=None, inputs=[gone])
    with pytest.raises(InvalidImage):
        service.jobs.send(submission, service.jobs.server_credentials)
    assert studio.engine.sent == []
    assert service.gallery.gallery_input(999) is None


def test_a_double_click_is_known_by_its_fingerprint(service: Studio) -> None:
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


def test_a_failed_job_needs_attention_until_retried_or_hidden(studio: Opened) -> None:
    service = studio.service
    studio.engine.fail = True
    failed = service.jobs.send(
        service.jobs.generation(
            prompt="a fox", num_outputs=1, aspect_ratio=None, output_format=None
        ),
        service.jobs.server_credentials,
    )
    assert failed.status is JobStatus.FAILED
    assert [job.id for job in service.jobs.needing_attention(limit=5)] == [failed.id]
    assert service.jobs.needing_attention(hidden={failed.id}, limit=5) == []

    studio.engine.fail = False
    retried = service.jobs.retry(failed.id, service.jobs.server_credentials)

    assert retried.retry_of == failed.id
    assert service.jobs.needing_attention(limit=5) == []
    assert retried.status is JobStatus.DONE


def test_old_failures_no_longer_ask_for_attention(studio: Opened) -> None:
    service = studio.service
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
        long_ago = time.time() - 25 * 3600
        conn.execute(
            sa.text("UPDATE jobs SET finished_at = :at, updated_at = :at"), {"at": long_ago}
        )
    assert service.jobs.needing_attention(limit=5) == []


def test_a_typed_key_serves_its_own_jobs(service: Studio) -> None:
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


def test_billed_today_and_in_flight_counts(studio: Opened) -> None:
    service = studio.service
    job = service.jobs.send(
        service.jobs.generation(
            prompt="a fox", num_outputs=3, aspect_ratio=None, output_format=None
        ),
        service.jobs.server_credentials,
    )
    assert service.people.images_billed_today() == 3
    assert service.jobs.count_in_flight() == 0  # the fake finishes every job at once
    assert service.jobs.in_flight() == []
    assert [record.id for record in service.jobs.jobs([job.id, "missing"])] == [job.id]
    assert studio.store.jobs._transition(job.id, JobEvent.SAVED, None, {}) is False


def test_a_sweep_sends_every_variant_in_every_ratio_as_one_batch(studio: Opened) -> None:
    service = studio.service
    sweep = service.jobs.sweep(
        prompt="a {red|blue} fox",
        aspect_ratios=["16:9", "1:1", "9:16"],
        num_outputs=1,
        output_format=None,
    )
    assert sweep.plan.price_line() == "6 images: 3 ratios x 2 variants x 1 image"

    result = service.jobs.send_sweep(sweep, service.jobs.server_credentials)

    assert result.stopped_by is None
    bodies = [(request.prompt, request.aspect_ratio) for request in studio.engine.sent]
    assert bodies == [
        (colour, ratio)
        for colour in ("a red fox", "a blue fox")
        for ratio in ("16:9", "1:1", "9:16")
    ]
    batch_id = result.jobs[0].origin.batch_id
    assert batch_id is not None
    assert [job.id for job in service.jobs.batch(batch_id)] == [job.id for job in result.jobs]


def test_a_sweep_stopped_by_a_refusal_keeps_what_was_sent(studio: Opened) -> None:
    service = studio.service
    studio.engine.balance = 2  # two images, then 402
    sweep = service.jobs.sweep(
        prompt="a fox", aspect_ratios=["16:9", "1:1", "9:16"], num_outputs=1, output_format=None
    )

    result = service.jobs.send_sweep(sweep, service.jobs.server_credentials)

    assert len(result.jobs) == 2
    assert result.stopped_by is not None and "balance" in result.stopped_by.message.lower()


def test_an_edit_refused_before_billing_keeps_no_upload(studio: Opened) -> None:
    service = studio.service
    studio.engine.balance = 0
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


# Teams: keys per person and spend limits --------------------------------------------


def test_over_the_daily_limit_a_request_is_refused_and_nothing_is_sent(
    tmp_path: Path, database_at_head: str
) -> None:
    studio = team_studio(tmp_path / "data", database_at_head, studio_daily_image_limit=2)
    try:
        alice = studio.service.for_person(ALICE)
        assert alice.people.allowance().words() == "2 of 2 images left today"
        with pytest.raises(SpendLimitReached) as refused:
            generate(alice, count=3)
        assert refused.value.message == "2 of 2 images left today; this request is for 3."
        assert studio.engine.sent == []
        assert alice.jobs.recent_jobs(5) == []

        generate(alice, count=1)
        assert alice.people.allowance().words() == "1 of 2 images left today"
        assert studio.service.for_person(BOB).people.allowance().left_today == 2  # per person
    finally:
        studio.close()


def test_the_monthly_limit_is_the_whole_studio(tmp_path: Path, database_at_head: str) -> None:
    studio = team_studio(tmp_path / "data", database_at_head, studio_monthly_image_limit=3)
    try:
        generate(studio.service.for_person(ALICE), count=2)
        with pytest.raises(SpendLimitReached, match="1 of 3 images left this month"):
            generate(studio.service.for_person(BOB), count=2)
        assert len(studio.engine.sent) == 1
    finally:
        studio.close()


def test_two_sends_racing_for_the_last_image_bill_at_most_one(
    database_at_head: str, tmp_path: Path
) -> None:
    racers = 4
    studio = team_studio(tmp_path / "data", database_at_head, studio_daily_image_limit=racers - 1)
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
        assert len(studio.engine.sent) == 2
        assert alice.people.allowance().left_today == 0
    finally:
        studio.close()


def test_a_typed_key_serves_only_the_person_who_typed_it(
    tmp_path: Path, database_at_head: str
) -> None:
    # No server key: people type their own. Only Alice's is one FoxAPI accepts.
    studio = team_studio(tmp_path / "data", database_at_head, api_key=None)
    studio.engine.accepted_keys = {SERVER_KEY}
    try:
        alice = studio.service.for_person(ALICE)
        alice.jobs.typed_key(SERVER_KEY)
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
        accepted = [request.prompt for request in studio.engine.sent]
        # Both POSTs arrived; FoxAPI billed only Alice's, sent with her key.
        assert accepted == ["bob's fox", "alice's fox"]
        assert [job.prompt for job in bob.jobs.recent_jobs(5)] == []
        assert [job.prompt for job in alice.jobs.recent_jobs(5)] == ["alice's fox"]

        # After a restart Bob's waiting jobs need his key: the same key typed by Alice
        # has another fingerprint, so it never resumes them.
        base_url = studio.settings.foxapi_base_url
        same_key_alice = Credentials(Backend.FOXAPI, base_url, "k", owner_sub="a")
        same_key_bob = Credentials(Backend.FOXAPI, base_url, "k", owner_sub="b")
        assert same_key_alice.key_id != same_key_bob.key_id
    finally:
        studio.close()
