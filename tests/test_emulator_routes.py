"""The emulator's routes: anything off the map is answered in FoxAPI's error shape."""

from __future__ import annotations

import httpx

from tests.emulator_support import (  # noqa: F401 (fixtures, used by name)
    client_fixture,
    emulator_fixture,
    shared_emulator_fixture,
)


def test_an_unknown_route_is_a_404_in_foxapis_shape(client: httpx.Client) -> None:
    response = client.get("/v1/models")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"message": "No such route.", "type": "invalid_request_error", "code": "not_found"}
    }


def test_a_wrong_method_is_refused_in_foxapis_shape(client: httpx.Client) -> None:
    response = client.get("/v1/images/generations")

    assert response.status_code == 405
    assert response.json()["error"]["type"] == "invalid_request_error"
