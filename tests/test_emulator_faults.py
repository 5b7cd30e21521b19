"""Faults switched on through the knobs (401, 402, 429, 502, failed tasks) and the control plane."""

from __future__ import annotations

import httpx
import pytest

from studio.emulator import RunningEmulator
from studio.task import parse_task
from tests.emulator_support import (  # noqa: F401 (fixtures, used by name)
    KEY,
    api_client,
    client_fixture,
    emulator_fixture,
    finish,
    generation,
    shared_emulator_fixture,
    submit,
)


def test_failed_tasks_say_why_and_serve_no_images(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    emulator.config.fail_next_tasks = 1
    doomed = submit(client)
    fine = submit(client)

    failed = finish(client, doomed)

    assert failed["status"] == "failed"
    assert failed["results"] is None
    assert failed["error"] == {
        "code": "generation_failed",
        "message": "The prompt was refused by the content policy.",
        "type": "task_error",
    }
    assert parse_task(finish(client, fine)).succeeded
    guessed = httpx.get(f"{emulator.base_url}/cdn/results/{doomed}/0.jpeg", trust_env=False)
    assert guessed.status_code == 404


def test_a_failure_rate_of_one_fails_every_task_in_the_legacy_shape_too(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    emulator.config.failure_rate = 1.0
    emulator.config.legacy_shape = True

    failed = finish(client, submit(client))

    assert failed["status"] == "failed"
    assert failed["output"] is None
    assert failed["error"] == {
        "code": "generation_failed",
        "message": "The prompt was refused by the content policy.",
    }


def test_rate_limited_submits_answer_429_with_retry_after_and_create_nothing(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    emulator.config.rate_limit_next_submits = 2

    refused = [client.post("/v1/images/generations", json=generation()) for _ in range(2)]
    accepted = client.post("/v1/images/generations", json=generation())

    for response in refused:
        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"
        assert response.json()["error"]["type"] == "rate_limit_error"
    assert accepted.status_code == 200
    assert emulator.config.rate_limit_next_submits == 0


def test_server_errors_on_polls_answer_502_then_recover(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    task_id = submit(client)
    emulator.config.server_error_next_polls = 1

    first = client.get(f"/v1/tasks/{task_id}")
    second = client.get(f"/v1/tasks/{task_id}")

    assert first.status_code == 502
    assert set(first.json()["error"]) >= {"message", "type"}
    assert second.status_code == 200


def test_submits_past_the_balance_answer_402(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    emulator.config.balance = 3

    first = client.post("/v1/images/generations", json=generation(num_outputs=2))
    too_many = client.post("/v1/images/generations", json=generation(num_outputs=2))
    last = client.post("/v1/images/generations", json=generation(num_outputs=1))
    broke = client.post("/v1/images/generations", json=generation(num_outputs=1))

    assert [first.status_code, too_many.status_code, last.status_code] == [200, 402, 200]
    assert broke.status_code == 402
    assert broke.json()["error"]["code"] == "insufficient_quota"
    assert emulator.config.balance == 0


@pytest.mark.parametrize("key", [None, "sk-wrong-key-123456"])
def test_a_missing_or_wrong_key_gets_401_everywhere_under_v1(
    emulator: RunningEmulator, key: str | None
) -> None:
    with api_client(emulator.base_url, key) as stranger:
        answers = [
            stranger.post("/v1/images/generations", json=generation()),
            stranger.get("/v1/tasks/task-unified-1757165031-aaaaaaaa"),
            stranger.post("/v1/files/upload/stream", files={"file": ("a.png", b"x")}),
        ]

    for response in answers:
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authentication_error"
        assert "sk-wrong" not in response.text


def test_another_process_can_steer_the_emulator_and_read_its_log(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    control = f"{emulator.base_url}/_emulator"

    patched = httpx.post(f"{control}/config", json={"fail_next_tasks": 1}, trust_env=False)
    refused = httpx.post(f"{control}/config", json={"warp_speed": 9}, trust_env=False)
    task_id = submit(client)
    log = httpx.get(f"{control}/log", trust_env=False).json()

    assert patched.status_code == 200
    assert patched.json()["fail_next_tasks"] == 1
    assert patched.json()["api_key"] is None
    assert patched.json()["api_key_set"] is True
    assert KEY not in patched.text
    assert refused.status_code == 422
    assert "warp_speed" in refused.json()["error"]["message"]
    assert finish(client, task_id)["status"] == "failed"
    assert [entry["path"] for entry in log] == ["/v1/images/generations"]


def test_the_log_can_be_emptied_over_http(client: httpx.Client, emulator: RunningEmulator) -> None:
    submit(client)

    emptied = httpx.delete(f"{emulator.base_url}/_emulator/log", trust_env=False)

    assert emptied.json() == []
    assert emulator.log == []
