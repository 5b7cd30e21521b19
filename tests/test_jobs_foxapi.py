"""The FoxAPI client against a scripted upstream (httpx.MockTransport), with a fake sleep:
submitting, polling, uploading and downloading, FoxAPI's answers as typed errors, and the
key kept secret."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
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
from studio.jobs.foxapi import (
    FoxAPIClient,
    UploadedFile,
)
from studio.task import TaskStatus
from tests.foxapi_support import (
    API_KEY,
    BASE_URL,
    GENERATION,
    PENDING_TASK,
    PNG_BYTES,
    PUBLIC_ADDRESS,
    RESULT_URL,
    TASK_ID,
    UPLOADED,
    Answer,
    FakeUpstream,
    answer_json,
    foxapi_error,
    image,
)

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
