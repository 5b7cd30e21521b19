"""A task's life: submitted `pending`, then `processing`, then `completed` or `failed`.

Nothing moves a task along: its status at any moment follows from its creation time and
its duration, both fixed at submission (like whether it will fail). So a record is
written once, and a restarted emulator answers for it exactly as before.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from studio.emulator import drawing
from studio.emulator.cdn import result_url
from studio.emulator.config import EmulatorConfig
from studio.emulator.contract import (
    MODEL,
    TASK_ERROR_CODE,
    TASK_ERROR_TYPE,
    TASK_OBJECT,
    TaskStatus,
    not_found,
    validate_generation,
)
from studio.emulator.faults import (
    bill,
    planned_refusal,
    refuse_if_gateway_fails,
    refuse_if_rate_limited,
    require_key,
)
from studio.emulator.state import Emulator, base_url, emulator_of, read_json
from studio.emulator.store import TaskRecord
from studio.emulator.uploads import InputUnusable, edit_input

# The share of a task's duration it spends `pending` before it reads `processing`.
PENDING_SHARE = 0.1
CREDITS_PER_IMAGE = 1


async def submit_route(request: Request) -> Response:
    """`POST /v1/images/generations`: a task in `pending`, or FoxAPI's error."""
    emulator = emulator_of(request)
    require_key(emulator, request)
    refuse_if_rate_limited(emulator)
    spec = validate_generation(await read_json(request))
    bill(emulator, spec.num_outputs)
    size = drawing.result_size(spec.aspect_ratio)
    input_file_id: str | None = None
    failure: str | None = None
    if spec.image_urls:
        try:
            chosen = await edit_input(emulator, spec.image_urls, request)
            input_file_id, size = chosen.upload_id, chosen.size
        except InputUnusable as problem:
            failure = f"The input image could not be used: {problem}"
    if failure is None:
        failure = planned_refusal(emulator)
    now = time.time()
    task = TaskRecord(
        id=_new_task_id(emulator, now),
        created_at=now,
        duration=_next_duration(emulator),
        estimated_time=emulator.config.estimated_time,
        prompt=spec.prompt,
        num_outputs=spec.num_outputs,
        output_format=spec.output_format,
        width=size[0],
        height=size[1],
        image_urls=spec.image_urls,
        input_file_id=input_file_id,
        failure_message=failure,
    )
    emulator.store.add_task(task)
    return JSONResponse(
        {
            "created": task.created,
            "id": task.id,
            "model": MODEL,
            "object": TASK_OBJECT,
            "progress": 0,
            "status": TaskStatus.PENDING,
            "task_info": {"can_cancel": True, "estimated_time": _seconds(task.estimated_time)},
            "type": "image",
        }
    )


async def poll_route(request: Request) -> Response:
    """`GET /v1/tasks/{task_id}`: the task as it stands now, or 404 for an unknown id."""
    emulator = emulator_of(request)
    require_key(emulator, request)
    refuse_if_gateway_fails(emulator)
    task_id = request.path_params["task_id"]
    task = emulator.store.get_task(task_id)
    if task is None:
        raise not_found(f"Task {task_id} was not found.")
    return JSONResponse(
        task_payload(task, now=time.time(), config=emulator.config, base_url=base_url(request))
    )


def task_payload(
    task: TaskRecord, *, now: float, config: EmulatorConfig, base_url: str
) -> dict[str, Any]:
    """The task as FoxAPI reports it at `now`, in the shape `config.legacy_shape` selects."""
    elapsed = now - task.created_at
    results: list[str] | None = None
    error: dict[str, str] | None = None
    if elapsed < task.duration * PENDING_SHARE:
        status, progress = TaskStatus.PENDING, 0
    elif elapsed < task.duration:
        status = TaskStatus.PROCESSING
        progress = min(99, max(1, int(100 * elapsed / task.duration)))
    elif task.failure_message is not None:
        status, progress = TaskStatus.FAILED, 100
        error = {"code": TASK_ERROR_CODE, "message": task.failure_message}
    elif elapsed < task.duration + config.quirk_seconds:
        # FoxAPI's observed quirk: `completed` before the URLs are attached.
        status, progress = TaskStatus.COMPLETED, 99
    else:
        status, progress = TaskStatus.COMPLETED, 100
        results = [result_url(base_url, task, index) for index in range(task.num_outputs)]
    payload: dict[str, Any] = {
        "created": task.created,
        "id": task.id,
        "model": MODEL,
        "object": TASK_OBJECT,
        "progress": progress,
        "status": status.value,
        "task_info": {
            "can_cancel": status in (TaskStatus.PENDING, TaskStatus.PROCESSING),
            "estimated_time": _seconds(task.estimated_time),
        },
        "type": "image",
    }
    if config.legacy_shape:
        payload["output"] = (
            None
            if results is None
            else {"url": results[0], "urls": results, "width": task.width, "height": task.height}
        )
        payload["error"] = error
    else:
        payload["results"] = None if results is None else [{"url": url} for url in results]
        payload["error"] = None if error is None else {**error, "type": TASK_ERROR_TYPE}
        payload["usage"] = {
            "credits_reserved": task.num_outputs * CREDITS_PER_IMAGE,
            "user_group": "default",
        }
    return payload


def _next_duration(emulator: Emulator) -> float:
    """The next planned duration if a plan is set, else one drawn from the spread."""
    config = emulator.config
    if config.duration_plan:
        return config.duration_plan.pop(0)
    spread = min(max(config.duration_spread, 0.0), 1.0)
    return config.estimated_time * emulator.random.uniform(1 - spread, 1 + spread)


def _new_task_id(emulator: Emulator, now: float) -> str:
    while True:
        task_id = f"task-unified-{int(now)}-{emulator.random_suffix(8)}"
        if not emulator.store.has_task(task_id):
            return task_id


def _seconds(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
