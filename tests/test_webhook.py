"""studio.webhook: the operator's webhook hears of finished reviews and sweeps, once each,
in the background, through the fetch policy; a loopback server stands in for Slack."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from studio.boards.review import Review
from studio.emulator import RunningEmulator
from studio.fetch import FetchPolicy
from studio.runtime import Runtime, open_studio
from studio.settings import Settings
from studio.webhook import ATTEMPTS, Webhook, slack_text
from tests.app_support import seed_images
from tests.conftest import EMULATOR_KEY
from tests.service_support import wait_for


class Receiver:
    """A webhook on 127.0.0.1 that keeps each JSON body POSTed to it; `hold` keeps its
    answers back until set, to show that nobody waits for them."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, object]] = []
        self.hold = threading.Event()
        self.hold.set()
        bodies, hold = self.bodies, self.hold

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                bodies.append(json.loads(self.rfile.read(length)))
                hold.wait(10)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/T000/secret"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def texts(self, count: int, timeout: float = 10.0) -> list[str]:
        """The texts received, once there are `count` (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while len(self.bodies) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return [str(body["text"]) for body in self.bodies]

    def stop(self) -> None:
        self.hold.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture
def studio(tmp_path: Path, receiver: Receiver, emulator: RunningEmulator) -> Iterator[Runtime]:
    settings = Settings(
        foxapi_api_key=EMULATOR_KEY,
        foxapi_base_url=emulator.base_url,
        studio_data_dir=tmp_path / "data",
        studio_webhook_url=receiver.url,  # loopback: allowed because the operator named it
    )
    opened = open_studio(settings)
    yield opened
    opened.close()


def test_each_finished_review_reaches_the_webhook_once_and_nobody_waits_for_it(
    studio: Runtime, receiver: Receiver
) -> None:
    service = studio.service
    ids = [seed_images(studio.store, studio.archive, p)[0].image.id for p in ("a fox", "a heron")]
    board = service.boards.create_board("Harbour <!channel> picks", ids)
    _link, token = service.boards.share_board(board.id, label="Acme")
    review = service.boards.open_review(token)
    assert isinstance(review, Review)
    review.vote("Jane", ids[0], "approve")
    review.vote("Jane", ids[1], "changes")

    receiver.hold.clear()  # the webhook answers only when the test says so
    started = time.monotonic()
    review.finish("Jane")
    took = time.monotonic() - started
    assert receiver.texts(1) == [
        "Jane finished reviewing “Harbour &lt;!channel&gt; picks” (via Acme): "
        "1 approved, 1 to change."
    ]
    assert took < 5  # returned at once: the answer is held for 10 s
    receiver.hold.set()

    review.finish("Jane")  # pressed again with nothing changed: no second message
    review.finish("Max")  # another reviewer's own review: one message more
    assert len(receiver.texts(2)) == 2
    review.vote("Jane", ids[1], "approve")  # she changed her mind, then sent it again
    review.finish("Jane")
    assert receiver.texts(3)[2].endswith("2 approved, 0 to change.")
    studio.close()  # sends what is queued, then stops
    assert len(receiver.bodies) == 3


def test_a_sweep_is_announced_once_when_its_last_job_finishes(
    studio: Runtime, receiver: Receiver
) -> None:
    service = studio.service
    sweep = service.jobs.sweep(
        prompt="a {red|blue} fox", aspect_ratios=["1:1"], num_outputs=1, output_format=None
    )
    result = service.jobs.send_sweep(sweep, service.jobs.server_credentials)
    for job in result.jobs:
        wait_for(service, job.id)
    assert receiver.texts(1) == ["A sweep of 2 jobs finished: 2 done. “a red fox”"]
    single = service.jobs.send(
        service.jobs.generation(
            prompt="a lone owl", num_outputs=1, aspect_ratio="1:1", output_format="png"
        ),
        service.jobs.server_credentials,
    )
    wait_for(service, single.id)
    studio.close()
    assert len(receiver.bodies) == 1  # a job of no sweep says nothing


def counting_transport(*answers: type[Exception] | int) -> tuple[httpx.MockTransport, list[int]]:
    """A transport answering each POST with the next of `answers`: an exception raised
    (a connection that failed) or a status code; and the list of POSTs it saw."""
    seen: list[int] = []
    queue = list(answers)

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(1)
        step = queue.pop(0)
        if isinstance(step, int):
            return httpx.Response(step)
        raise step("no connection", request=request)

    return httpx.MockTransport(answer), seen


@pytest.mark.parametrize(
    ("answers", "posts"),
    [
        # The connection never opened: nothing arrived, so it is tried again (bounded).
        ((httpx.ConnectError, httpx.ConnectTimeout, 200), 3),
        ((httpx.ConnectError,) * ATTEMPTS, ATTEMPTS),
        # Anything may have arrived: never resent.
        ((httpx.ReadTimeout,), 1),
        ((httpx.RemoteProtocolError,), 1),
        ((500,), 1),
        ((429,), 1),
    ],
    ids=["refused-then-up", "never-up", "read-timeout", "cut-off", "server-error", "busy"],
)
def test_a_message_is_sent_again_only_when_it_certainly_did_not_arrive(
    answers: tuple[type[Exception] | int, ...], posts: int
) -> None:
    transport, seen = counting_transport(*answers)
    webhook = Webhook(
        "https://hooks.example.com/services/T0/B0/secret",
        FetchPolicy.defaults(),
        transport=transport,
        sleep=lambda _seconds: None,
    )
    webhook.send("Jane finished reviewing")
    webhook.close()
    assert len(seen) == posts


def test_the_url_goes_to_its_own_host_only_and_is_never_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hosts: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest"})

    webhook = Webhook(
        "https://hooks.example.com/services/T0/B0/secret",
        FetchPolicy.defaults(),
        transport=httpx.MockTransport(answer),
    )
    webhook.send("hello")
    webhook.close()
    assert hosts == ["hooks.example.com"]  # the redirect is not followed
    assert "secret" not in caplog.text and "hooks.example.com answered 302" in caplog.text


def test_text_is_escaped_as_slack_reads_it() -> None:
    assert slack_text("<!here> & <https://x|y>") == "&lt;!here&gt; &amp; &lt;https://x|y&gt;"
