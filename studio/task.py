"""FoxAPI's task, read from either documented response shape into one model."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from studio.errors import UnexpectedResponse


class TaskStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Task:
    id: str
    status: TaskStatus
    progress: int = 0
    result_urls: tuple[str, ...] = ()
    error_code: str | None = None
    error_message: str | None = None
    credits_reserved: float | None = None
    estimated_time: float | None = None
    created: int | None = None

    @property
    def succeeded(self) -> bool:
        # A task can briefly read `completed` with no results: that is not final.
        return self.status is TaskStatus.COMPLETED and bool(self.result_urls)

    @property
    def failed(self) -> bool:
        return self.status in (TaskStatus.FAILED, TaskStatus.CANCELLED)

    def first(self, count: int) -> Task:
        """This task with no more than its first `count` results (FoxAPI can send more)."""
        return replace(self, result_urls=self.result_urls[:count])


def parse_task(data: Any) -> Task:
    """Read a task from the current shape (`results`, `usage`) or the older one (`output`)."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise UnexpectedResponse("FoxAPI sent a task without an id.")
    try:
        status = TaskStatus(str(data.get("status", "")).lower())
    except ValueError:
        raise UnexpectedResponse(
            f"FoxAPI reported an unknown task status “{data.get('status')}”."
        ) from None
    error, task_info, usage = (_object(data.get(name)) for name in ("error", "task_info", "usage"))
    return Task(
        id=data["id"],
        status=status,
        progress=_clamp_progress(data.get("progress")),
        result_urls=_result_urls(data),
        error_code=_text(error.get("code")),
        error_message=_text(error.get("message")),
        credits_reserved=_number(usage.get("credits_reserved")),
        estimated_time=_number(task_info.get("estimated_time")),
        created=int(data["created"]) if isinstance(data.get("created"), int | float) else None,
    )


def _object(value: Any) -> dict[str, Any]:
    """A JSON object as a dict; anything else (missing, null, a list) as an empty one."""
    return value if isinstance(value, dict) else {}


def _result_urls(data: dict[str, Any]) -> tuple[str, ...]:
    results = data.get("results")
    if isinstance(results, list):
        urls = [item.get("url") for item in results if isinstance(item, dict)]
        return tuple(url for url in urls if isinstance(url, str) and url)
    output = data.get("output")
    if isinstance(output, dict):
        listed = output.get("urls")
        if isinstance(listed, list) and listed:
            return tuple(url for url in listed if isinstance(url, str) and url)
        if isinstance(output.get("url"), str) and output["url"]:
            return (output["url"],)
    return ()


def _clamp_progress(value: Any) -> int:
    number = _number(value)
    return 0 if number is None else max(0, min(100, int(number)))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
