"""The local FoxAPI emulator, served for real by uvicorn and spoken to over HTTP."""

from __future__ import annotations

import base64
import io
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageStat

from studio.emulator import EmulatorConfig, RunningEmulator, start_emulator
from studio.emulator.app import task_payload
from studio.emulator.drawing import draw_generated, encode
from studio.emulator.store import TaskRecord
from studio.request import RATIO_PIXELS, GenerationRequest
from studio.task import TaskStatus, parse_task

KEY = "sk-emulator-test-5f0c2b7e9a"
TASK_ID = re.compile(r"task-unified-\d+-[a-z0-9]{8}")
POLL_DEADLINE = 15.0


def quick_config() -> EmulatorConfig:
    return EmulatorConfig(estimated_time=0.3, seed=7, api_key=KEY)


@pytest.fixture(scope="module")
def shared_emulator() -> Iterator[RunningEmulator]:
    # One server for the module: stopping uvicorn takes a fifth of a second each time.
    with start_emulator(quick_config()) as running:
        yield running


@pytest.fixture
def emulator(shared_emulator: RunningEmulator) -> RunningEmulator:
    shared_emulator.config = quick_config()
    shared_emulator.log.clear()
    return shared_emulator


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[httpx.Client]:
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
    return poll_until(client, task_id, lambda answer: parse_task(answer).is_final)[-1]


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


# -- the generation schema ---------------------------------------------------------------


def test_an_unknown_field_is_refused_with_422_naming_it(client: httpx.Client) -> None:
    response = client.post("/v1/images/generations", json=generation(seed=42))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "unsupported_advanced_options"
    assert "seed" in error["message"]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"aspect_ratio": "5:4"}, "aspect_ratio"),
        ({"num_outputs": 5}, "num_outputs"),
        ({"num_outputs": 0}, "num_outputs"),
        ({"num_outputs": "2"}, "num_outputs"),
        ({"output_format": "gif"}, "output_format"),
        ({"model": "dall-e-3"}, "model"),
        ({"prompt": "   "}, "prompt"),
        ({"image_urls": ["http://127.0.0.1/a.png"] * 4}, "image_urls"),
        ({"image_urls": ["file:///etc/passwd"]}, "image_urls"),
        ({"image_urls": ["http://127.0.0.1/a.png"], "aspect_ratio": "1:1"}, "aspect_ratio"),
    ],
)
def test_an_invalid_value_is_refused_with_422_naming_the_field(
    client: httpx.Client, fields: dict[str, Any], named: str
) -> None:
    response = client.post("/v1/images/generations", json=generation(**fields))

    assert response.status_code == 422
    assert named in response.json()["error"]["message"]
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_a_body_that_is_not_json_is_a_400(client: httpx.Client) -> None:
    response = client.post(
        "/v1/images/generations", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert set(response.json()["error"]) >= {"message", "type"}


def test_the_studio_request_body_is_accepted_as_is(client: httpx.Client) -> None:
    body = GenerationRequest.build(prompt="a fox", num_outputs=4, aspect_ratio="20:9").body()

    assert client.post("/v1/images/generations", json=body).status_code == 200


# -- the task lifecycle ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "output_format", "pil_format", "media_type"),
    [
        (None, None, "JPEG", "image/jpeg"),
        ("16:9", "png", "PNG", "image/png"),
        ("9:16", "webp", "WEBP", "image/webp"),
        ("3:2", "jpg", "JPEG", "image/jpeg"),
    ],
)
def test_a_generation_completes_with_images_of_the_documented_size_and_format(
    client: httpx.Client,
    ratio: str | None,
    output_format: str | None,
    pil_format: str,
    media_type: str,
) -> None:
    fields: dict[str, Any] = {"num_outputs": 2}
    if ratio is not None:
        fields["aspect_ratio"] = ratio
    if output_format is not None:
        fields["output_format"] = output_format
    answer = client.post("/v1/images/generations", json=generation(**fields)).json()

    assert answer["status"] == "pending"
    assert answer["progress"] == 0
    assert answer["object"] == "image.generation.task"
    assert TASK_ID.fullmatch(answer["id"])
    assert answer["task_info"]["estimated_time"] == 0.3

    seen = poll_until(client, answer["id"], lambda task: parse_task(task).is_final)
    order = [TaskStatus.PENDING, TaskStatus.PROCESSING, TaskStatus.COMPLETED]
    statuses = [parse_task(task).status for task in seen]
    assert statuses == sorted(statuses, key=order.index)
    progress = [task["progress"] for task in seen]
    assert progress == sorted(progress)
    final = seen[-1]
    assert parse_task(final).succeeded
    assert final["usage"]["credits_reserved"] == 2
    assert len(final["results"]) == 2

    pictures = []
    for result in final["results"]:
        response, image = fetch_image(result["url"])
        assert response.headers["content-type"] == media_type
        assert image.format == pil_format
        assert image.size == RATIO_PIXELS[ratio or "1:1"]
        pictures.append(response.content)
    assert pictures[0] != pictures[1]


def test_status_and_progress_follow_the_elapsed_share_of_the_duration() -> None:
    task = TaskRecord(
        id="task-unified-1757165031-uyujaw3d",
        created_at=1000.0,
        duration=10.0,
        estimated_time=6.0,
        prompt="p",
        num_outputs=1,
        output_format=None,
        width=1024,
        height=1024,
        image_urls=(),
        input_file_id=None,
        failure_message=None,
    )
    config = EmulatorConfig()

    def read(at: float) -> dict[str, Any]:
        return task_payload(task, now=1000.0 + at, config=config, base_url="http://h")

    assert (read(0.5)["status"], read(0.5)["progress"]) == ("pending", 0)
    assert (read(5.0)["status"], read(5.0)["progress"]) == ("processing", 50)
    assert read(9.9)["progress"] < 100
    done = read(10.0)
    assert (done["status"], done["progress"]) == ("completed", 100)
    assert done["results"] == [{"url": f"http://h/cdn/results/{task.id}/0.jpeg"}]
    assert done["task_info"] == {"can_cancel": False, "estimated_time": 6}


def test_result_urls_use_the_host_the_poll_came_in_on(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    task_id = submit(client)
    finish(client, task_id)

    answer = client.get(f"/v1/tasks/{task_id}", headers={"Host": "studio.test:9999"}).json()

    assert answer["results"][0]["url"].startswith("http://studio.test:9999/cdn/results/")


def test_the_legacy_shape_reports_output_and_task_info(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    emulator.config.legacy_shape = True
    task_id = submit(client, aspect_ratio="2:1", num_outputs=2)

    final = finish(client, task_id)

    assert "results" not in final
    assert "usage" not in final
    assert (final["output"]["width"], final["output"]["height"]) == RATIO_PIXELS["2:1"]
    assert final["output"]["url"] == final["output"]["urls"][0]
    assert parse_task(final).result_urls == tuple(final["output"]["urls"])
    _, image = fetch_image(final["output"]["urls"][1])
    assert image.size == RATIO_PIXELS["2:1"]


def test_completed_without_results_is_not_final_until_the_urls_arrive(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    emulator.config.quirk_seconds = 3600
    task_id = submit(client)

    early = poll_until(client, task_id, lambda task: task["status"] == "completed")[-1]

    assert early["results"] is None
    assert early["progress"] < 100
    assert not parse_task(early).is_final

    emulator.config.quirk_seconds = 0
    later = client.get(f"/v1/tasks/{task_id}").json()
    assert parse_task(later).succeeded


def test_a_duration_plan_sets_the_next_tasks_durations_in_order(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    emulator.config.duration_plan = [3600.0, 0.2]
    slow = submit(client)
    quick = submit(client)
    unplanned = submit(client)

    assert parse_task(finish(client, quick)).succeeded
    assert parse_task(finish(client, unplanned)).succeeded
    assert client.get(f"/v1/tasks/{slow}").json()["status"] == "pending"
    assert emulator.config.duration_plan == []


@pytest.mark.parametrize("plan", [[5, -1], "45", [True], ["soon"]])
def test_a_duration_plan_that_is_not_a_list_of_seconds_is_refused(
    emulator: RunningEmulator, plan: Any
) -> None:
    control = f"{emulator.base_url}/_emulator/config"

    refused = httpx.post(control, json={"duration_plan": plan}, trust_env=False)
    accepted = httpx.post(control, json={"duration_plan": [27, 31.5]}, trust_env=False)

    assert refused.status_code == 422
    assert "duration_plan" in refused.json()["error"]["message"]
    assert accepted.json()["duration_plan"] == [27.0, 31.5]


# -- failures and faults -----------------------------------------------------------------


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


def test_an_unknown_task_is_404_not_found(client: httpx.Client) -> None:
    response = client.get("/v1/tasks/task-unified-1757165031-aaaaaaaa")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


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


# -- the key -----------------------------------------------------------------------------


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


def test_result_links_need_no_key(client: httpx.Client) -> None:
    final = finish(client, submit(client))

    fetch_image(final["results"][0]["url"])


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


# -- uploads and edits -------------------------------------------------------------------


def test_an_uploaded_image_is_served_and_an_edit_is_derived_from_it(
    client: httpx.Client,
) -> None:
    original = png_bytes(half_black_half_white())
    upload = client.post(
        "/v1/files/upload/stream",
        files={"file": ("My Photo.png", original, "image/png")},
        data={"auto_cleanup": "true"},
    ).json()

    assert upload["id"].startswith("file-")
    assert upload["size"] == len(original)
    served = httpx.get(upload["url"], trust_env=False)
    assert served.content == original
    assert served.headers["content-type"] == "image/png"

    task_id = submit(client, prompt="make it dusk", image_urls=[upload["url"]], output_format="png")
    final = finish(client, task_id)
    assert parse_task(final).succeeded
    _, edited = fetch_image(final["results"][0]["url"])

    width, height = RATIO_PIXELS["3:2"]
    assert edited.size == (width, height)
    left = mean_brightness(edited, (0, 0, width // 4, height // 2))
    right = mean_brightness(edited, (width * 3 // 4, 0, width, height // 2))
    assert right - left > 80


def test_base64_and_url_uploads_store_the_same_bytes(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    original = png_bytes(half_black_half_white((64, 64)))
    by_base64 = client.post(
        "/v1/files/upload/base64",
        json={"file_data": base64.b64encode(original).decode(), "file_name": "tile.png"},
    ).json()
    by_url = client.post(
        "/v1/files/upload/url", json={"url": by_base64["url"], "auto_cleanup": False}
    ).json()

    assert by_base64["filename"] == "tile.png"
    assert by_url["id"] != by_base64["id"]
    assert httpx.get(by_url["url"], trust_env=False).content == original
    assert emulator.log[0].body["file_data"].endswith("base64 characters>")


@pytest.mark.parametrize(
    ("route", "body", "named"),
    [
        ("url", {"url": "https://example.com/cat.png"}, "url"),
        ("url", {"url": "http://10.0.0.5/cat.png"}, "url"),
        ("base64", {"file_data": "not base64!"}, "file_data"),
        ("base64", {"file_data": "aGk=", "auto_cleanup": "maybe"}, "auto_cleanup"),
    ],
)
def test_uploads_refuse_what_they_cannot_take(
    client: httpx.Client, route: str, body: dict[str, Any], named: str
) -> None:
    response = client.post(f"/v1/files/upload/{route}", json=body)

    assert response.status_code == 422
    assert named in response.json()["error"]["message"]


def test_an_edit_of_an_image_the_emulator_cannot_reach_fails_and_says_so(
    client: httpx.Client,
) -> None:
    final = finish(client, submit(client, image_urls=["https://example.com/cat.png"]))

    assert final["status"] == "failed"
    assert final["error"]["code"] == "generation_failed"
    assert "upload" in final["error"]["message"].lower()


def test_oversized_bodies_get_413_with_an_html_page(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    emulator.config.max_upload_bytes = 1000

    response = client.post("/v1/files/upload/stream", files={"file": ("big.bin", b"x" * 5000)})

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")


def test_a_full_store_refuses_uploads_that_are_not_cleaned_up(
    client: httpx.Client, emulator: RunningEmulator
) -> None:
    emulator.config.upload_store_full = True
    files = {"file": ("a.png", png_bytes(half_black_half_white((8, 8))))}

    kept = client.post("/v1/files/upload/stream", files=files, data={"auto_cleanup": "false"})
    cleaned = client.post("/v1/files/upload/stream", files=files)

    assert kept.status_code == 403
    assert cleaned.status_code == 200


# -- results over time, restarts, remote control -----------------------------------------


def test_result_links_expire_after_the_ttl(client: httpx.Client, emulator: RunningEmulator) -> None:
    url = finish(client, submit(client))["results"][0]["url"]
    fetch_image(url)

    emulator.config.result_ttl = 0
    expired = httpx.get(url, trust_env=False)

    assert expired.status_code == 404
    assert expired.json()["error"]["code"] == "expired"


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
    assert refused.status_code == 422
    assert "warp_speed" in refused.json()["error"]["message"]
    assert finish(client, task_id)["status"] == "failed"
    assert [entry["path"] for entry in log] == ["/v1/images/generations"]


# -- drawing -----------------------------------------------------------------------------


@pytest.mark.parametrize("ratio", list(RATIO_PIXELS))
def test_every_ratio_is_drawn_at_its_documented_size(ratio: str) -> None:
    assert draw_generated("a quiet bay", 0, RATIO_PIXELS[ratio]).size == RATIO_PIXELS[ratio]


def test_drawings_differ_by_prompt_and_index_and_repeat_exactly() -> None:
    size = (256, 256)

    def picture(prompt: str, index: int) -> bytes:
        return encode(draw_generated(prompt, index, size), "png")

    assert picture("a quiet bay", 0) == picture("a quiet bay", 0)
    assert picture("a quiet bay", 0) != picture("a quiet bay", 1)
    assert picture("a quiet bay", 0) != picture("a loud city", 0)
