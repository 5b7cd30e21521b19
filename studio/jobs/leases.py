"""Who holds a job's lease: each engine's name, and which holders have gone.

A name is `host:pid:random`, so an engine on the same machine can tell that the process
behind a lease has died and take its jobs at once rather than waiting for the lease.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable


def engine_name() -> str:
    """A new name for an engine of this process, unique across its restarts."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def dead_owners(owners: Iterable[str]) -> set[str]:
    """Those of `owners` on this machine whose process has gone: their jobs are free."""
    host = socket.gethostname()
    dead = set()
    for owner in owners:
        owner_host, _, rest = owner.partition(":")
        pid = rest.partition(":")[0]
        if owner_host == host and pid.isdigit() and not _process_alive(int(pid)):
            dead.add(owner)
    return dead


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
