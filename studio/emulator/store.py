"""What the emulator remembers: tasks, uploads and drawn results, in memory and optionally on disk.

Records are written once and never changed: a task's state is derived from its creation
time and duration, so a restarted emulator with the same `state_dir` answers for it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

TASK_ID_PATTERN = re.compile(r"task-unified-\d+-[a-z0-9]{8}")
FILE_ID_PATTERN = re.compile(r"file-[a-z0-9]{16}")
RESULT_CACHE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class TaskRecord:
    id: str
    created_at: float
    duration: float
    estimated_time: float
    prompt: str
    num_outputs: int
    output_format: str | None
    width: int
    height: int
    image_urls: tuple[str, ...]
    input_file_id: str | None
    # Set when the task is to end `failed`: decided at submission, like the outcome upstream.
    failure_message: str | None

    @property
    def created(self) -> int:
        return int(self.created_at)

    @property
    def finished_at(self) -> float:
        return self.created_at + self.duration

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskRecord:
        return cls(**{**data, "image_urls": tuple(data["image_urls"])})


@dataclass(frozen=True)
class UploadRecord:
    id: str
    filename: str
    size: int
    created: int
    content_type: str
    # Inputs the emulator fetched for an edit are kept like uploads but were not uploaded.
    internal: bool = False


class EmulatorStore:
    """Tasks and uploads by id, plus a bounded in-memory cache of drawn results."""

    def __init__(self, state_dir: Path | None) -> None:
        self._state_dir = state_dir
        self._tasks: dict[str, TaskRecord] = {}
        self._uploads: dict[str, UploadRecord] = {}
        self._upload_bytes: dict[str, bytes] = {}
        self._results: OrderedDict[str, bytes] = OrderedDict()
        self._results_size = 0
        self._lock = threading.Lock()
        if state_dir is not None:
            for folder in ("tasks", "uploads", "results"):
                (state_dir / folder).mkdir(parents=True, exist_ok=True)

    def add_task(self, task: TaskRecord) -> None:
        with self._lock:
            self._tasks[task.id] = task
        if self._state_dir is not None:
            _write_atomic(
                self._state_dir / "tasks" / f"{task.id}.json", json.dumps(asdict(task)).encode()
            )

    def has_task(self, task_id: str) -> bool:
        return self.get_task(task_id) is not None

    def get_task(self, task_id: str) -> TaskRecord | None:
        with self._lock:
            task = self._tasks.get(task_id)
        if task is not None or self._state_dir is None or not TASK_ID_PATTERN.fullmatch(task_id):
            return task
        path = self._state_dir / "tasks" / f"{task_id}.json"
        if not path.is_file():
            return None
        task = TaskRecord.from_json(json.loads(path.read_text()))
        with self._lock:
            self._tasks[task_id] = task
        return task

    def add_upload(self, upload: UploadRecord, data: bytes) -> None:
        if self._state_dir is None:
            with self._lock:
                self._uploads[upload.id] = upload
                self._upload_bytes[upload.id] = data
            return
        # With a state folder the disk holds the bytes: a long-running demo stays small.
        folder = self._state_dir / "uploads"
        _write_atomic(folder / f"{upload.id}.bin", data)
        _write_atomic(folder / f"{upload.id}.json", json.dumps(asdict(upload)).encode())

    def get_upload(self, file_id: str) -> tuple[UploadRecord, bytes] | None:
        if self._state_dir is None:
            with self._lock:
                upload = self._uploads.get(file_id)
                return None if upload is None else (upload, self._upload_bytes[file_id])
        if not FILE_ID_PATTERN.fullmatch(file_id):
            return None
        folder = self._state_dir / "uploads"
        meta = folder / f"{file_id}.json"
        if not meta.is_file():
            return None
        return UploadRecord(**json.loads(meta.read_text())), (
            folder / f"{file_id}.bin"
        ).read_bytes()

    def cached_result(self, task_id: str, name: str) -> bytes | None:
        key = f"{task_id}/{name}"
        with self._lock:
            data = self._results.get(key)
            if data is not None:
                self._results.move_to_end(key)
                return data
        if self._state_dir is None:
            return None
        path = self._state_dir / "results" / task_id / name
        return path.read_bytes() if path.is_file() else None

    def cache_result(self, task_id: str, name: str, data: bytes) -> None:
        key = f"{task_id}/{name}"
        with self._lock:
            if key not in self._results:
                self._results[key] = data
                self._results_size += len(data)
            # Drawings are deterministic, so an evicted one is simply drawn again.
            while self._results_size > RESULT_CACHE_BYTES and len(self._results) > 1:
                _, evicted = self._results.popitem(last=False)
                self._results_size -= len(evicted)
        if self._state_dir is not None:
            folder = self._state_dir / "results" / task_id
            folder.mkdir(parents=True, exist_ok=True)
            _write_atomic(folder / name, data)


def _write_atomic(path: Path, data: bytes) -> None:
    # A reader (or a restarted emulator) sees the whole file or none of it.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
