"""The FoxAPI client against a scripted upstream (httpx.MockTransport), with a fake sleep."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from studio.errors import (
    BadRequest,
    ConnectionFailed,
    DownloadFailed,
    Forbidden,
    FoxAPIError,
    InsufficientBalance,
    InvalidInput,
    NotAnImage,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    RequestTimedOut,
    ResultExpired,
    ServerError,
    Unauthorized,
    UnexpectedResponse,
)
from studio.fetch import FetchPolicy, parse_retry_after
from studio.foxapi import (
    BACKOFF_BASE,
    BACKOFF_JITTER,
    FoxAPIClient,
    UploadedFile,
)
from studio.ratelimit import Priority, RateLimiter
from studio.request import GenerationRequest
from studio.task import TaskStatus

API_KEY = "sk-secret-123"
BASE_URL = "https://api.foxapi.test"
RESULT_URL = "https://cdn.foxapi.test/results/task-1-0.png"
TASK_ID = "task-unified-1757165031-uyujaw3d"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"pixels" * 10
PUBLIC_ADDRESS = "93.184.215.14"

PENDING_TASK = {
    "created": 1757165031,
    "id": TASK_ID,
    "model": "grok-imagine-image",
    "object": "image.generation.task",
    "progress": 0,
    "status": "pending",
    "task_info": {"can_cancel": True, "estimated_time": 45},
    "type": "image",
}
UPLOADED = {
    "id": "file-abc123",
    "filename": "cat.png",
    "url": "https://cdn.foxapi.test/uploads/cat.png",
    "size": 204800,
    "created": 1757165031,
}
GENERATION = GenerationRequest.build(prompt="a red fox in snow", num_outputs=2, aspect_ratio="16:9")

Answer = httpx.Response | type[httpx.TransportError] | Callable[[httpx.Request], httpx.Response]


class FakeUpstream:
    """Answers requests from a script, in order (the last answer repeats), recording each."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, type):
            raise answer("simulated network failure", request=request)
        if isinstance(answer, httpx.Response):
            # A fresh copy each time, so a repeated answer can be read again.
            return httpx.Response(
                answer.status_code, headers=answer.headers, content=answer.content
            )
        return answer(request)


def answer_json(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def foxapi_error(status: int, message: str, code: str | None = None) -> httpx.Response:
    error: dict[str, str] = {"message": message, "type": "invalid_request_error"}
    if code is not None:
        error["code"] = code
    return answer_json(status, {"error": error})


def image(content: bytes = PNG_BYTES, content_type: str = "image/png") -> httpx.Response:
    return httpx.Response(200, content=content, headers={"content-type": content_type})


def body_without_boundary(request: httpx.Request) -> bytes:
    """The request body with any multipart boundary (random per request) blanked out."""
    _, _, boundary = request.headers["content-type"].partition("boundary=")
    return request.content.replace(boundary.encode(), b"") if boundary else request.content


@pytest.fixture
def sleeps() -> list[float]:
    return []


def public_resolver(host: str, port: int) -> list[str]:
    """Every name resolves to one public address; MockTransport answers, nothing connects."""
    return [PUBLIC_ADDRESS]


@pytest.fixture
def connect(sleeps: list[float]) -> Callable[..., FoxAPIClient]:
    def make(
        upstream: FakeUpstream,
        api_key: str = API_KEY,
        max_download_bytes: int = 50 * 1024 * 1024,
        **options: Any,
    ) -> FoxAPIClient:
        policy = FetchPolicy(
            deadline_seconds=60, max_bytes=max_download_bytes, resolver=public_resolver
        )
        return FoxAPIClient(
            api_key,
            options.pop("base_url", BASE_URL),
            transport=httpx.MockTransport(upstream),
            sleep=sleeps.append,
            fetch_policy=policy,
            **options,
        )

    return make


# Submitting, polling, uploading


def test_submit_posts_the_exact_body_with_the_key_and_returns_the_pending_task(
    connect: Callable[..., FoxAPIClient],
) -> None:
    upstream = FakeUpstream(answer_json(200, PENDING_TASK))
    task = connect(upstream).submit(GENERATION)

    (request,) = upstream.requests
    assert request.method == "POST"
    assert str(request.url) == f"{BASE_URL}/v1/images/generations"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert json.loads(request.content) == GENERATION.body()
    assert task.id == TASK_ID
    assert task.status is TaskStatus.PENDING
    assert task.estimated_time == 45
    assert not (task.succeeded or task.failed)


def test_a_pasted_key_with_surrounding_whitespace_is_sent_trimmed(
    connect: Callable[..., FoxAPIClient],
) -> None:
    upstream = FakeUpstream(answer_json(200, PENDING_TASK))
    connect(upstream, api_key=f"  {API_KEY}\n").get_task(TASK_ID)
    assert upstream.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_a_base_url_with_a_trailing_slash_still_reaches_the_api(
    connect: Callable[..., FoxAPIClient],
) -> None:
    upstream = FakeUpstream(answer_json(200, PENDING_TASK))
    connect(upstream, base_url=f"{BASE_URL}/").get_task(TASK_ID)
    assert str(upstream.requests[0].url) == f"{BASE_URL}/v1/tasks/{TASK_ID}"


@pytest.mark.parametrize("base_url", ["api.foxapi.cc", "ftp://api.foxapi.cc", ""])
def test_a_base_url_that_is_not_a_web_address_is_refused(base_url: str) -> None:
    with pytest.raises(ValueError, match="not a FoxAPI address"):
        FoxAPIClient(API_KEY, base_url)


def test_current_shape_completed_task_has_its_result_urls(
    connect: Callable[..., FoxAPIClient],
) -> None:
    body = {
        "id": TASK_ID,
        "status": "completed",
        "progress": 100,
        "results": [{"url": RESULT_URL}, {"url": "https://cdn.foxapi.test/results/task-1-1.png"}],
        "usage": {"credits_reserved": 2, "user_group": "default"},
    }
    upstream = FakeUpstream(answer_json(200, body))
    task = connect(upstream).get_task(TASK_ID)

    (request,) = upstream.requests
    assert request.method == "GET"
    assert str(request.url) == f"{BASE_URL}/v1/tasks/{TASK_ID}"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert task.succeeded
    assert task.result_urls == (RESULT_URL, "https://cdn.foxapi.test/results/task-1-1.png")
    assert task.credits_reserved == 2


@pytest.mark.parametrize(
    ("output", "urls"),
    [
        ({"url": RESULT_URL, "urls": [RESULT_URL, "https://cdn.foxapi.test/b.png"]}, 2),
        ({"url": RESULT_URL, "width": 1024, "height": 1024}, 1),
    ],
)
def test_older_shape_completed_task_has_its_result_urls(
    connect: Callable[..., FoxAPIClient], output: dict[str, Any], urls: int
) -> None:
    body = {"id": TASK_ID, "status": "completed", "progress": 100, "output": output}
    task = connect(FakeUpstream(answer_json(200, body))).get_task(TASK_ID)
    assert task.succeeded
    assert task.result_urls[0] == RESULT_URL
    assert len(task.result_urls) == urls


def test_completed_without_results_yet_is_not_final(connect: Callable[..., FoxAPIClient]) -> None:
    body = {"id": TASK_ID, "status": "completed", "progress": 90, "results": None}
    task = connect(FakeUpstream(answer_json(200, body))).get_task(TASK_ID)
    assert task.status is TaskStatus.COMPLETED
    assert not (task.succeeded or task.failed)


def test_a_failed_task_carries_foxapis_reason(connect: Callable[..., FoxAPIClient]) -> None:
    body = {
        "id": TASK_ID,
        "status": "failed",
        "error": {"code": "generation_failed", "message": "Content policy", "type": "task_error"},
    }
    task = connect(FakeUpstream(answer_json(200, body))).get_task(TASK_ID)
    assert task.failed
    assert (task.error_code, task.error_message) == ("generation_failed", "Content policy")


def test_a_task_id_cannot_reach_another_path(connect: Callable[..., FoxAPIClient]) -> None:
    upstream = FakeUpstream(answer_json(200, PENDING_TASK))
    connect(upstream).get_task("../files/x?y")
    assert upstream.requests[0].url.raw_path == b"/v1/tasks/..%2Ffiles%2Fx%3Fy"


def test_upload_sends_the_file_as_multipart_and_returns_its_link(
    connect: Callable[..., FoxAPIClient],
) -> None:
    upstream = FakeUpstream(answer_json(200, UPLOADED))
    uploaded = connect(upstream).upload(PNG_BYTES, "cat.png", "image/png")

    (request,) = upstream.requests
    assert request.method == "POST"
    assert str(request.url) == f"{BASE_URL}/v1/files/upload/stream"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["content-type"].startswith("multipart/form-data")
    body = request.content
    assert b'name="file"; filename="cat.png"' in body
    assert b"Content-Type: image/png" in body
    assert PNG_BYTES in body
    assert b'name="file_name"\r\n\r\ncat.png' in body
    assert uploaded == UploadedFile(
        id="file-abc123",
        url="https://cdn.foxapi.test/uploads/cat.png",
        filename="cat.png",
        size=204800,
        created=1757165031,
    )


@pytest.mark.parametrize(
    "answer",
    [
        answer_json(200, {"filename": "cat.png"}),
        answer_json(200, {"id": "file-1", "url": "uploads/cat.png"}),
        answer_json(200, ["file-1"]),
        httpx.Response(200, text="<html>ok</html>"),
    ],
    ids=["no id", "relative url", "not an object", "not json"],
)
def test_an_upload_answer_without_a_usable_link_is_unexpected(
    connect: Callable[..., FoxAPIClient], answer: httpx.Response
) -> None:
    upstream = FakeUpstream(answer)
    with pytest.raises(UnexpectedResponse):
        connect(upstream).upload(PNG_BYTES, "cat.png", "image/png")
    assert len(upstream.requests) == 1


# Statuses into typed errors

STATUS_TABLE = [
    (400, BadRequest, "This is a bug in the studio"),
    (401, Unauthorized, "FoxAPI did not accept the API key. Check it and enter it again."),
    (
        402,
        InsufficientBalance,
        "Your FoxAPI balance is too low for this request. Top up your account, then try again.",
    ),
    (403, Forbidden, "FoxAPI refused this request (403)."),
    (404, NotFound, "FoxAPI does not know the address /v1/images/generations"),
    (429, RateLimited, "FoxAPI is busy (rate limited)."),
    (500, ServerError, "FoxAPI had a server problem (500)."),
    (502, ServerError, "FoxAPI had a server problem (502)."),
    (503, ServerError, "FoxAPI had a server problem (503)."),
    (418, UnexpectedResponse, "a status the studio does not expect (418)"),
]


@pytest.mark.parametrize(("status", "error_class", "sentence"), STATUS_TABLE)
def test_each_status_becomes_its_error_with_foxapis_words(
    connect: Callable[..., FoxAPIClient],
    status: int,
    error_class: type[FoxAPIError],
    sentence: str,
) -> None:
    upstream = FakeUpstream(foxapi_error(status, "Something specific.", code="some_code"))
    with pytest.raises(error_class) as caught:
        connect(upstream).submit(GENERATION)
    error = caught.value
    assert type(error) is error_class
    assert sentence in error.message
    assert "FoxAPI said: “Something specific.”" in error.message
    assert (error.status, error.code, error.detail) == (status, "some_code", "Something specific.")


def test_the_error_type_stands_in_when_foxapi_gives_no_code(
    connect: Callable[..., FoxAPIClient],
) -> None:
    with pytest.raises(InsufficientBalance) as caught:
        connect(FakeUpstream(foxapi_error(402, "Quota exceeded"))).submit(GENERATION)
    assert caught.value.code == "invalid_request_error"


def test_an_unknown_task_reads_as_a_lost_task(connect: Callable[..., FoxAPIClient]) -> None:
    upstream = FakeUpstream(foxapi_error(404, "task not found", code="not_found"))
    with pytest.raises(NotFound, match="FoxAPI has no record of this task"):
        connect(upstream).get_task(TASK_ID)
    assert len(upstream.requests) == 1


def test_invalid_input_shows_foxapis_message_as_is(connect: Callable[..., FoxAPIClient]) -> None:
    said = "aspect_ratio: must be one of 2:1, 16:9, 1:1"
    upstream = FakeUpstream(foxapi_error(422, said, code="invalid_value"))
    with pytest.raises(InvalidInput) as caught:
        connect(upstream).submit(GENERATION)
    assert caught.value.message == said
    assert str(caught.value) == said


def test_an_html_413_from_the_edge_reads_as_too_large(connect: Callable[..., FoxAPIClient]) -> None:
    page = "<html><body><h1>413 Request Entity Too Large</h1></body></html>"
    upstream = FakeUpstream(httpx.Response(413, text=page, headers={"content-type": "text/html"}))
    with pytest.raises(PayloadTooLarge) as caught:
        connect(upstream).upload(b"x" * 1000, "huge.png", "image/png")
    assert "too large" in caught.value.message
    assert "<" not in caught.value.message
    assert caught.value.status == 413
    assert caught.value.detail is not None
    assert "413 Request Entity Too Large" in caught.value.detail


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, content=b"\xff\xfe{"),
        answer_json(200, ["not", "a", "task"]),
        answer_json(200, {"status": "pending"}),
        answer_json(200, {"id": TASK_ID, "status": "exploded"}),
    ],
    ids=["html", "bytes", "list", "no id", "unknown status"],
)
def test_a_success_answer_that_is_not_a_task_is_unexpected(
    connect: Callable[..., FoxAPIClient], answer: httpx.Response
) -> None:
    upstream = FakeUpstream(answer)
    with pytest.raises(UnexpectedResponse):
        connect(upstream).get_task(TASK_ID)
    with pytest.raises(UnexpectedResponse):
        connect(upstream).submit(GENERATION)
    # Neither is retried: the answer arrived, it was just not one the contract describes.
    assert len(upstream.requests) == 2


# Network failures


def test_no_connection_names_the_host(connect: Callable[..., FoxAPIClient]) -> None:
    upstream = FakeUpstream(httpx.ConnectError)
    with pytest.raises(ConnectionFailed) as caught:
        connect(upstream).get_task(TASK_ID)
    assert caught.value.message == (
        "Could not reach FoxAPI at api.foxapi.test. Check your network connection."
    )
    assert not caught.value.may_have_arrived


@pytest.mark.parametrize(
    ("failure", "error_class", "may_have_arrived"),
    [
        (httpx.ConnectError, ConnectionFailed, False),
        (httpx.ConnectTimeout, ConnectionFailed, False),
        (httpx.PoolTimeout, ConnectionFailed, False),
        (httpx.ReadTimeout, RequestTimedOut, True),
        (httpx.WriteTimeout, RequestTimedOut, True),
        (httpx.RemoteProtocolError, RequestTimedOut, True),
        (httpx.ReadError, RequestTimedOut, True),
    ],
)
def test_network_failures_say_whether_the_request_may_have_arrived(
    connect: Callable[..., FoxAPIClient],
    failure: type[httpx.TransportError],
    error_class: type[FoxAPIError],
    may_have_arrived: bool,
) -> None:
    with pytest.raises(error_class) as caught:
        connect(FakeUpstream(failure)).get_task(TASK_ID)
    assert type(caught.value) is error_class
    assert caught.value.may_have_arrived is may_have_arrived
    assert "api.foxapi.test" in caught.value.message


# The generation and upload POSTs: never resent once they may have arrived

POSTS = [
    pytest.param(lambda client: client.submit(GENERATION), PENDING_TASK, id="submit"),
    pytest.param(
        lambda client: client.upload(PNG_BYTES, "cat.png", "image/png"), UPLOADED, id="upload"
    ),
]


@pytest.mark.parametrize(("post", "success"), POSTS)
@pytest.mark.parametrize(
    ("first_answer", "error_class"),
    [
        (httpx.ReadTimeout, RequestTimedOut),
        (httpx.WriteTimeout, RequestTimedOut),
        (httpx.RemoteProtocolError, RequestTimedOut),
        (foxapi_error(502, "Bad gateway"), ServerError),
        (foxapi_error(500, "Internal error"), ServerError),
        (foxapi_error(503, "No channel available"), ServerError),
        (httpx.Response(200, text="not json"), UnexpectedResponse),
    ],
    ids=["read timeout", "write timeout", "dropped", "502", "500", "503", "garbled 200"],
)
def test_a_post_that_may_have_arrived_is_sent_exactly_once(
    connect: Callable[..., FoxAPIClient],
    sleeps: list[float],
    post: Callable[[FoxAPIClient], object],
    success: dict[str, Any],
    first_answer: Answer,
    error_class: type[FoxAPIError],
) -> None:
    upstream = FakeUpstream(first_answer, answer_json(200, success))
    with pytest.raises(error_class):
        post(connect(upstream))
    assert len(upstream.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize(("post", "success"), POSTS)
def test_a_rate_limited_post_is_sent_again_after_retry_after(
    connect: Callable[..., FoxAPIClient],
    sleeps: list[float],
    post: Callable[[FoxAPIClient], object],
    success: dict[str, Any],
) -> None:
    busy = foxapi_error(429, "Too many requests")
    busy.headers["Retry-After"] = "2"
    upstream = FakeUpstream(busy, answer_json(200, success))
    assert post(connect(upstream)) is not None
    assert len(upstream.requests) == 2
    assert body_without_boundary(upstream.requests[0]) == body_without_boundary(
        upstream.requests[1]
    )
    assert sleeps == [2.0]


@pytest.mark.parametrize(("post", "success"), POSTS)
@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout])
def test_a_post_that_never_connected_is_sent_again(
    connect: Callable[..., FoxAPIClient],
    post: Callable[[FoxAPIClient], object],
    success: dict[str, Any],
    failure: type[httpx.TransportError],
) -> None:
    upstream = FakeUpstream(failure, answer_json(200, success))
    assert post(connect(upstream)) is not None
    assert len(upstream.requests) == 2


@pytest.mark.parametrize(("post", "success"), POSTS)
@pytest.mark.parametrize(
    ("answer", "error_class"),
    [(httpx.ConnectError, ConnectionFailed), (foxapi_error(429, "Slow down"), RateLimited)],
)
def test_a_post_is_retried_at_most_twice(
    connect: Callable[..., FoxAPIClient],
    post: Callable[[FoxAPIClient], object],
    success: dict[str, Any],
    answer: Answer,
    error_class: type[FoxAPIError],
) -> None:
    upstream = FakeUpstream(answer)
    with pytest.raises(error_class):
        post(connect(upstream))
    assert len(upstream.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 402, 403, 422])
def test_a_refused_post_is_not_retried(connect: Callable[..., FoxAPIClient], status: int) -> None:
    upstream = FakeUpstream(foxapi_error(status, "No."), answer_json(200, PENDING_TASK))
    with pytest.raises(FoxAPIError):
        connect(upstream).submit(GENERATION)
    assert len(upstream.requests) == 1


# GET retries


def test_a_poll_rides_out_server_errors_with_growing_backoff(
    connect: Callable[..., FoxAPIClient], sleeps: list[float]
) -> None:
    upstream = FakeUpstream(
        foxapi_error(503, "No channel"),
        httpx.ReadTimeout,
        httpx.ConnectError,
        answer_json(200, PENDING_TASK),
    )
    task = connect(upstream).get_task(TASK_ID)
    assert task.id == TASK_ID
    assert len(upstream.requests) == 4
    assert len(sleeps) == 3
    for retry, wait in enumerate(sleeps):
        assert BACKOFF_BASE * 2**retry <= wait <= BACKOFF_BASE * 2**retry + BACKOFF_JITTER


def test_a_poll_gives_up_after_max_get_attempts(
    connect: Callable[..., FoxAPIClient], sleeps: list[float]
) -> None:
    upstream = FakeUpstream(foxapi_error(502, "Bad gateway"))
    with pytest.raises(ServerError, match=r"\(502\)"):
        connect(upstream, max_get_attempts=3).get_task(TASK_ID)
    assert len(upstream.requests) == 3
    assert len(sleeps) == 2


def test_the_default_is_five_attempts(connect: Callable[..., FoxAPIClient]) -> None:
    upstream = FakeUpstream(httpx.ReadTimeout)
    with pytest.raises(RequestTimedOut):
        connect(upstream).get_task(TASK_ID)
    assert len(upstream.requests) == 5


def test_backoff_never_exceeds_max_retry_wait(
    connect: Callable[..., FoxAPIClient], sleeps: list[float]
) -> None:
    upstream = FakeUpstream(foxapi_error(500, "Oops"))
    with pytest.raises(ServerError):
        connect(upstream, max_get_attempts=8, max_retry_wait=1.5).get_task(TASK_ID)
    assert len(sleeps) == 7
    assert max(sleeps) == 1.5
    assert all(wait <= 1.5 for wait in sleeps)


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 422])
def test_a_poll_is_not_retried_when_retrying_cannot_help(
    connect: Callable[..., FoxAPIClient], status: int
) -> None:
    upstream = FakeUpstream(foxapi_error(status, "No."), answer_json(200, PENDING_TASK))
    with pytest.raises(FoxAPIError):
        connect(upstream).get_task(TASK_ID)
    assert len(upstream.requests) == 1


def test_every_attempt_waits_for_the_limiter_first_and_a_click_goes_ahead(
    connect: Callable[..., FoxAPIClient],
) -> None:
    events: list[str] = []

    class RecordingLimiter(RateLimiter):
        def acquire(self, priority: Priority = Priority.NORMAL) -> None:
            events.append(f"acquire {priority.name.lower()}")

    def recorded(answer: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
        def send(request: httpx.Request) -> httpx.Response:
            events.append(f"send {answer.status_code}")
            return answer

        return send

    upstream = FakeUpstream(
        recorded(foxapi_error(503, "busy")),
        recorded(foxapi_error(429, "slow")),
        recorded(answer_json(200, PENDING_TASK)),
        recorded(foxapi_error(429, "slow")),
        recorded(answer_json(200, PENDING_TASK)),
        recorded(image()),
        recorded(answer_json(200, UPLOADED)),
    )
    client = connect(upstream, limiter=RecordingLimiter(1.0))
    client.get_task(TASK_ID)
    client.submit(GENERATION)
    client.download(RESULT_URL)
    client.upload(PNG_BYTES, "cat.png", "image/png")
    # Polls and downloads queue as usual; a generation POST and an upload (someone just
    # clicked) ask to go ahead of them.
    assert events == [
        "acquire normal",
        "send 503",
        "acquire normal",
        "send 429",
        "acquire normal",
        "send 200",
        "acquire high",
        "send 429",
        "acquire high",
        "send 200",
        "acquire normal",
        "send 200",
        "acquire high",
        "send 200",
    ]


# Retry-After

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("86400", 86400.0),
        (formatdate(NOW + 10, usegmt=True), 10.0),
        (formatdate(NOW + 3600, usegmt=True), 3600.0),
        (formatdate(NOW - 10, usegmt=True), None),
        ("-5", None),
        ("soon", None),
        ("", None),
        (None, None),
        ("inf", None),
        ("nan", None),
        ("1e3", None),
        ("Wed, 99 Foo 2023 07:28:00 GMT", None),
    ],
    ids=[
        "seconds",
        "zero",
        "padded",
        "fractional",
        "too large",
        "date",
        "far date",
        "past date",
        "negative",
        "garbage",
        "empty",
        "missing",
        "inf",
        "nan",
        "exponent",
        "broken date",
    ],
)
def test_retry_after_parsing(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == seconds


@pytest.mark.parametrize(
    ("header", "max_retry_wait", "expected_wait"),
    [
        ("3", 30.0, 3.0),
        ("99999", 30.0, 30.0),
        ("99999", 5.0, 5.0),
        ("Fri, 01 Jan 2100 00:00:00 GMT", 30.0, 30.0),
    ],
    ids=["seconds", "too large", "too large, lower cap", "far-off date"],
)
def test_a_poll_waits_as_long_as_retry_after_says_up_to_the_cap(
    connect: Callable[..., FoxAPIClient],
    sleeps: list[float],
    header: str,
    max_retry_wait: float,
    expected_wait: float,
) -> None:
    upstream = FakeUpstream(
        httpx.Response(429, json={"error": {"message": "slow"}}, headers={"Retry-After": header}),
        answer_json(200, PENDING_TASK),
    )
    connect(upstream, max_retry_wait=max_retry_wait).get_task(TASK_ID)
    assert sleeps == [expected_wait]


@pytest.mark.parametrize("header", ["soon", "-5", "Wed, 21 Oct 2015 07:28:00 GMT", None])
def test_an_unusable_retry_after_falls_back_to_backoff(
    connect: Callable[..., FoxAPIClient], sleeps: list[float], header: str | None
) -> None:
    headers = {"Retry-After": header} if header is not None else {}
    upstream = FakeUpstream(
        httpx.Response(429, json={"error": {"message": "slow"}}, headers=headers),
        answer_json(200, PENDING_TASK),
    )
    connect(upstream).get_task(TASK_ID)
    assert len(sleeps) == 1
    assert BACKOFF_BASE <= sleeps[0] <= BACKOFF_BASE + BACKOFF_JITTER


def test_rate_limited_error_carries_retry_after(connect: Callable[..., FoxAPIClient]) -> None:
    busy = httpx.Response(429, json={"error": {"message": "slow"}}, headers={"Retry-After": "12"})
    with pytest.raises(RateLimited) as caught:
        connect(FakeUpstream(busy), max_get_attempts=1).get_task(TASK_ID)
    assert caught.value.retry_after == 12.0


# Downloads


def test_download_returns_the_image_without_sending_the_key(
    connect: Callable[..., FoxAPIClient],
) -> None:
    upstream = FakeUpstream(image(content_type="image/png; charset=binary"))
    downloaded = connect(upstream).download(RESULT_URL)

    (request,) = upstream.requests
    # Sent to the address that was checked, still naming the host it is for.
    assert request.url.copy_with(host="cdn.foxapi.test") == httpx.URL(RESULT_URL)
    assert request.url.host == PUBLIC_ADDRESS
    assert request.headers["host"] == "cdn.foxapi.test"
    assert request.extensions["sni_hostname"] == "cdn.foxapi.test"
    assert "authorization" not in request.headers
    assert API_KEY not in str(request.headers.raw)
    assert downloaded.content == PNG_BYTES
    assert downloaded.content_type == "image/png"


def test_download_follows_a_redirect_without_the_key(connect: Callable[..., FoxAPIClient]) -> None:
    moved = httpx.Response(302, headers={"location": "https://other-cdn.test/final.png"})
    upstream = FakeUpstream(moved, image())
    assert connect(upstream).download(RESULT_URL).content == PNG_BYTES
    assert [request.headers["host"] for request in upstream.requests] == [
        "cdn.foxapi.test",
        "other-cdn.test",
    ]
    assert all("authorization" not in request.headers for request in upstream.requests)


@pytest.mark.parametrize("status", [403, 404, 410])
def test_a_dead_result_link_reads_as_expired(
    connect: Callable[..., FoxAPIClient], status: int
) -> None:
    upstream = FakeUpstream(httpx.Response(status, text="gone"))
    with pytest.raises(ResultExpired) as caught:
        connect(upstream).download(RESULT_URL)
    assert isinstance(caught.value, DownloadFailed)
    assert caught.value.message.startswith("This image's download link has expired")
    assert caught.value.status == status
    assert len(upstream.requests) == 1


@pytest.mark.parametrize("content_type", ["text/html", "application/json", ""])
def test_a_download_that_is_not_an_image_fails(
    connect: Callable[..., FoxAPIClient], content_type: str
) -> None:
    answer = httpx.Response(200, content=b"<html>login</html>")
    if content_type:
        answer.headers["content-type"] = content_type
    upstream = FakeUpstream(answer)
    with pytest.raises(NotAnImage, match=r"^The result was not an image") as caught:
        connect(upstream).download(RESULT_URL)
    assert not isinstance(caught.value, ResultExpired)
    assert len(upstream.requests) == 1


def counting_body(chunks: int, chunk: bytes, consumed: list[int]) -> Iterator[bytes]:
    for _ in range(chunks):
        consumed.append(1)
        yield chunk


def test_a_download_declared_too_large_is_refused_before_reading(
    connect: Callable[..., FoxAPIClient],
) -> None:
    consumed: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"content-type": "image/png", "content-length": "4000"},
            content=counting_body(1000, b"abcd", consumed),
        )

    with pytest.raises(DownloadFailed, match="larger than"):
        connect(FakeUpstream(answer), max_download_bytes=1000).download(RESULT_URL)
    assert consumed == []


def test_a_download_growing_past_the_cap_is_stopped_while_streaming(
    connect: Callable[..., FoxAPIClient],
) -> None:
    consumed: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"content-type": "image/png"},
            content=counting_body(1000, b"abcd", consumed),
        )

    with pytest.raises(DownloadFailed, match="larger than"):
        connect(FakeUpstream(answer), max_download_bytes=10).download(RESULT_URL)
    assert len(consumed) <= 4


def test_a_download_exactly_at_the_cap_is_kept(connect: Callable[..., FoxAPIClient]) -> None:
    upstream = FakeUpstream(image(content=b"x" * 64))
    client = connect(upstream, max_download_bytes=64)
    assert len(client.download(RESULT_URL).content) == 64


def test_an_empty_download_fails(connect: Callable[..., FoxAPIClient]) -> None:
    with pytest.raises(DownloadFailed, match="empty"):
        connect(FakeUpstream(image(content=b""))).download(RESULT_URL)


def test_a_download_rides_out_a_flaky_host(
    connect: Callable[..., FoxAPIClient], sleeps: list[float]
) -> None:
    upstream = FakeUpstream(httpx.Response(503), httpx.ReadTimeout, image())
    assert connect(upstream).download(RESULT_URL).content == PNG_BYTES
    assert len(upstream.requests) == 3
    assert len(sleeps) == 2


def test_an_unreachable_image_host_is_named(connect: Callable[..., FoxAPIClient]) -> None:
    upstream = FakeUpstream(httpx.ConnectError)
    with pytest.raises(ConnectionFailed) as caught:
        connect(upstream, max_get_attempts=2).download(RESULT_URL)
    assert caught.value.message == (
        "Could not reach the image host cdn.foxapi.test. Check your network connection."
    )
    assert len(upstream.requests) == 2


@pytest.mark.parametrize("url", ["", "results/a.png", "ftp://cdn.foxapi.test/a.png", "https://"])
def test_a_download_link_that_is_not_a_web_address_sends_nothing(
    connect: Callable[..., FoxAPIClient], url: str
) -> None:
    upstream = FakeUpstream(image())
    with pytest.raises(DownloadFailed, match="not a web link"):
        connect(upstream).download(url)
    assert upstream.requests == []


# The API key stays secret


def echo_key(status: int) -> httpx.Response:
    return answer_json(
        status,
        {"error": {"message": f"Invalid token {API_KEY}", "type": "auth", "code": API_KEY}},
        headers={"Retry-After": "1"},
    )


LEAK_SCENARIOS = [
    *[
        pytest.param(lambda client: client.submit(GENERATION), echo_key(status), id=str(status))
        for status in (400, 401, 402, 403, 404, 418, 422, 429, 500, 502)
    ],
    pytest.param(
        lambda client: client.get_task(TASK_ID),
        echo_key(503),
        id="503 poll with retries",
    ),
    pytest.param(
        lambda client: client.upload(PNG_BYTES, "cat.png", "image/png"),
        httpx.Response(413, text=f"<html>Too large for {API_KEY}</html>"),
        id="413 html",
    ),
    pytest.param(
        lambda client: client.get_task(TASK_ID),
        httpx.Response(200, text=f"not json {API_KEY}"),
        id="garbled",
    ),
    *[
        pytest.param(lambda client: client.get_task(TASK_ID), failure, id=failure.__name__)
        for failure in (
            httpx.ConnectError,
            httpx.ConnectTimeout,
            httpx.ReadTimeout,
            httpx.RemoteProtocolError,
        )
    ],
    pytest.param(lambda client: client.submit(GENERATION), httpx.ReadTimeout, id="post timeout"),
    pytest.param(
        lambda client: client.download(RESULT_URL), httpx.Response(404), id="download 404"
    ),
    pytest.param(
        lambda client: client.download(RESULT_URL),
        httpx.Response(200, text=API_KEY),
        id="download not an image",
    ),
]


@pytest.mark.parametrize(("call", "answer"), LEAK_SCENARIOS)
def test_the_key_never_shows_in_errors_or_logs(
    connect: Callable[..., FoxAPIClient],
    caplog: pytest.LogCaptureFixture,
    call: Callable[[FoxAPIClient], object],
    answer: Answer,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = connect(FakeUpstream(answer))
    with pytest.raises(FoxAPIError) as caught:
        call(client)
    error = caught.value
    shown = [str(error), repr(error), error.message, str(error.code), str(error.detail)]
    assert all(API_KEY not in text for text in shown)
    assert API_KEY not in caplog.text
    assert API_KEY not in repr(client)


@pytest.mark.parametrize(
    ("api_key", "sentence"),
    [
        ("", "No FoxAPI key is set"),
        ("   ", "No FoxAPI key is set"),
        ("sk-secret 123", "characters an API key cannot have"),
        ("sk-secret-\n123", "characters an API key cannot have"),
        ("sk-sécret-123", "characters an API key cannot have"),
    ],
)
def test_an_unusable_key_is_refused_before_anything_is_sent(
    connect: Callable[..., FoxAPIClient],
    caplog: pytest.LogCaptureFixture,
    api_key: str,
    sentence: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    upstream = FakeUpstream(answer_json(200, PENDING_TASK))
    client = connect(upstream, api_key=api_key)
    with pytest.raises(Unauthorized, match=sentence) as caught:
        client.submit(GENERATION)
    assert upstream.requests == []
    if api_key.strip():
        assert api_key.strip() not in str(caught.value)
        assert api_key.strip() not in caplog.text


def test_the_client_repr_names_the_address_but_not_the_key() -> None:
    with FoxAPIClient(API_KEY, BASE_URL) as client:
        assert repr(client) == f"FoxAPIClient(base_url='{BASE_URL}')"
