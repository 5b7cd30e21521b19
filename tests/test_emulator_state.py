"""What every route shares: reading a JSON body the way FoxAPI does."""

from __future__ import annotations

import httpx

from tests.emulator_support import (  # noqa: F401 (fixtures, used by name)
    client_fixture,
    emulator_fixture,
    shared_emulator_fixture,
)


def test_a_body_that_is_not_json_is_a_400(client: httpx.Client) -> None:
    response = client.post(
        "/v1/images/generations", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert set(response.json()["error"]) >= {"message", "type"}


def test_a_body_sent_as_a_form_is_a_400_asking_for_json(client: httpx.Client) -> None:
    response = client.post("/v1/images/generations", data={"prompt": "a fox"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_content_type"
