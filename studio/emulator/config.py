"""The emulator's knobs and its request log."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

# Knobs fixed when the emulator starts: patching them on a running one would mean nothing.
STARTUP_ONLY = frozenset({"state_dir", "seed"})
DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024


@dataclass
class EmulatorConfig:
    """How the emulator behaves. A running emulator reads these live, so tests may change them."""

    estimated_time: float = 6.0
    duration_spread: float = 0.4
    # Exact durations in seconds for the next tasks, taken in the order tasks are created;
    # once it runs out the spread decides again. Benchmarks use it for a workload they know.
    duration_plan: list[float] = field(default_factory=list)
    failure_rate: float = 0.0
    rate_limit_rate: float = 0.0
    server_error_rate: float = 0.0
    fail_next_tasks: int = 0
    rate_limit_next_submits: int = 0
    server_error_next_polls: int = 0
    quirk_seconds: float = 0.0
    legacy_shape: bool = False
    balance: int | None = None
    api_key: str | None = field(default=None, repr=False)
    result_ttl: float = 86400.0
    state_dir: Path | None = None
    seed: int | None = None
    # Beyond the agreed knobs: the edge's 413 limit and a full upload store (403).
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    upload_store_full: bool = False

    def public_view(self) -> dict[str, Any]:
        """Every knob as JSON, with only whether a key is set, never the key."""
        view = {item.name: getattr(self, item.name) for item in fields(self)}
        view["api_key"] = None
        view["api_key_set"] = self.api_key is not None
        view["state_dir"] = str(self.state_dir) if self.state_dir is not None else None
        return view

    def apply_patch(self, patch: Any) -> None:
        """Set knobs from a JSON object; on a bad one raise ValueError naming it, changing none."""
        if not isinstance(patch, dict):
            raise ValueError("Send a JSON object of knob names and values.")
        known = {item.name: item for item in fields(self)}
        checked: dict[str, Any] = {}
        for name, value in patch.items():
            if name not in known:
                raise ValueError(f"{name}: there is no such knob.")
            if name in STARTUP_ONLY:
                raise ValueError(f"{name}: fixed when the emulator starts.")
            checked[name] = _check_knob(name, value, getattr(self, name))
        for name, value in checked.items():
            setattr(self, name, value)


def _check_knob(name: str, value: Any, current: Any) -> Any:
    nullable = name in ("balance", "api_key")
    if value is None and nullable:
        return None
    if name == "api_key":
        if not isinstance(value, str) or not value:
            raise ValueError("api_key: must be a non-empty string or null.")
        return value
    if name == "duration_plan":
        if not isinstance(value, list):
            raise ValueError("duration_plan: must be a list of seconds.")
        return [float(_check_number(name, seconds)) for seconds in value]
    if name in ("legacy_shape", "upload_store_full"):
        if not isinstance(value, bool):
            raise ValueError(f"{name}: must be true or false.")
        return value
    value = _check_number(name, value)
    if isinstance(current, int) or name == "balance":
        if value != int(value):
            raise ValueError(f"{name}: must be a whole number.")
        return int(value)
    return float(value)


def _check_number(name: str, value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name}: must be a number.")
    if value < 0:
        raise ValueError(f"{name}: must not be negative.")
    return value


@dataclass
class LoggedRequest:
    """One request as the emulator received it. The authorization value is never kept."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    has_authorization: bool
    body: Any = None
    status: int | None = None
    received_at: float = field(default_factory=time.time)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
