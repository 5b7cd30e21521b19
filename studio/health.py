"""`/healthz`: what a load balancer polls to know whether this server can do its work.

200 `{"status": "ok"}` when every part answers; 503 with each failing part and a short
reason otherwise. Reasons name the part, not its address: the page is public, so the
details (host, driver's words) go to the server's log, once each time a part fails.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from studio.db.database import DatabaseError, DatabaseTooNew

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
DATABASE_DOWN = "the database does not answer"
DATABASE_TOO_NEW = "the database was upgraded by a newer version of the studio"
STORAGE_DOWN = "the image storage cannot be read or written"
NOT_STARTED = "the studio could not start"


@dataclass(frozen=True)
class Health:
    problems: dict[str, str]  # part -> why it fails

    @property
    def ok(self) -> bool:
        return not self.problems


def check_parts(parts: Mapping[str, Callable[[], None]]) -> Health:
    """Run each part's check (it raises, saying why, when the part is unwell)."""
    problems: dict[str, str] = {}
    for name, part_check in parts.items():
        try:
            part_check()
        except Exception as exc:
            problems[name] = _reason(exc)
            _log_problem(name, exc)
        else:
            _log_recovery(name)
    return Health(problems)


class HasHealth(Protocol):
    """What the route polls: the studio's door (studio.service), which imports this module."""

    def health(self) -> Health: ...


def route(service: Callable[[], HasHealth]) -> Route:
    """The health route, reaching the studio through `service` on each poll."""

    def healthz(_request: Request) -> Response:
        try:
            health = service().health()
        except Exception as exc:  # the studio could not even open: say so, never a 500
            _log_problem("studio", exc)
            health = Health({"studio": f"{NOT_STARTED}: {_reason(exc)}"})
        body: dict[str, object] = {"status": "ok" if health.ok else "unavailable"}
        if not health.ok:
            body["problems"] = health.problems
        return JSONResponse(
            body, status_code=200 if health.ok else 503, headers={"Cache-Control": "no-store"}
        )

    return Route(HEALTH_PATH, healthz, methods=["GET", "HEAD"])


def _reason(problem: Exception) -> str:
    if isinstance(problem, DatabaseTooNew):
        return DATABASE_TOO_NEW
    if isinstance(problem, DatabaseError):
        return DATABASE_DOWN
    if isinstance(problem, OSError):  # the storage's errors, the data folder's included
        return STORAGE_DOWN
    return "an unexpected error (see the server log)"


_failing: set[str] = set()
_failing_lock = threading.Lock()


def _log_problem(part: str, problem: Exception) -> None:
    with _failing_lock:
        first = part not in _failing
        _failing.add(part)
    if first:
        detail = problem.message if isinstance(problem, DatabaseError) else repr(problem)
        log.warning("Health check: %s is failing: %s", part, detail)


def _log_recovery(part: str) -> None:
    with _failing_lock:
        was_failing = part in _failing
        _failing.discard(part)
    if was_failing:
        log.warning("Health check: %s answers again.", part)
