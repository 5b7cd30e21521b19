"""The emulator's request log (never the key) and the edge's 413 for oversized bodies."""

from __future__ import annotations

import json

import httpx

from studio.emulator import RunningEmulator
from tests.emulator_support import (  # noqa: F401 (fixtures, used by name)
    KEY,
    api_client,
    client_fixture,
    emulator_fixture,
    generation,
    shared_emulator_fixture,
    submit,
)


def test_the_log_records_requests_but_never_the_key(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    task_id = submit(client, num_outputs=2)
    client.get(f"/v1/tasks/{task_id}", params={"sync_upstream": "true"})
    with api_client(emulator.base_url, "sk-wrong-key-123456") as stranger:
        stranger.get(f"/v1/tasks/{task_id}", headers={"X-Api-Key": KEY})
    over_http = httpx.get(f"{emulator.base_url}/_emulator/log", trust_env=False)

    submitted, polled, refused = emulator.log[:3]
    assert (submitted.method, submitted.path, submitted.status) == (
        "POST",
        "/v1/images/generations",
        200,
    )
    assert submitted.body == generation(num_outputs=2)
    assert submitted.has_authorization
    assert "authorization" not in submitted.headers
    assert polled.query == {"sync_upstream": "true"}
    assert refused.status == 401
    recorded = json.dumps([entry.as_json() for entry in emulator.log])
    assert KEY not in recorded
    assert KEY not in over_http.text
    assert KEY not in repr(emulator.config)
    assert "sk-wrong-key" not in recorded
    assert len(over_http.json()) == len(emulator.log)


def test_an_upload_is_logged_by_name_and_size_not_its_bytes(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    client.post("/v1/files/upload/stream", files={"file": ("a.png", b"\x89PNG secret bytes")})

    (entry,) = emulator.log

    assert entry.body["file"]["filename"] == "a.png"
    assert entry.body["file"]["size"] == 17
    assert "secret bytes" not in json.dumps(entry.as_json())


def test_oversized_bodies_get_413_with_an_html_page(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    emulator.config.max_upload_bytes = 1000

    response = client.post("/v1/files/upload/stream", files={"file": ("big.bin", b"x" * 5000)})

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert emulator.log[-1].status == 413
