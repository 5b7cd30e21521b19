"""Uploads, and what an edit is drawn from: only the emulator's own files, never a fetch.

The demo backend is reachable by anyone who can type an image address (issue 12): an
address that is not one of its own uploads or results must never be contacted, and
nothing it would have answered (an image, a 404, text, a closed port) may show.
"""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from studio.emulator import RunningEmulator, captions, drawing
from studio.request import RATIO_PIXELS
from studio.task import parse_task
from tests.emulator_support import (  # noqa: F401 (fixtures, used by name)
    client_fixture,
    emulator_fixture,
    fetch_image,
    finish,
    half_black_half_white,
    mean_brightness,
    png_bytes,
    shared_emulator_fixture,
    submit,
    upload,
)


class Canary:
    """A loopback HTTP server that records every request: an image, a 404 and some text."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        image = png_bytes(half_black_half_white((64, 64)))
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                canary.requests.append(self.path)
                bodies = {"/secret.png": (image, "image/png"), "/notes.txt": (b"hi", "text/plain")}
                body, kind = bodies.get(self.path, (b"not found", "text/plain"))
                self.send_response(200 if self.path in bodies else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def canary() -> Iterator[Canary]:
    running = Canary()
    yield running
    running.stop()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/secret.png"


def without_identity(answer: dict[str, Any], task_id: str) -> dict[str, Any]:
    """A task answer with what differs between any two tasks (id, time) taken out."""
    text = httpx.Response(200, json=answer).text.replace(task_id, "TASK")
    shown = httpx.Response(200, content=text).json()
    shown.pop("created")
    return shown


# -- uploads -----------------------------------------------------------------------------


def test_an_uploaded_image_is_served_and_an_edit_is_derived_from_it(
    client: httpx.Client,
) -> None:
    original = png_bytes(half_black_half_white())
    uploaded = client.post(
        "/v1/files/upload/stream",
        files={"file": ("My Photo.png", original, "image/png")},
        data={"auto_cleanup": "true"},
    ).json()

    assert uploaded["id"].startswith("file-")
    assert uploaded["size"] == len(original)
    served = httpx.get(uploaded["url"], trust_env=False)
    assert served.content == original
    assert served.headers["content-type"] == "image/png"

    task_id = submit(
        client, prompt="make it dusk", image_urls=[uploaded["url"]], output_format="png"
    )
    final = finish(client, task_id)
    assert parse_task(final).succeeded
    _, edited = fetch_image(final["results"][0]["url"])

    width, height = RATIO_PIXELS["3:2"]
    assert edited.size == (width, height)
    left = mean_brightness(edited, (0, 0, width // 4, height // 2))
    right = mean_brightness(edited, (width * 3 // 4, 0, width, height // 2))
    assert right - left > 80


def test_base64_and_url_uploads_store_the_same_bytes(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    original = png_bytes(half_black_half_white((64, 64)))
    by_base64 = client.post(
        "/v1/files/upload/base64",
        json={"file_data": base64.b64encode(original).decode(), "file_name": "tile.png"},
    ).json()
    by_url = client.post(
        "/v1/files/upload/url", json={"url": by_base64["url"], "auto_cleanup": False}
    ).json()

    assert by_base64["filename"] == "tile.png"
    assert by_url["id"] != by_base64["id"]
    assert httpx.get(by_url["url"], trust_env=False).content == original
    assert emulator.log[0].body["file_data"].endswith("base64 characters>")


@pytest.mark.parametrize(
    ("route", "body", "named"),
    [
        ("url", {"url": "https://example.com/cat.png"}, "url"),
        ("url", {"url": "http://10.0.0.5/cat.png"}, "url"),
        ("base64", {"file_data": "not base64!"}, "file_data"),
        ("base64", {"file_data": "aGk=", "auto_cleanup": "maybe"}, "auto_cleanup"),
    ],
)
def test_uploads_refuse_what_they_cannot_take(
    client: httpx.Client, route: str, body: dict[str, Any], named: str
) -> None:
    response = client.post(f"/v1/files/upload/{route}", json=body)

    assert response.status_code == 422
    assert named in response.json()["error"]["message"]


def test_a_full_store_refuses_uploads_that_are_not_cleaned_up(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    emulator.config.upload_store_full = True
    files = {"file": ("a.png", png_bytes(half_black_half_white((8, 8))))}

    kept = client.post("/v1/files/upload/stream", files=files, data={"auto_cleanup": "false"})
    cleaned = client.post("/v1/files/upload/stream", files=files)

    assert kept.status_code == 403
    assert cleaned.status_code == 200


# -- edit inputs: the emulator's own files only -----------------------------------------


def test_an_edit_of_one_of_its_own_results_is_derived_from_it(client: httpx.Client) -> None:
    wide = finish(client, submit(client, aspect_ratio="16:9"))["results"][0]["url"]

    edit = finish(client, submit(client, prompt="now in winter", image_urls=[wide]))

    assert parse_task(edit).succeeded
    _, edited = fetch_image(edit["results"][0]["url"])
    assert edited.size == RATIO_PIXELS["16:9"]


def test_an_edit_of_its_own_upload_that_is_no_image_fails_and_says_so(
    client: httpx.Client,
) -> None:
    notes = upload(client, b"just some text", "notes.txt")

    final = finish(client, submit(client, image_urls=[notes["url"]]))

    assert final["status"] == "failed"
    assert "not an image" in final["error"]["message"]


def test_an_edit_naming_an_address_elsewhere_is_drawn_from_a_placeholder(
    client: httpx.Client,
) -> None:
    task_id = submit(client, prompt="make it dusk", image_urls=["https://example.com/cat.png"])

    final = finish(client, task_id)

    assert parse_task(final).succeeded
    response, edited = fetch_image(final["results"][0]["url"])
    size = drawing.result_size(None)
    assert edited.size == size
    placeholder = captions.draw_placeholder(size)
    expected = drawing.draw_edit(placeholder, "make it dusk", 0, size, salt=task_id)
    assert response.content == drawing.encode(expected, None)


def test_an_edit_or_url_upload_naming_another_server_sends_it_nothing(
    client: httpx.Client, canary: Canary
) -> None:
    targets = [canary.url(path) for path in ("/secret.png", "/missing.png", "/notes.txt")]

    edits = [finish(client, submit(client, image_urls=[url])) for url in targets]
    for edit in edits:
        fetch_image(edit["results"][0]["url"])
    copies = [client.post("/v1/files/upload/url", json={"url": url}) for url in targets]

    assert all(parse_task(edit).succeeded for edit in edits)
    assert [copy.status_code for copy in copies] == [422, 422, 422]
    assert canary.requests == []


def test_a_closed_port_and_an_open_one_get_the_same_answers(
    client: httpx.Client, canary: Canary
) -> None:
    targets = {
        "an image": canary.url("/secret.png"),
        "a 404": canary.url("/missing.png"),
        "not an image": canary.url("/notes.txt"),
        "a closed port": closed_port_url(),
    }
    submitted: dict[str, dict[str, Any]] = {}
    finished: dict[str, dict[str, Any]] = {}
    pictures: dict[str, tuple[int, int]] = {}
    copies: dict[str, str] = {}
    for name, url in targets.items():
        answer = client.post(
            "/v1/images/generations",
            json={"model": "grok-imagine-image", "prompt": "p", "image_urls": [url]},
        ).json()
        submitted[name] = without_identity(answer, answer["id"])
        final = finish(client, answer["id"])
        finished[name] = without_identity(final, answer["id"])
        pictures[name] = fetch_image(final["results"][0]["url"])[1].size
        copies[name] = client.post("/v1/files/upload/url", json={"url": url}).text

    for answers in (submitted, finished, pictures, copies):
        assert len({repr(answer) for answer in answers.values()}) == 1, answers
    assert canary.requests == []
