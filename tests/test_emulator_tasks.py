"""A task's life in the emulator: pending, processing, then completed or failed."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from studio.emulator import EmulatorConfig, RunningEmulator
from studio.emulator.store import TaskRecord
from studio.emulator.tasks import task_payload
from studio.request import RATIO_PIXELS
from studio.task import TaskStatus, parse_task
from tests.emulator_support import (  # noqa: F401 (fixtures, used by name)
    client_fixture,
    emulator_fixture,
    fetch_image,
    finish,
    generation,
    is_final,
    poll_until,
    shared_emulator_fixture,
    submit,
)

TASK_ID = re.compile(r"task-unified-\d+-[a-z0-9]{8}")


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

    seen = poll_until(client, answer["id"], is_final)
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
    assert not is_final(early)

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


def test_an_unknown_task_is_404_not_found(client: httpx.Client) -> None:
    response = client.get("/v1/tasks/task-unified-1757165031-aaaaaaaa")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
