"""Lease holders: an engine's name, and which holders on this machine have gone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from studio.jobs.leases import dead_owners, engine_name


def test_names_are_this_host_and_process_and_never_repeat() -> None:
    first, second = engine_name(), engine_name()
    assert first.startswith(f"{socket.gethostname()}:{os.getpid()}:")
    assert first != second


def test_only_holders_on_this_machine_whose_process_ended_are_dead() -> None:
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    gone = f"{socket.gethostname()}:{ended.stdout.strip()}:abcd1234"
    alive = engine_name()
    elsewhere = f"another-host.example:{ended.stdout.strip()}:abcd1234"
    assert dead_owners([gone, alive, elsewhere, "not-a-name"]) == {gone}
