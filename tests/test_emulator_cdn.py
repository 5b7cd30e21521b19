"""The emulator's CDN: results and uploads served without a key, for as long as they live."""

from __future__ import annotations

import httpx
import pytest

from studio.emulator import RunningEmulator
from tests.emulator_support import (  # noqa: F401 (fixtures, used by name)
    client_fixture,
    emulator_fixture,
    fetch_image,
    finish,
    half_black_half_white,
    png_bytes,
    shared_emulator_fixture,
    submit,
    upload,
)


def test_result_links_need_no_key(client: httpx.Client) -> None:
    final = finish(client, submit(client))

    fetch_image(final["results"][0]["url"])


def test_result_links_expire_after_the_ttl(client: httpx.Client, emulator: RunningEmulator) -> None:
    url = finish(client, submit(client))["results"][0]["url"]
    fetch_image(url)

    emulator.config.result_ttl = 0
    expired = httpx.get(url, trust_env=False)

    assert expired.status_code == 404
    assert expired.json()["error"]["code"] == "expired"


def test_a_result_is_the_same_picture_each_time(client: httpx.Client) -> None:
    url = finish(client, submit(client, output_format="png"))["results"][0]["url"]

    first, second = (httpx.get(url, trust_env=False) for _ in range(2))

    assert first.content == second.content


@pytest.mark.parametrize(
    "wrong", ["/0.png", "/1.jpeg", "/../0.jpeg"], ids=["format", "index", "traversal"]
)
def test_a_result_address_that_names_no_result_is_404(
    client: httpx.Client, emulator: RunningEmulator, wrong: str
) -> None:
    task_id = submit(client)
    finish(client, task_id)

    response = httpx.get(f"{emulator.base_url}/cdn/results/{task_id}{wrong}", trust_env=False)

    assert response.status_code == 404


def test_an_upload_is_served_only_under_its_own_name(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    uploaded = upload(client, png_bytes(half_black_half_white((8, 8))), "tile.png")

    renamed = uploaded["url"].replace("tile.png", "other.png")

    assert httpx.get(uploaded["url"], trust_env=False).status_code == 200
    assert httpx.get(renamed, trust_env=False).status_code == 404
