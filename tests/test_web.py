"""The studio's own HTTP routes: signed image links, streamed zips, progress for the browser."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.testclient import TestClient

from studio import links, web
from studio.links import LINK_WINDOW
from studio.people import Person
from studio.provenance import (
    CREATED_BY_MODEL,
    EDITED_BY_MODEL,
    ContentSigner,
    Facts,
    has_manifest,
    make_chain,
)
from studio.records import GalleryFilter, InputKind, InputSource, JobOrigin
from studio.request import GenerationRequest
from studio.runtime import Runtime, open_studio
from studio.service import Review
from studio.settings import Settings
from studio.states import JobStatus
from tests.app_support import (
    ALICE,
    BOB,
    SEED_LEASE,
    SEED_OWNER,
    image_bytes,
    seed_images,
    seed_job,
)
from tests.c2pa_support import read_credentials

SECRET = "a-test-secret-that-signs-links"


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Runtime]:
    settings = Settings(
        foxapi_api_key="sk-unused",
        foxapi_base_url="http://127.0.0.1:9",
        studio_data_dir=tmp_path / "data",
        studio_url_secret=SECRET,
    )
    opened = open_studio(settings, start=False)
    yield opened
    opened.close()


@pytest.fixture
def client(studio: Runtime) -> TestClient:
    return TestClient(Starlette(routes=web.routes(lambda: studio.service)))


def test_a_thumbnail_link_serves_the_thumbnail_for_a_year(
    studio: Runtime, client: TestClient
) -> None:
    [item] = seed_images(studio.store, studio.archive, "a fox")
    link = studio.service.gallery.image_link(item.image, "thumb", "local")

    answer = client.get(link)

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/webp"
    assert "immutable" in answer.headers["cache-control"]
    assert answer.content == studio.service.gallery.thumbnail(item.image)
    assert item.image.sha256 in link


def test_the_original_and_the_download_copy(studio: Runtime, client: TestClient) -> None:
    [item] = seed_images(studio.store, studio.archive, "a copper kettle")

    original = client.get(studio.service.gallery.image_link(item.image, "original", "local"))
    download = client.get(studio.service.gallery.image_link(item.image, "download", "local"))

    assert original.content == studio.service.gallery.original(item.image)
    assert original.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "a-copper-kettle-1.png" in download.headers["content-disposition"]
    with Image.open(io.BytesIO(download.content)) as picture:
        assert picture.info["parameters"].startswith("a copper kettle")


def test_an_input_asset_is_served_by_its_signed_link_alone(
    studio: Runtime, client: TestClient
) -> None:
    asset = studio.store.gallery.add_input_asset(
        studio.archive.save_input(image_bytes(size=(40, 30)))
    )
    uses = JobOrigin(inputs=(InputSource(InputKind.UPLOAD, asset.id),))
    # An edit recorded before its POST, as the engine does, which FoxAPI then refuses.
    edit = studio.store.jobs.create_job(
        GenerationRequest.build(prompt="make it blue"),
        backend="foxapi",
        key_id="key-test",
        lease_owner=SEED_OWNER,
        lease_seconds=SEED_LEASE,
        origin=uses,
    )
    thumb = studio.service.gallery.input_link(asset, "thumb", "local")
    original = studio.service.gallery.input_link(asset, "original", "local")

    answer = client.get(original)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    assert answer.content == studio.service.gallery.input_original(asset)
    assert client.get(thumb).content == studio.service.gallery.input_thumbnail(asset)
    assert client.get(original.split("?")[0]).status_code == 403  # unsigned
    studio.store.jobs.delete_unsent_job(edit.id)  # nothing billed: no job uses it any more
    studio.service.gallery.forget_unused_inputs([asset.id])  # so it goes
    assert client.get(original).status_code == 404


@pytest.mark.parametrize("tamper", ["signature", "viewer", "path", "expiry"])
def test_a_changed_link_is_refused(studio: Runtime, client: TestClient, tamper: str) -> None:
    [first, second] = seed_images(studio.store, studio.archive, "two foxes", count=2)
    link = studio.service.gallery.image_link(first.image, "original", "person:alice")
    path, query = link.split("?")
    params = {name: values[0] for name, values in parse_qs(query).items()}
    if tamper == "signature":
        params["sig"] = "0" * len(params["sig"])
    elif tamper == "viewer":
        params["viewer"] = "person:bob"
    elif tamper == "path":
        path = path.replace(f"/{first.image.id}/", f"/{second.image.id}/")
    else:
        params["expires"] = str(int(params["expires"]) + LINK_WINDOW)

    answer = client.get(path, params=params)

    assert answer.status_code == 403
    assert "Reload the page" in answer.text
    assert client.get(link).status_code == 200


def test_a_zip_streams_every_selected_image_and_a_manifest(
    studio: Runtime, client: TestClient
) -> None:
    items = seed_images(studio.store, studio.archive, "three foxes", count=3)
    ids = [items[0].image.id, items[2].image.id]

    with client.stream("GET", studio.service.gallery.zip_link(ids, "local")) as answer:
        chunks = list(answer.iter_bytes())

    assert answer.headers["content-type"] == "application/zip"
    assert "attachment" in answer.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as bundle:
        names = bundle.namelist()
        manifest = json.loads(bundle.read("manifest.json"))
    assert names == ["three-foxes-1.png", "three-foxes-3.png", "manifest.json"]
    assert [entry["image_index"] for entry in manifest["files"]] == [1, 3]


def test_progress_tells_the_browser_where_each_job_stands(
    studio: Runtime, client: TestClient
) -> None:
    running = seed_job(
        studio.store, "a fox being drawn", progress=40, key_id=studio.credentials.key_id
    )
    [done] = seed_images(studio.store, studio.archive, "a finished fox")

    everything = client.get(studio.service.jobs.progress_link(None, "local")).json()
    chosen = client.get(
        studio.service.jobs.progress_link([running.id, done.job.id], "local")
    ).json()

    assert [(job["id"], job["words"]) for job in everything] == [(running.id, "Generating 40 %")]
    assert {job["id"]: job["in_flight"] for job in chosen} == {
        running.id: True,
        done.job.id: False,
    }
    assert client.get(links.progress_path(None)).status_code == 403


def test_an_unknown_image_and_a_malformed_list_are_refused(
    studio: Runtime, client: TestClient
) -> None:
    signer = studio.service.signer
    assert client.get(signer.sign("/api/images/999/thumb/x.webp", "local")).status_code == 404
    assert client.get(signer.sign("/api/zip/1;2/x", "local")).status_code == 403
    assert client.get(signer.sign("/api/progress/not-a-job", "local")).status_code == 403


# Review links --------------------------------------------------------------------------


def review_of(
    studio: Runtime, image_ids: list[int], *, allow_downloads: bool
) -> tuple[int, Review]:
    board = studio.service.boards.create_board("Picks", image_ids)
    link, token = studio.service.boards.share_board(board.id, allow_downloads=allow_downloads)
    review = studio.service.boards.open_review(token)
    assert isinstance(review, Review)
    return link.id, review


def test_a_reviewers_image_links_serve_while_the_link_lives(
    studio: Runtime, client: TestClient
) -> None:
    [item] = seed_images(studio.store, studio.archive, "a fox for review")
    link_id, review = review_of(studio, [item.image.id], allow_downloads=False)
    thumb = review.image_link(item.image.id, "thumb")
    original = review.image_link(item.image.id, "original")
    assert thumb is not None and original is not None
    assert f"viewer=review%3A{link_id}" in thumb

    answer = client.get(thumb)
    assert answer.status_code == 200
    assert answer.content == studio.service.gallery.thumbnail(item.image)
    assert "immutable" not in answer.headers["cache-control"]  # asked again: a revoke is heard
    assert client.get(original).content == studio.service.gallery.original(item.image)

    studio.service.boards.revoke_link(link_id)
    assert client.get(thumb).status_code == 404
    assert client.get(original).status_code == 404


def test_a_reviewer_downloads_only_when_the_owner_allowed_it(
    studio: Runtime, client: TestClient
) -> None:
    [item] = seed_images(studio.store, studio.archive, "a fox to download")
    closed_id, closed = review_of(studio, [item.image.id], allow_downloads=False)
    open_id, opened = review_of(studio, [item.image.id], allow_downloads=True)
    assert closed.image_link(item.image.id, "download") is None
    # Even a download link signed for that reviewer is refused by the route.
    forged = studio.service.gallery.image_link(item.image, "download", f"review:{closed_id}")
    assert client.get(forged).status_code == 404

    allowed = opened.image_link(item.image.id, "download")
    assert allowed is not None and f"review%3A{open_id}" in allowed
    answer = client.get(allowed)
    assert answer.status_code == 200
    assert answer.headers["content-disposition"].startswith("attachment;")
    # The prompt and settings go with it; the task id stays in the studio.
    designers = client.get(studio.service.gallery.image_link(item.image, "download", "local"))
    assert item.job.task_id
    with Image.open(io.BytesIO(designers.content)) as picture:
        assert item.job.task_id in picture.info["parameters"]
    with Image.open(io.BytesIO(answer.content)) as picture:
        assert picture.info["parameters"].startswith("a fox to download")
        assert item.job.task_id not in picture.info["parameters"]


def test_a_reviewers_link_reaches_nothing_beyond_its_board(
    studio: Runtime, client: TestClient
) -> None:
    on_board, elsewhere = seed_images(studio.store, studio.archive, "two foxes", count=2)
    link_id, review = review_of(studio, [on_board.image.id], allow_downloads=True)
    viewer = f"review:{link_id}"
    # Signed for the reviewer, but for an image of no board of theirs: refused.
    for kind in ("thumb", "original", "download"):
        other = studio.service.gallery.image_link(elsewhere.image, kind, viewer)
        assert client.get(other).status_code == 404
    assert review.image_link(elsewhere.image.id, "thumb") is None
    # The studio's other routes refuse a reviewer outright.
    signer = studio.service.signer
    zipped = signer.sign(links.zip_path([on_board.image.id], links.zip_digest([None])), viewer)
    assert client.get(zipped).status_code == 403
    assert client.get(signer.sign(links.progress_path(None), viewer)).status_code == 403
    for odd in ("review:x", "review:²", "review:", f"review:{link_id} "):
        forged = signer.sign(f"/api/images/{on_board.image.id}/thumb/x.webp", odd)
        assert client.get(forged).status_code == 404


def test_a_boards_zip_has_its_images_in_order_and_a_manifest(
    studio: Runtime, client: TestClient
) -> None:
    items = seed_images(studio.store, studio.archive, "three owls", count=3)
    board = studio.service.boards.create_board("Owls", [items[2].image.id, items[0].image.id])
    with client.stream("GET", studio.service.boards.board_zip_link(board.id, "local")) as answer:
        body = b"".join(answer.iter_bytes())
    with zipfile.ZipFile(io.BytesIO(body)) as bundle:
        assert bundle.namelist() == ["three-owls-3.png", "three-owls-1.png", "manifest.json"]


# Content credentials on every route a file leaves by -------------------------------------

FORMATS = [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]


@pytest.mark.parametrize(("fmt", "mime_type"), FORMATS)
def test_every_download_route_carries_content_credentials_that_verify(
    studio: Runtime, client: TestClient, fmt: str, mime_type: str
) -> None:
    items = seed_images(studio.store, studio.archive, "a kite 凧 🪁", count=2, fmt=fmt)
    ids = [item.image.id for item in items]
    board = studio.service.boards.create_board("Kites", ids)
    _, review = review_of(studio, ids, allow_downloads=True)
    reviewer_link = review.image_link(ids[0], "download")
    assert reviewer_link is not None

    files = {
        "image dialog": [
            client.get(studio.service.gallery.image_link(items[0].image, "download", "local"))
        ],
        "reviewer": [client.get(reviewer_link)],
        "gallery zip": _zipped(client.get(studio.service.gallery.zip_link(ids, "local")).content),
        "board zip": _zipped(
            client.get(studio.service.boards.board_zip_link(board.id, "local")).content
        ),
    }

    for route, found in files.items():
        assert found, route
        for answer in found:
            data = answer if isinstance(answer, bytes) else answer.content
            read = read_credentials(data, mime_type)
            assert read.valid_but_untrusted, (route, read.state, read.failures)
            assert read.action_names == ["c2pa.created"], route
            assert read.actions[0]["digitalSourceType"] == CREATED_BY_MODEL
            assert read.actions[0]["description"] == "Prompt: a kite 凧 🪁"
            assert read.manifest["signature_info"]["issuer"] == "Image Studio (self-signed)"
    # The archive keeps the original as it came.
    assert b"c2pa" not in studio.service.gallery.original(items[0].image)


def test_an_edits_download_names_the_inputs_the_studio_holds(
    studio: Runtime, client: TestClient
) -> None:
    [parent] = seed_images(studio.store, studio.archive, "a plain fox")
    asset = studio.store.gallery.add_input_asset(
        studio.archive.save_input(image_bytes(size=(40, 30)))
    )
    origin = JobOrigin(
        parent_image_ids=(parent.image.id,),
        inputs=(
            InputSource(InputKind.GALLERY, parent.image.id),
            InputSource(InputKind.UPLOAD, asset.id),
            InputSource(InputKind.LINK),
        ),
    )
    urls = tuple(f"https://cdn.example.com/{index}.png" for index in range(3))
    [edit] = seed_images(
        studio.store, studio.archive, "make it night", image_urls=urls, origin=origin
    )
    _, review = review_of(studio, [edit.image.id], allow_downloads=True)
    reviewer_link = review.image_link(edit.image.id, "download")
    assert reviewer_link is not None

    owners = read_credentials(
        client.get(studio.service.gallery.image_link(edit.image, "download", "local")).content,
        "image/png",
    )
    reviewers = read_credentials(client.get(reviewer_link).content, "image/png")

    assert owners.valid_but_untrusted
    assert owners.action_names == ["c2pa.opened", "c2pa.edited"]
    assert owners.actions[1]["digitalSourceType"] == EDITED_BY_MODEL
    ingredients = owners.manifest["ingredients"]
    assert [item["relationship"] for item in ingredients] == ["parentOf", "componentOf"]
    # A reviewer's copy leaves the inputs in the studio, as it does their links.
    assert reviewers.valid_but_untrusted
    assert reviewers.action_names == ["c2pa.created"]
    assert reviewers.actions[0]["digitalSourceType"] == EDITED_BY_MODEL
    assert not reviewers.manifest.get("ingredients")


def test_an_upstream_signed_original_keeps_its_chain_in_every_download(
    studio: Runtime, client: TestClient
) -> None:
    upstream = ContentSigner.from_pem(*make_chain("Upstream Model Co"))
    signed = upstream.sign(image_bytes(fmt="JPEG"), "image/jpeg", Facts("o.jpg", edit=False))
    [item] = seed_images(studio.store, studio.archive, "a signed fox", pictures=(signed,))

    download = client.get(
        studio.service.gallery.image_link(item.image, "download", "local")
    ).content
    [zipped] = _zipped(
        client.get(studio.service.gallery.zip_link([item.image.id], "local")).content
    )

    assert studio.service.gallery.original(item.image) == signed  # never rewritten in place
    for data in (download, zipped):
        read = read_credentials(data, "image/jpeg")
        assert read.valid_but_untrusted, (read.state, read.failures, read.ingredient_failures)
        assert read.action_names == ["c2pa.opened", "c2pa.edited.metadata"]
        [parent] = read.manifest["ingredients"]
        assert parent["relationship"] == "parentOf"
        assert b"a signed fox" in data  # the prompt is in the file too


def test_with_content_credentials_off_downloads_carry_none(tmp_path: Path) -> None:
    settings = Settings(
        foxapi_api_key="sk-unused",
        studio_data_dir=tmp_path / "data",
        studio_url_secret=SECRET,
        studio_c2pa=False,
    )
    studio = open_studio(settings, start=False)
    try:
        [item] = seed_images(studio.store, studio.archive, "a quiet fox")
        client = TestClient(Starlette(routes=web.routes(lambda: studio.service)))
        data = client.get(
            studio.service.gallery.image_link(item.image, "download", "local")
        ).content
    finally:
        studio.close()
    assert studio.service.gallery.content_credentials_issuer is None
    assert not has_manifest(data, "image/png")
    assert b"a quiet fox" in data


def _zipped(body: bytes) -> list[bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        assert all(entry["content_credentials"] for entry in manifest["files"])
        return [bundle.read(entry["file"]) for entry in manifest["files"]]


# Who may see what: every route serves its viewer's images and jobs, no one else's ------

ALICE_PERSON = Person("sub-alice", "alice@example.com", "Alice")
BOB_PERSON = Person("sub-bob", "bob@example.com", "Bob")
KINDS = ("thumb", "original", "download")


def private_studio(tmp_path: Path, database_url: str) -> Runtime:
    settings = Settings(
        foxapi_api_key="sk-unused",
        foxapi_base_url="http://127.0.0.1:9",
        studio_data_dir=tmp_path / "data",
        studio_database_url=database_url,
        studio_url_secret=SECRET,
        studio_private_galleries=True,
    )
    return open_studio(settings, start=False)


@pytest.fixture
def private(tmp_path: Path) -> Iterator[Runtime]:
    opened = private_studio(tmp_path, f"sqlite:///{tmp_path / 'private.db'}")
    yield opened
    opened.close()


def test_two_people_with_private_galleries_see_nothing_of_each_others(private: Runtime) -> None:
    client = TestClient(Starlette(routes=web.routes(lambda: private.service)))
    store, archive = private.store, private.archive
    [picture] = seed_images(store, archive, "alice's fox", owner=ALICE)
    sweep = JobOrigin(batch_id="b" * 32)
    running = seed_job(store, "alice's owl being drawn", progress=30, owner=ALICE, origin=sweep)
    asset = store.gallery.add_input_asset(archive.save_input(image_bytes(size=(40, 30))))
    uses = JobOrigin(inputs=(InputSource(InputKind.UPLOAD, asset.id),))
    seed_job(store, "alice's edit", status=JobStatus.FAILED, owner=ALICE, origin=uses)
    alice, bob = private.service.for_person(ALICE_PERSON), private.service.for_person(BOB_PERSON)

    def signed_links(viewer: Person) -> dict[str, str]:
        signer = private.service.signer
        zip_of = links.zip_path([picture.image.id], links.zip_digest([picture.image.sha256]))
        return {
            **{
                kind: private.service.gallery.image_link(picture.image, kind, viewer.viewer)
                for kind in KINDS
            },
            "input": private.service.gallery.input_link(asset, "original", viewer.viewer),
            "zip": signer.sign(zip_of, viewer.viewer),
            "progress of the job": private.service.jobs.progress_link([running.id], viewer.viewer),
        }

    for route, link in signed_links(BOB_PERSON).items():
        answer = client.get(link)
        if route.startswith("progress"):
            assert answer.json() == [], route
        else:
            assert answer.status_code == 404, route
            assert "not yours to see" in answer.text or "no longer kept" in answer.text
    assert client.get(bob.jobs.progress_link(None, BOB_PERSON.viewer)).json() == []
    assert bob.gallery.zip_link([picture.image.id], BOB_PERSON.viewer).startswith("/api/zip//")
    assert bob.gallery.gallery_count(GalleryFilter()) == 0 and bob.jobs.count_in_flight() == 0
    assert bob.gallery.input_asset(asset.id) is None and bob.gallery.image(picture.image.id) is None
    assert bob.gallery.saved_images(picture.job.id) == [] and bob.jobs.batch("b" * 32) == []

    # The same routes serve Alice everything of hers.
    for route, link in signed_links(ALICE_PERSON).items():
        assert client.get(link).status_code == 200, route
    everything = client.get(alice.jobs.progress_link(None, ALICE_PERSON.viewer)).json()
    assert [job["id"] for job in everything] == [running.id]
    assert alice.gallery.gallery_count(GalleryFilter()) == 1 and alice.jobs.count_in_flight() == 1
    assert alice.gallery.saved_images(picture.job.id) == [picture.image]
    assert alice.jobs.batch("b" * 32) == [running]
    # An admin's links see everyone's, as the admin's pages do.
    boss = Person("sub-boss", "boss@example.com", "Boss", admin=True)
    for route, link in signed_links(boss).items():
        assert client.get(link).status_code == 200, route


def test_a_deleted_images_link_answers_404_after_another_persons_image_is_stored(
    tmp_path: Path, database_url: str
) -> None:
    opened = private_studio(tmp_path, database_url)
    try:
        client = TestClient(Starlette(routes=web.routes(lambda: opened.service)))
        alice = opened.service.for_person(ALICE_PERSON)
        [picture] = seed_images(opened.store, opened.archive, "alice's private fox", owner=ALICE)
        made = {
            kind: alice.gallery.image_link(picture.image, kind, ALICE_PERSON.viewer)
            for kind in KINDS
        }
        assert all(client.get(link).status_code == 200 for link in made.values())
        alice.gallery.trash.move([picture.image.id])
        assert alice.gallery.trash.delete_for_good() == 1

        [bobs] = seed_images(opened.store, opened.archive, "bob's private heron", owner=BOB)

        assert bobs.image.id > picture.image.id  # ids are never reused
        for kind, link in made.items():
            answer = client.get(link)
            assert answer.status_code == 404, kind
            assert answer.text == web.GONE
    finally:
        opened.close()


def test_a_link_serves_only_the_picture_it_was_made_for(
    studio: Runtime, client: TestClient
) -> None:
    first, second = seed_images(studio.store, studio.archive, "two herons", count=2)
    signer = studio.service.signer
    for kind in KINDS:
        # The first image's id with the second's content: as if the id had been reused.
        path = links.image_path(kind, first.image.id, second.image.sha256 or "", "png")
        assert client.get(signer.sign(path, "local")).status_code == 404, kind
    stale = links.zip_path([first.image.id], links.zip_digest([second.image.sha256]))
    assert client.get(signer.sign(stale, "local")).status_code == 404


def test_a_zip_naming_a_deleted_image_answers_404_with_a_sentence(
    studio: Runtime, client: TestClient
) -> None:
    items = seed_images(studio.store, studio.archive, "three wrens", count=3)
    link = studio.service.gallery.zip_link([item.image.id for item in items], "local")
    trash = studio.service.gallery.trash
    trash.move([items[1].image.id])
    assert trash.delete_for_good() == 1

    answer = client.get(link)

    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text == web.ZIP_GONE


def test_every_answer_says_nosniff_and_runs_nothing(studio: Runtime, client: TestClient) -> None:
    [item] = seed_images(studio.store, studio.archive, "an original served byte for byte")
    asset = studio.store.gallery.add_input_asset(studio.archive.save_input(image_bytes()))
    answers = [
        *(
            client.get(studio.service.gallery.image_link(item.image, kind, "local"))
            for kind in KINDS
        ),
        client.get(
            studio.service.gallery.input_link(asset, "thumb", "local")
        ),  # 404: no job uses it
        client.get(studio.service.gallery.zip_link([item.image.id], "local")),
        client.get(studio.service.jobs.progress_link(None, "local")),
        client.get(links.progress_path(None)),  # 403: unsigned
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 404, 200, 200, 403]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-security-policy"] == "default-src 'none'; sandbox"


def test_an_image_in_the_trash_serves_its_thumbnail_to_whoever_may_restore_it_alone(
    tmp_path: Path,
) -> None:
    opened = private_studio(tmp_path, f"sqlite:///{tmp_path / 'studio.db'}")
    try:
        client = TestClient(Starlette(routes=web.routes(lambda: opened.service)))
        alice = opened.service.for_person(ALICE_PERSON)
        bob = opened.service.for_person(BOB_PERSON)
        [picture] = seed_images(opened.store, opened.archive, "alice's trashed fox", owner=ALICE)
        alice.gallery.trash.move([picture.image.id])

        for kind in KINDS:
            link = alice.gallery.image_link(picture.image, kind, ALICE_PERSON.viewer)
            assert client.get(link).status_code == (200 if kind == "thumb" else 404), kind
        bobs_link = bob.gallery.image_link(picture.image, "thumb", BOB_PERSON.viewer)
        assert client.get(bobs_link).status_code == 404
    finally:
        opened.close()
