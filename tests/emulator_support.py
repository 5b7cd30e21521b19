"""Helpers for the emulator's tests: one real emulator per module, spoken to over HTTP.

The fixtures are registered under short names (`shared_emulator`, `emulator`, `client`);
a test module imports the `*_fixture` functions to use them. `emulator` here replaces
conftest's in those modules: same server for the whole module, knobs and log reset per test.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from PIL import Image, ImageStat

from studio.emulator import EmulatorConfig, RunningEmulator, start_emulator
from studio.task import parse_task

KEY = "sk-emulator-test-5f0c2b7e9a"
POLL_DEADLINE = 15.0


def quick_config() -> EmulatorConfig:
    return EmulatorConfig(estimated_time=0.3, seed=7, api_key=KEY)


@pytest.fixture(scope="module", name="shared_emulator")
def shared_emulator_fixture() -> Iterator[RunningEmulator]:
    # One server for the module: stopping uvicorn takes a fifth of a second each time.
    with start_emulator(quick_config()) as running:
        yield running


@pytest.fixture(name="emulator")
def emulator_fixture(shared_emulator: RunningEmulator) -> RunningEmulator:
    shared_emulator.config = quick_config()
    shared_emulator.log.clear()
    return shared_emulator


@pytest.fixture(name="client")
def client_fixture(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with api_client(emulator.base_url) as http:
        yield http


def api_client(base_url: str, key: str | None = KEY) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=10, trust_env=False)


def generation(**fields: Any) -> dict[str, Any]:
    return {"model": "grok-imagine-image", "prompt": "a lighthouse at dusk", **fields}


def submit(client: httpx.Client, **fields: Any) -> str:
    response = client.post("/v1/images/generations", json=generation(**fields))
    assert response.status_code == 200, response.text
    return response.json()["id"]


def is_final(answer: dict[str, Any]) -> bool:
    """Whether the client would stop polling: succeeded (with URLs) or failed."""
    task = parse_task(answer)
    return task.succeeded or task.failed


def poll_until(
    client: httpx.Client, task_id: str, done: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Every answer up to and including the first that satisfies `done`."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + POLL_DEADLINE
    while time.monotonic() < deadline:
        response = client.get(f"/v1/tasks/{task_id}")
        assert response.status_code == 200, response.text
        seen.append(response.json())
        if done(seen[-1]):
            return seen
        time.sleep(0.03)
    raise AssertionError(f"task never got there; last answer: {seen[-1]}")


def finish(client: httpx.Client, task_id: str) -> dict[str, Any]:
    return poll_until(client, task_id, is_final)[-1]


def fetch_image(url: str) -> tuple[httpx.Response, Image.Image]:
    response = httpx.get(url, timeout=10, trust_env=False)
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return response, image


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def half_black_half_white(size: tuple[int, int] = (600, 400)) -> Image.Image:
    image = Image.new("RGB", size, "white")
    image.paste((0, 0, 0), (0, 0, size[0] // 2, size[1]))
    return image


def mean_brightness(image: Image.Image, box: tuple[int, int, int, int]) -> float:
    return ImageStat.Stat(image.convert("L").crop(box)).mean[0]


def upload(client: httpx.Client, data: bytes, name: str = "photo.png") -> dict[str, Any]:
    response = client.post("/v1/files/upload/stream", files={"file": (name, data)})
    assert response.status_code == 200, response.text
    return response.json()
