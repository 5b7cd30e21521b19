"""What the FoxAPI client tests share: a scripted upstream (httpx.MockTransport), its
answers, and clients over it that sleep into a list instead of waiting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from studio.fetch import FetchPolicy
from studio.jobs.foxapi import FoxAPIClient
from studio.request import GenerationRequest

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


def public_resolver(host: str, port: int) -> list[str]:
    """Every name resolves to one public address; MockTransport answers, nothing connects."""
    return [PUBLIC_ADDRESS]


def connector(sleeps: list[float]) -> Callable[..., FoxAPIClient]:
    """Makes clients over a FakeUpstream that sleep into `sleeps` instead of waiting."""

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
