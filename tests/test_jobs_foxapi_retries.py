"""The FoxAPI client's retries against a scripted upstream, with a fake sleep: a POST is
never sent again once it may have arrived, a poll rides out trouble with backoff, and
Retry-After is obeyed up to its cap."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from studio.errors import (
    ConnectionFailed,
    FoxAPIError,
    RateLimited,
    RequestTimedOut,
    ServerError,
    UnexpectedResponse,
)
from studio.fetch import parse_retry_after
from studio.jobs.foxapi import (
    BACKOFF_BASE,
    BACKOFF_JITTER,
    FoxAPIClient,
)
from studio.jobs.ratelimit import Priority, RateLimiter
from tests.foxapi_support import (
    GENERATION,
    PENDING_TASK,
    PNG_BYTES,
    RESULT_URL,
    TASK_ID,
    UPLOADED,
    Answer,
    FakeUpstream,
    answer_json,
    foxapi_error,
    image,
)


def body_without_boundary(request: httpx.Request) -> bytes:
    """The request body with any multipart boundary (random per request) blanked out."""
    _, _, boundary = request.headers["content-type"].partition("boundary=")
    return request.content.replace(boundary.encode(), b"") if boundary else request.content


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
