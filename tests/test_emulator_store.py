"""What the emulator remembers across a restart, given a state folder."""

from __future__ import annotations

from pathlib import Path

import httpx

from studio.emulator import EmulatorConfig, start_emulator
from studio.request import RATIO_PIXELS
from studio.task import parse_task
from tests.emulator_support import (
    KEY,
    api_client,
    fetch_image,
    finish,
    half_black_half_white,
    png_bytes,
    submit,
)


def test_a_restarted_emulator_on_a_new_port_still_knows_tasks_and_uploads(
    tmp_path: Path,
) -> None:
    config = EmulatorConfig(estimated_time=0.3, api_key=KEY, state_dir=tmp_path)
    with start_emulator(config) as first, api_client(first.base_url) as http:
        upload = http.post(
            "/v1/files/upload/stream",
            files={"file": ("photo.png", png_bytes(half_black_half_white()))},
        ).json()
        finished_id = submit(http, prompt="harbour at noon", output_format="webp")
        url = finish(http, finished_id)["results"][0]["url"]
        drawn = httpx.get(url, trust_env=False).content
        unfinished_id = submit(http, prompt="still drawing")

    restarted_config = EmulatorConfig(estimated_time=0.3, api_key=KEY, state_dir=tmp_path)
    with start_emulator(restarted_config) as second, api_client(second.base_url) as http:
        again = http.get(f"/v1/tasks/{finished_id}").json()
        assert again["results"][0]["url"].startswith(second.base_url)
        assert httpx.get(again["results"][0]["url"], trust_env=False).content == drawn
        assert parse_task(finish(http, unfinished_id)).succeeded

        moved_upload = upload["url"].replace(first.base_url, second.base_url)
        assert httpx.get(moved_upload, trust_env=False).status_code == 200
        # The edit names the upload by its old address; it is still this emulator's upload.
        edit = finish(http, submit(http, image_urls=[upload["url"]]))
        assert parse_task(edit).succeeded
        # Drawn from the upload (3:2), not from the placeholder for inputs elsewhere (1:1).
        _, edited = fetch_image(edit["results"][0]["url"])
        assert edited.size == RATIO_PIXELS["3:2"]
